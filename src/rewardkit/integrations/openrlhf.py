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
    {'rewards': [1.0], 'scores': [1.0], 'extra_logs': {'correct': [1.0], 'split_error': [0.0]}}
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any
from collections.abc import Sequence

import numpy as np

from rewardkit.core import ConfigError
from rewardkit.core.config import load_reward_from_env
from rewardkit.core.errors import RewardkitError
from rewardkit.core.pickling import RebuildOnUnpickle
from rewardkit.integrations.trl import _as_composed, score_samples  # absolute: OpenRLHF loads this file by path

__all__ = [
    "DEFAULT_STRIP_TOKENS",
    "SPLIT_ERROR_LOG",
    "OpenRLHFRewardFunc",
    "ResponseSplitError",
    "as_openrlhf_reward_func",
    "reward_func",
    "split_response",
]

_log = logging.getLogger(__name__)

#: end-of-turn / padding strings removed from the end of a decoded query
DEFAULT_STRIP_TOKENS: tuple[str, ...] = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>",
                                         "<eos>", "<|end|>", "<end_of_turn>", "<pad>", "<|finetune_right_pad_id|>")


#: ``extra_logs`` key: 1.0 for a sample whose response could not be separated from the prompt
SPLIT_ERROR_LOG = "split_error"

#: chat-template special tokens such as ``<|im_start|>``, ``<|eot_id|>``, ``<s>``, ``</s>``, ``<eos>``
_SPECIAL = re.compile(r"<\|[^<>|\s]{1,64}\|>|</?s>|<eos>|<bos>|<pad>|</?start_of_turn>|<end_of_turn>")
#: a prompt cut from the left (OpenRLHF truncates long prompts) must still match this many characters
_MIN_PROMPT_MATCH = 16


class ResponseSplitError(RewardkitError, ValueError):
    """The decoded query does not contain the prompt, so the response cannot be isolated.

    Example:
        >>> split_response("something else entirely", "What is 2+2?")
        Traceback (most recent call last):
        ...
        rewardkit.integrations.openrlhf.ResponseSplitError: query: does not contain the prompt ...
    """


def _normalized(text: str, strip_tokens: Sequence[str]) -> tuple[str, list[int]]:
    """``text`` without whitespace and special tokens, and each kept character's index in ``text``."""
    out, pos = [], []
    toks = tuple(t for t in strip_tokens if t)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "<":
            m = _SPECIAL.match(text, i)
            tok = m.group(0) if m else next((t for t in toks if text.startswith(t, i)), None)
            if tok:
                i += len(tok)
                continue
        out.append(ch)
        pos.append(i)
        i += 1
    return "".join(out), pos


def _prompt_end(query: str, prompt: str, strip_tokens: Sequence[str]) -> int | None:
    """Index in ``query`` where the prompt ends, or None.

    The prompt matches when, ignoring whitespace and special tokens, the query starts
    with the prompt, or with a suffix of it of at least ``_MIN_PROMPT_MATCH`` characters
    (a prompt truncated from the left).
    """
    if query.startswith(prompt):
        return len(prompt)
    nq, qpos = _normalized(query, strip_tokens)
    npr, _ = _normalized(prompt, strip_tokens)
    if not npr:
        return 0
    if nq.startswith(npr):
        k = len(npr)
    else:  # the longest prefix of the query that is a suffix of the prompt
        need = min(len(npr), _MIN_PROMPT_MATCH)
        tail = npr[-need:]
        k, at = 0, nq.find(tail, 0, len(npr))
        while at >= 0:
            e = at + need
            if npr.endswith(nq[:e]):
                k = e
            at = nq.find(tail, at + 1, len(npr))
        if k == 0:
            return None
    return qpos[k - 1] + 1


def split_response(query: str, prompt: str | None, strip_tokens: Sequence[str] = DEFAULT_STRIP_TOKENS) -> str:
    """The response part of an OpenRLHF ``query`` (prompt + response, special tokens kept).

    The prompt is matched exactly, else ignoring whitespace and special tokens (a
    tokenizer round-trip may change both), else as a left-truncated prompt.  An
    empty or missing prompt means the whole query is the response.  When the prompt
    cannot be found, :class:`ResponseSplitError` is raised - the prompt is never scored.

    Example:
        >>> split_response("<s>Q?<|im_end|>A: 4<|im_end|><|endoftext|>", "<s>Q?<|im_end|>")
        'A: 4'
        >>> split_response("<|im_start|>user\\nWhat is 2+2?<|im_end|>\\n<|im_start|>assistant\\n4<|im_end|>",
        ...                "<|im_start|>user What is 2+2? <|im_start|>assistant")
        '4'
    """
    q = "" if query is None else str(query)
    if prompt:
        cut = _prompt_end(q, str(prompt), strip_tokens)
        if cut is None:
            raise ResponseSplitError(f"query: does not contain the prompt {str(prompt)[:60]!r}; expected the decoded "
                                     "prompt followed by the response")
        q = q[cut:]
        start = 0  # special tokens and whitespace between the prompt and the response
        while start < len(q):
            if q[start].isspace():
                start += 1
                continue
            m = _SPECIAL.match(q, start) if q[start] == "<" else None
            if m is None:
                break
            start = m.end()
        q = q[start:]
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


