"""Length-shaping terms for LLM RL: DAPO overlong penalty, cosine length reward, n-gram
repetition penalty and a truncation ("stop properly") penalty.

References:

* Qiying Yu et al. (2025), *DAPO: An Open-Source LLM Reinforcement Learning System at Scale*
  (arXiv:2503.14476), Eq. 13, "soft overlong punishment" with maximum length
  :math:`L_{max}` and buffer :math:`L_c`:

  .. math::

      R_{len}(L) = \\begin{cases} 0 & L \\le L_{max}-L_c \\\\
                   \\frac{(L_{max}-L_c)-L}{L_c} & L_{max}-L_c < L \\le L_{max} \\\\
                   -1 & L > L_{max} \\end{cases}

* Edward Yeo, Yuxuan Tong, Morry Niu, Graham Neubig, Xiang Yue (2025), *Demystifying Long
  Chain-of-Thought Reasoning in LLMs* (arXiv:2502.03373), the cosine length reward

  .. math::

      \\mathrm{CosFn}(t, T, \\eta_{min}, \\eta_{max}) = \\eta_{min} + \\tfrac12(\\eta_{max}-\\eta_{min})
      \\big(1 + \\cos(\\pi\\,\\min(t/T, 1))\\big)

  with :math:`(\\eta_{max}, \\eta_{min}) = (r^c_0, r^c_L)` for correct answers (short is
  better) and :math:`(r^w_0, r^w_L)` for wrong ones (long is less bad), and an optional
  exceed-length reward :math:`r_e` at :math:`t \\ge T`.

* The n-gram repetition penalty of the same paper (as in TRL/open-r1):
  :math:`(1 - |\\mathrm{unique}\\ n\\text{-grams}| / |n\\text{-grams}|)\\cdot p_{max}`.

Length unit: with a ``tokenizer`` (a callable ``str -> sequence`` or an object with
``encode``) the length is in tokens; otherwise ``unit="whitespace"`` counts
whitespace-separated words (default) and ``unit="char"`` counts characters.  A batch column
``num_tokens`` (e.g. ``len(completion_ids)`` from the trainer) overrides both.  The penalties
are only as exact as the unit: whitespace words under-count BPE tokens by ~1.3x on English.
"""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from rewardkit.core import ConfigError, RewardTerm, SampleBatch, register_term

__all__ = [
    "MAX_CHARS",
    "OVERLONG_VARIANTS",
    "CosineLength",
    "OverlongPenalty",
    "RepetitionPenalty",
    "TruncationPenalty",
    "cosine_length_reward",
    "count_length",
    "dapo_overlong_penalty",
    "is_truncated",
    "repetition_penalty",
]

#: longest completion (characters) :class:`RepetitionPenalty` tokenises; longer ones get ``max_penalty``
MAX_CHARS = 1_000_000
#: the DAPO overlong variants (see :func:`dapo_overlong_penalty`)
OVERLONG_VARIANTS = ("paper", "verl", "hard")


def _tokenize(text: str, tokenizer: Any = None, unit: str = "whitespace") -> Sequence[Any]:
    if tokenizer is not None:
        if hasattr(tokenizer, "encode"):
            return tokenizer.encode(text)
        return tokenizer(text)
    if unit == "whitespace":
        return text.split()
    if unit == "char":
        return text
    raise ConfigError("unit", f"got {unit!r}", "'whitespace' or 'char' (or pass a tokenizer)")


def count_length(text: str, tokenizer: Callable[[str], Sequence[Any]] | Any = None, unit: str = "whitespace") -> int:
    """Length of ``text`` in tokens (``tokenizer``), whitespace words or characters.

    Example:
        >>> count_length("a bb  ccc"), count_length("a bb", unit="char"), count_length("abc", tokenizer=list)
        (3, 4, 3)
    """
    return len(_tokenize(text if isinstance(text, str) else "", tokenizer, unit))


