"""A character-level tokenizer and a tiny Llama for real trainer steps on CPU (shared by the TRL tests)."""

from __future__ import annotations

CHARS = list("0123456789+-*=? abcdefghijklmnopqrstuvwxyz.:")


def char_tokenizer():
    """One token per character of :data:`CHARS`, plus ``<pad> <unk> <s> </s>``."""
    import transformers
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    specials = ["<pad>", "<unk>", "<s>", "</s>"]
    vocab = {t: i for i, t in enumerate(specials + CHARS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                                pad_token="<pad>", unk_token="<unk>")


def tiny_llama(tokenizer):
    """A 2-layer, 32-wide Llama over ``tokenizer``'s vocabulary."""
    import transformers

    config = transformers.LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                      max_position_embeddings=64, bos_token_id=tokenizer.bos_token_id,
                                      eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    return transformers.LlamaForCausalLM(config)