class OpenRLHFRewardFunc(RebuildOnUnpickle):
    """OpenRLHF ``reward_func(queries, prompts, labels, **kwargs) -> dict``.

    A sample whose response cannot be separated from its prompt (see
    :func:`split_response`) is not scored: it gets ``reward = unsplit_reward``
    (default 0.0), ``score = 0.0`` and ``extra_logs["split_error"] = 1.0``, and a
    warning is logged.  ``extra_logs`` always holds ``split_error`` so every sample
    has the same keys.
    """

    _transient = {"_lock": threading.Lock}  # noqa: RUF012 - pickling drops the lock

    def __init__(self, reward: Any, label_column: str = "answer", scores_term: str | None = None,
                 strip_tokens: Sequence[str] = DEFAULT_STRIP_TOKENS, as_tensors: bool = True,
                 unsplit_reward: float = 0.0):
        self.reward = _as_composed(reward)
        if scores_term is not None and scores_term not in self.reward.terms:
            raise ConfigError("scores_term", f"unknown term {scores_term!r}", f"one of {sorted(self.reward.terms)}")
        if not np.isfinite(unsplit_reward):
            raise ConfigError("unsplit_reward", f"got {unsplit_reward!r}", "a finite number")
        self.label_column = label_column
        self.scores_term = scores_term
        self.strip_tokens = tuple(strip_tokens)
        self.as_tensors = as_tensors
        self.unsplit_reward = float(unsplit_reward)
        self._lock = threading.Lock()  # OpenRLHF calls from several threads; terms may be stateful
        self.__name__ = "reward_func"

    def __call__(self, queries: Sequence[str], prompts: Sequence[str] | None = None,
                 labels: Sequence[Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        out = self.compute(queries, prompts, labels)
        if not self.as_tensors:
            return out
        import torch

        # 1-element tensors per sample: OpenRLHF >= 0.10.1 takes ``scores`` whenever it is not None
        return {"rewards": torch.tensor(out["rewards"], dtype=torch.float32),
                "scores": torch.tensor(out["scores"], dtype=torch.float32),
                "extra_logs": {k: torch.tensor(v, dtype=torch.float32) for k, v in out["extra_logs"].items()}}

    def _split(self, queries: Sequence[str], prompts: Sequence[Any]) -> tuple[list[str], list[bool]]:
        responses, ok = [], []
        for q, p in zip(queries, prompts, strict=True):
            try:
                responses.append(split_response(q, p, self.strip_tokens))
                ok.append(True)
            except ResponseSplitError as e:
                _log.warning("rewardkit openrlhf: sample not scored (reward %s): %s", self.unsplit_reward, e)
                responses.append("")
                ok.append(False)
        return responses, ok

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
        responses, ok = self._split(queries, prompts)
        with self._lock:
            scored = score_samples(self.reward, ["" if p is None else p for p in prompts], responses, columns)
        total = scored.result.total
        src = scored.result.terms[self.scores_term] if self.scores_term else total
        scores = np.clip(src, 0.0, 1.0)
        return {"rewards": [float(v) if good else self.unsplit_reward for v, good in zip(total, ok, strict=True)],
                "scores": [float(v) if good else 0.0 for v, good in zip(scores, ok, strict=True)],
                "extra_logs": {**{k: [float(x) for x in v] for k, v in scored.result.terms.items()},
                               **{k: [float(x) for x in v] for k, v in scored.sub_terms.items()},
                               SPLIT_ERROR_LOG: [0.0 if good else 1.0 for good in ok]}}


def as_openrlhf_reward_func(reward: Any, label_column: str = "answer", scores_term: str | None = None,
                            strip_tokens: Sequence[str] = DEFAULT_STRIP_TOKENS,
                            as_tensors: bool = True, unsplit_reward: float = 0.0) -> OpenRLHFRewardFunc:
    """Wrap a reward as OpenRLHF's ``reward_func`` (tensors out, or lists with ``as_tensors=False``)."""
    return OpenRLHFRewardFunc(reward, label_column, scores_term, strip_tokens, as_tensors, unsplit_reward)


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


if __name__ != "rewardkit.integrations.openrlhf":
    # Loaded by file path (OpenRLHF's ``--remote_rm_url file.py``): use the installed package's
    # function, so the reward is loaded once per process and the function pickles by reference.
    import importlib as _importlib

    reward_func = _importlib.import_module("rewardkit.integrations.openrlhf").reward_func