def dapo_overlong_penalty(length: Any, max_length: int, buffer: int, factor: float = 1.0,
                          variant: str = "paper") -> np.ndarray:
    """DAPO overlong penalty, vectorised over ``length``.  With :math:`e = L-(L_{max}-L_c)`:

    * ``"paper"`` – Eq. 13 times ``factor``: :math:`-\\mathrm{factor}\\cdot\\min(\\max(e,0), L_c)/L_c`
      (0 before the buffer, linear in it, :math:`-\\mathrm{factor}` past :math:`L_{max}`).
      TRL's ``get_soft_overlong_punishment`` and OpenRLHF's length penalty compute the same;
    * ``"verl"`` – verl's DAPO reward manager: :math:`\\min(-e/L_c\\cdot\\mathrm{factor}, 0)`,
      *not* capped, so it keeps falling past :math:`L_{max}` (in verl generation stops at
      :math:`L_{max}`, so this only differs for externally measured lengths);
    * ``"hard"`` – :math:`-\\mathrm{factor}` if :math:`L \\ge L_{max}` (a truncated sample), else 0.

    Example:
        >>> dapo_overlong_penalty([10, 16, 20, 30], max_length=20, buffer=8).tolist()
        [0.0, -0.5, -1.0, -1.0]
        >>> dapo_overlong_penalty([30], 20, 8, variant="verl").tolist()
        [-2.25]
        >>> dapo_overlong_penalty([19, 20], 20, 8, variant="hard").tolist()
        [0.0, -1.0]
    """
    if variant not in OVERLONG_VARIANTS:
        raise ConfigError("variant", f"got {variant!r}", f"one of {OVERLONG_VARIANTS}")
    if not (isinstance(max_length, (int, float)) and max_length > 0):
        raise ConfigError("max_length", f"got {max_length!r}", "a positive number")
    if not (isinstance(buffer, (int, float)) and 0 < buffer <= max_length):
        raise ConfigError("buffer", f"got {buffer!r}", f"a number in (0, max_length={max_length}]")
    L = np.asarray(length, dtype=np.float64)
    exceed = L - (max_length - buffer)
    if variant == "paper":
        out = -factor * np.clip(exceed, 0.0, buffer) / buffer
    elif variant == "verl":
        out = np.minimum(-exceed / buffer * factor, 0.0)
    else:
        out = np.where(L >= max_length, -float(factor), 0.0)
    return out + 0.0  # turn -0.0 into 0.0


def cosine_length_reward(length: Any, correct: Any, max_length: int, *, min_value_wrong: float = -1.0,
                         max_value_wrong: float = -0.5, min_value_correct: float = 0.5,
                         max_value_correct: float = 1.0, exceed_value: float | None = None) -> np.ndarray:
    """Cosine length reward (Yeo et al. 2025), vectorised; defaults as in TRL/open-r1.

    Correct answers go from ``max_value_correct`` at length 0 down to ``min_value_correct`` at
    ``max_length``; wrong answers from ``min_value_wrong`` at 0 up to ``max_value_wrong``.  If
    ``exceed_value`` is set (the paper's :math:`r_e`), lengths ``>= max_length`` get it instead.

    Example:
        >>> cosine_length_reward([0, 50, 100], [1, 1, 1], 100).round(3).tolist()
        [1.0, 0.75, 0.5]
        >>> cosine_length_reward([0, 100], [0, 0], 100).tolist()
        [-1.0, -0.5]
        >>> cosine_length_reward([120], [1], 100, exceed_value=-10).tolist()
        [-10.0]
    """
    if not (isinstance(max_length, (int, float)) and max_length > 0):
        raise ConfigError("max_length", f"got {max_length!r}", "a positive number")
    L = np.asarray(length, dtype=np.float64)
    c = np.asarray(correct, dtype=np.float64) >= 0.5
    progress = np.clip(L / max_length, 0.0, 1.0)
    cosine = np.cos(progress * math.pi)
    hi = np.where(c, max_value_correct, min_value_wrong)   # value at length 0
    lo = np.where(c, min_value_correct, max_value_wrong)   # value at max_length
    out = lo + 0.5 * (hi - lo) * (1.0 + cosine)
    if exceed_value is not None:
        out = np.where(L >= max_length, float(exceed_value), out)
    return out


