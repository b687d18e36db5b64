"""Export a :class:`~rewardkit.core.ComposedReward` as an OpenRLHF ``reward_func``.

OpenRLHF (Hu et al., 2024, *OpenRLHF: An Easy-to-use, Scalable and
High-performance RLHF Framework*, arXiv:2405.11143) loads a Python reward
function with ``--remote_rm_url path/to/file.py`` and calls

``reward_func(queries, prompts, labels, **kwargs)``

where ``queries`` are prompt + response decoded with
``skip_special_tokens=False`` (strings, not ids), ``prompts`` the prompts and
``labels`` the dataset labels (``--label_key``).  It is called per sample from
worker threads (``asyncio.to_thread``).  The return value is

``{"rewards": Tensor[n], "scores": Tensor[n], "extra_logs": {name: Tensor[n]}}``

``rewards`` feed the advantage estimator; ``scores`` (expected in [0, 1]) drive
dynamic filtering (``--dynamic_filtering_range``); ``extra_logs`` are logged.
The same JSON shape with lists is what the remote ``/get_reward`` endpoint
returns (see :mod:`rewardkit.integrations.server`).

Mapping: response = ``query[len(prompt):]`` when the query starts with the
prompt (else the whole query), with trailing end-of-turn tokens listed in
``strip_tokens`` removed; ``labels`` -> column ``label_column`` (default
``"answer"``).  ``scores`` are the total clipped to [0, 1], or the (clipped)
values of the term named by ``scores_term`` - e.g. a 0/1 correctness term, which
is what dynamic filtering is meant to see.

Without Python glue: ``REWARDKIT_CONFIG=reward.yaml`` and
``--remote_rm_url <site-packages>/rewardkit/integrations/openrlhf.py``
(OpenRLHF looks up ``reward_func`` in that file).

Example:
    >>> from rewardkit.core import ComposedReward, FunctionTerm
    >>> correct = FunctionTerm("correct", lambda b: [a in c for c, a in zip(b.completion_texts(), b.column("answer"))])
    >>> f = as_openrlhf_reward_func(ComposedReward([(correct, 1.0)]), as_tensors=False)
    >>> f(["Q: 2+2? A: 4</s>"], ["Q: 2+2?"], ["4"])
    {'rewards': [1.0], 'scores': [1.0], 'extra_logs': {'correct': [1.0]}}
"""

from __future__ import annotations

import os
import threading
from typing import Any, Sequence

import numpy as np

from rewardkit.core import ConfigError
from rewardkit.core.config import load_reward_from_env

from .trl import _as_composed, score_samples

__all__ = ["DEFAULT_STRIP_TOKENS", "split_response", "OpenRLHFRewardFunc", "as_openrlhf_reward_func", "reward_func"]

#: end-of-turn / padding strings removed from the end of a decoded query
DEFAULT_STRIP_TOKENS: tuple[str, ...] = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>",
                                         "<eos>", "<|end|>", "<end_of_turn>", "<pad>", "<|finetune_right_pad_id|>")


def split_response(query: str, prompt: str | None, strip_tokens: Sequence[str] = DEFAULT_STRIP_TOKENS) -> str:
    """The response part of an OpenRLHF ``query`` (prompt + response, special tokens kept).

    Example:
        >>> split_response("<s>Q?<|im_end|>A: 4<|im_end|><|endoftext|>", "<s>Q?<|im_end|>")
        'A: 4'
    """
    q = "" if query is None else str(query)
    if prompt and q.startswith(prompt):
        q = q[len(prompt):]
    end = len(q)  # walk back over trailing tokens/whitespace by index: linear even for "</s>" * 10**5
    toks = [t for t in strip_tokens if t]
    while end > 0:
        if q[end - 1].isspace():
            end -= 1
            continue
        tok = next((t for t in toks if q.endswith(t, 0, end)), None)
        if tok is None:
            break
        end -= len(tok)
    return q[:end].strip()


class OpenRLHFRewardFunc:
    """OpenRLHF ``reward_func(queries, prompts, labels, **kwargs) -> dict``."""

    def __init__(self, reward: Any, label_column: str = "answer", scores_term: str | None = None,
                 strip_tokens: Sequence[str] = DEFAULT_STRIP_TOKENS, as_tensors: bool = True):
        self.reward = _as_composed(reward)
        if scores_term is not None and scores_term not in self.reward.terms:
            raise ConfigError("scores_term", f"unknown term {scores_term!r}", f"one of {sorted(self.reward.terms)}")
        self.label_column = label_column
        self.scores_term = scores_term
        self.strip_tokens = tuple(strip_tokens)
        self.as_tensors = as_tensors
        self._lock = threading.Lock()  # OpenRLHF calls from several threads; terms may be stateful
        self.__name__ = "reward_func"

    def __call__(self, queries: Sequence[str], prompts: Sequence[str] | None = None,
                 labels: Sequence[Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        out = self.compute(queries, prompts, labels)
        if not self.as_tensors:
            return out
        import torch

        return {"rewards": torch.tensor(out["rewards"], dtype=torch.float32),
                "scores": torch.tensor(out["scores"], dtype=torch.float32),
                "extra_logs": {k: torch.tensor(v, dtype=torch.float32) for k, v in out["extra_logs"].items()}}

    def compute(self, queries: Sequence[str], prompts: Sequence[str] | None = None,
                labels: Sequence[Any] | None = None) -> dict[str, Any]:
        """Plain-list version (the JSON body of ``/get_reward``)."""
        n = len(queries)
        prompts = list(prompts) if prompts is not None else [""] * n
        if len(prompts) != n:
            raise ConfigError("prompts", f"has {len(prompts)} entries for {n} queries", "one prompt per query")
        columns = {}
        if labels is not None:
            labels = list(labels)
            if len(labels) != n:
                raise ConfigError("labels", f"has {len(labels)} entries for {n} queries", "one label per query")
            columns[self.label_column] = labels
        responses = [split_response(q, p, self.strip_tokens) for q, p in zip(queries, prompts)]
        with self._lock:
            scored = score_samples(self.reward, ["" if p is None else p for p in prompts], responses, columns)
        total = scored.result.total
        src = scored.result.terms[self.scores_term] if self.scores_term else total
        return {"rewards": [float(v) for v in total],
                "scores": [float(v) for v in np.clip(src, 0.0, 1.0)],
                "extra_logs": {k: [float(x) for x in v] for k, v in scored.result.terms.items()}}


def as_openrlhf_reward_func(reward: Any, label_column: str = "answer", scores_term: str | None = None,
                            strip_tokens: Sequence[str] = DEFAULT_STRIP_TOKENS,
                            as_tensors: bool = True) -> OpenRLHFRewardFunc:
    """Wrap a reward as OpenRLHF's ``reward_func`` (tensors out, or lists with ``as_tensors=False``)."""
    return OpenRLHFRewardFunc(reward, label_column, scores_term, strip_tokens, as_tensors)


_DEFAULT: OpenRLHFRewardFunc | None = None
_DEFAULT_LOCK = threading.Lock()


def reward_func(queries: Sequence[str], prompts: Sequence[str] | None = None, labels: Sequence[Any] | None = None,
                **kwargs: Any) -> dict[str, Any]:
    """OpenRLHF entry point reading the reward from ``$REWARDKIT_CONFIG`` (loaded once per process)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = OpenRLHFRewardFunc(load_reward_from_env(), os.environ.get("REWARDKIT_LABEL_COLUMN", "answer"),
                                          os.environ.get("REWARDKIT_SCORES_TERM") or None)
    return _DEFAULT(queries, prompts, labels, **kwargs)