def repetition_penalty(tokens: Sequence[Any], ngram_size: int = 3, max_penalty: float = -1.0) -> float:
    """:math:`(1 - \\#\\text{unique n-grams}/\\#\\text{n-grams})\\cdot p_{max}`; 0 for fewer than ``n`` tokens.

    Example:
        >>> repetition_penalty("a b c a b c a b c".split(), 3), repetition_penalty("a b c d".split(), 3)
        (-0.5714285714285714, 0.0)
    """
    if ngram_size < 1:
        raise ConfigError("ngram_size", f"got {ngram_size}", "a positive integer")
    if max_penalty > 0:
        raise ConfigError("max_penalty", f"got {max_penalty}", "a number <= 0")
    toks = list(tokens)
    if len(toks) < ngram_size:
        return 0.0
    n_grams = len(toks) - ngram_size + 1
    unique = set(zip(*(toks[i:] for i in range(ngram_size)), strict=False))  # one linear pass
    return (1.0 - len(unique) / n_grams) * max_penalty + 0.0


def is_truncated(truncated: Any = None, finish_reason: Any = None, length: float | None = None,
                 max_length: float | None = None) -> bool:
    """Whether a completion was cut off: an explicit flag, ``finish_reason == "length"`` (vLLM /
    OpenAI), or ``length >= max_length``.

    Example:
        >>> is_truncated(finish_reason="length"), is_truncated(truncated=False), is_truncated(length=20, max_length=20)
        (True, False, True)
    """
    if truncated is not None and not (isinstance(truncated, float) and math.isnan(truncated)):
        return bool(truncated)
    if finish_reason is not None:
        return str(finish_reason).lower() == "length"
    if length is not None and max_length is not None:
        return length >= max_length
    return False


class _LengthTerm(RewardTerm):
    batch_kind = "sample"

    def __init__(self, name: str, tokenizer: Any = None, unit: str = "whitespace", length_column: str = "num_tokens"):
        super().__init__(name)
        if tokenizer is None and unit not in ("whitespace", "char"):
            raise ConfigError("unit", f"got {unit!r}", "'whitespace' or 'char' (or pass a tokenizer)")
        self.tokenizer, self.unit, self.length_column = tokenizer, unit, length_column

    def lengths(self, batch: SampleBatch) -> np.ndarray:
        if self.length_column in batch.columns:
            vals = batch.column(self.length_column)
            return np.array([_finite(v, count_length(t, self.tokenizer, self.unit))
                             for v, t in zip(vals, batch.completion_texts(), strict=False)], dtype=np.float64)
        return np.array([count_length(t, self.tokenizer, self.unit) for t in batch.completion_texts()], dtype=np.float64)


def _finite(v: Any, fallback: float) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float(fallback)
    return f if math.isfinite(f) and f >= 0 else float(fallback)


@register_term("overlong_penalty", batch_kind="sample", example={"max_length": 50, "buffer": 10})
class OverlongPenalty(_LengthTerm):
    """DAPO overlong penalty (Yu et al. 2025) on each completion's length (see :func:`dapo_overlong_penalty`).

    Example:
        >>> from rewardkit.core import SampleBatch
        >>> OverlongPenalty(max_length=4, buffer=2)(SampleBatch(["p"] * 2, ["a b", "a b c"])).tolist()
        [0.0, -0.5]
    """

    def __init__(self, max_length: int, buffer: int, factor: float = 1.0, variant: str = "paper",
                 tokenizer: Any = None, unit: str = "whitespace", length_column: str = "num_tokens",
                 name: str = "overlong_penalty"):
        super().__init__(name, tokenizer, unit, length_column)
        dapo_overlong_penalty([0], max_length, buffer, factor, variant)  # validate
        self.max_length, self.buffer, self.factor, self.variant = max_length, buffer, float(factor), variant

    def compute(self, batch: SampleBatch) -> np.ndarray:
        return dapo_overlong_penalty(self.lengths(batch), self.max_length, self.buffer, self.factor, self.variant)


@register_term("cosine_length", batch_kind="sample", example={"max_length": 50})
class CosineLength(_LengthTerm):
    """Cosine length reward (Yeo et al. 2025); correctness read from column ``correct_column``.

    Example:
        >>> from rewardkit.core import SampleBatch
        >>> CosineLength(max_length=4)(SampleBatch(["p"] * 2, ["a b", "a b"], {"correct": [1, 0]})).tolist()
        [0.75, -0.75]
    """

    def __init__(self, max_length: int, correct_column: str = "correct", min_value_wrong: float = -1.0,
                 max_value_wrong: float = -0.5, min_value_correct: float = 0.5, max_value_correct: float = 1.0,
                 exceed_value: float | None = None, tokenizer: Any = None, unit: str = "whitespace",
                 length_column: str = "num_tokens", name: str = "cosine_length"):
        super().__init__(name, tokenizer, unit, length_column)
        if not (isinstance(max_length, (int, float)) and max_length > 0):
            raise ConfigError("max_length", f"got {max_length!r}", "a positive number")
        self.max_length, self.correct_column = max_length, correct_column
        self.kw = dict(min_value_wrong=min_value_wrong, max_value_wrong=max_value_wrong,
                       min_value_correct=min_value_correct, max_value_correct=max_value_correct,
                       exceed_value=exceed_value)

    def compute(self, batch: SampleBatch) -> np.ndarray:
        correct = [_finite(c, 0.0) if not isinstance(c, bool) else float(c) for c in batch.column(self.correct_column)]
        return cosine_length_reward(self.lengths(batch), correct, self.max_length, **self.kw)


@register_term("repetition_penalty", batch_kind="sample")
class RepetitionPenalty(_LengthTerm):
    """n-gram repetition penalty (Yeo et al. 2025) over tokens (default: lower-cased whitespace words).

    Budget: a completion longer than ``max_chars`` characters (default 1,000,000) is not
    tokenised; it gets the maximum penalty ``max_penalty`` (a megabyte of model output is
    degenerate).  Below the cap the count is one linear pass (< 0.2 s per megabyte).

    Example:
        >>> from rewardkit.core import SampleBatch
        >>> RepetitionPenalty(ngram_size=2)(SampleBatch(["p"] * 2, ["a b a b a b", "a b c d"])).tolist()
        [-0.6, 0.0]
    """

    def __init__(self, ngram_size: int = 3, max_penalty: float = -1.0, tokenizer: Any = None,
                 unit: str = "whitespace", max_chars: int = MAX_CHARS, name: str = "repetition_penalty"):
        super().__init__(name, tokenizer, unit)
        repetition_penalty([], ngram_size, max_penalty)  # validate
        if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
            raise ConfigError("max_chars", f"got {max_chars!r}", "a positive int (characters)")
        self.ngram_size, self.max_penalty, self.max_chars = int(ngram_size), float(max_penalty), max_chars

    def compute(self, batch: SampleBatch) -> np.ndarray:
        out = []
        for t in batch.completion_texts():
            if len(t) > self.max_chars:  # too_large: the maximum penalty, without tokenising
                out.append(self.max_penalty + 0.0)
                continue
            toks = _tokenize(t.lower() if self.tokenizer is None else t, self.tokenizer, self.unit)
            out.append(repetition_penalty(toks, self.ngram_size, self.max_penalty))
        return np.array(out, dtype=np.float64)


@register_term("truncation_penalty", batch_kind="sample")
class TruncationPenalty(_LengthTerm):
    """``penalty`` for completions that did not stop properly (ProRL-style), else 0.

    Truncation is read from column ``truncated`` (bool), else ``finish_reason`` (``"length"``),
    else ``length >= max_length`` when ``max_length`` is given.

    Example:
        >>> from rewardkit.core import SampleBatch
        >>> TruncationPenalty()(SampleBatch(["p"] * 2, ["a", "b"], {"finish_reason": ["stop", "length"]})).tolist()
        [0.0, -1.0]
    """

    def __init__(self, penalty: float = -1.0, max_length: int | None = None, tokenizer: Any = None,
                 unit: str = "whitespace", length_column: str = "num_tokens", name: str = "truncation_penalty"):
        super().__init__(name, tokenizer, unit, length_column)
        self.penalty, self.max_length = float(penalty), max_length

    def compute(self, batch: SampleBatch) -> np.ndarray:
        n = len(batch)
        trunc = batch.column("truncated", None) if "truncated" in batch.columns else [None] * n
        reason = batch.column("finish_reason", None) if "finish_reason" in batch.columns else [None] * n
        lengths = self.lengths(batch) if self.max_length is not None else [None] * n
        flags = [is_truncated(t, r, ln, self.max_length) for t, r, ln in zip(trunc, reason, lengths, strict=False)]
        return np.where(np.array(flags, dtype=bool), self.penalty, 0.0)
