"""The math-answer verifier: extract the final answer, then decide equivalence.

Reward (binary outcome reward of RLVR; Lambert et al., 2024, "Tülu 3: Pushing
Frontiers in Open Language Model Post-Training"; DeepSeek-AI, 2025, "DeepSeek-R1"):

.. math::

    r(o, a^*) = \\begin{cases} r_{+} & \\mathrm{extract}(o) \\neq \\varnothing \\wedge
        \\mathrm{extract}(o) \\equiv a^* \\\\ r_{-} & \\text{otherwise} \\end{cases}

with :math:`r_+ = 1, r_- = 0` by default (``incorrect=-1`` gives math_dapo's ±1).
An answer-less completion – including the "master key" responses of Zhao et al.
(2025, "One Token to Fool LLM-as-a-Judge") such as ``":"`` or ``"Thought process:"`` –
gets ``no_answer`` (value ``r_-``, ``error="no_answer"``) before any comparison.

:meth:`MathVerifier.verify_batch` groups the batch by gold answer (a GRPO group
shares its gold), so each gold is normalised and parsed once per group.

Example:
    >>> from rewardkit.core import SampleBatch
    >>> v = MathVerifier(symbolic=False)
    >>> b = SampleBatch(["q"] * 3, ["so \\\\boxed{\\\\dfrac{1}{2}}", "Answer: 0.5", ":"], {"answer": ["1/2"] * 3})
    >>> [(r.value, r.error) for r in v.verify_batch(b)]
    [(1.0, None), (1.0, None), (0.0, 'no_answer')]
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from rewardkit.core import SampleBatch
from rewardkit.verify.result import Verifier, VerifyResult

from .equivalence import MathEquivalence, Verdict
from .extract import ExtractConfig, Extraction, extract_answer, find_boxed

__all__ = ["MathVerifier", "gold_answer"]


def gold_answer(gold: Any) -> str | None:
    """The answer part of a gold reference: the ``\\boxed{}`` of a MATH solution (all of
    them joined with ``", "`` when there are several),
    the text after ``####`` of a GSM8K solution, else the string itself.

    Example:
        >>> gold_answer("She has 3+4=7 apples.\\n#### 7"), gold_answer("so $\\\\boxed{12}$"), gold_answer(5)
        ('7', '12', '5')
        >>> gold_answer("$x \\\\geq 5$")
        'x \\\\geq 5'
    """
    if gold is None:
        return None
    if isinstance(gold, float) and gold != gold:  # NaN
        return None
    s = str(gold).strip()
    if not s:
        return None
    if "\\boxed" in s or "\\fbox" in s:
        spans = find_boxed(s)
        outer = [p for p in spans if not any(q != p and q[0] <= p[0] and p[1] <= q[1] for q in spans)]
        if outer:  # several boxed answers in a reference: all of them (a set of answers)
            return ", ".join(dict.fromkeys(s[a:b].strip() for a, b in outer))
    if "####" in s:
        return s.rsplit("####", 1)[1].strip().replace(",", "") or None
    for lo, hi in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if len(s) > len(lo) + len(hi) and s.startswith(lo) and s.endswith(hi):
            return s[len(lo):-len(hi)].strip() or None
    return s


class MathVerifier(Verifier):
    """Math final-answer reward: configurable extraction + fast/symbolic equivalence.

    Args:
        answer_column: batch column holding the gold answer (a string, a number, a
            list of acceptable answers, or a full MATH/GSM8K solution).
        extract: an :class:`ExtractConfig` (default: answer tag, boxed, ``Answer:``,
            ``####``, last number).
        symbolic, workers, deadline, float_rounding: see :class:`MathEquivalence`.
        correct, incorrect: rewards for a right / wrong (or missing) answer.
        equivalence: share one :class:`MathEquivalence` (and its caches) between verifiers.
    """

    name = "math_answer"

    def __init__(self, answer_column: str = "answer", extract: ExtractConfig | None = None,
                 symbolic: bool = True, workers: int = 1, deadline: float = 5.0, float_rounding: int = 6,
                 correct: float = 1.0, incorrect: float = 0.0, equivalence: MathEquivalence | None = None):
        self.answer_column = answer_column
        self.reference_columns = (answer_column,)
        self.extract_config = extract or ExtractConfig()
        self.equivalence = equivalence or MathEquivalence(symbolic=symbolic, workers=workers, deadline=deadline,
                                                          float_rounding=float_rounding)
        self.correct = float(correct)
        self.incorrect = float(incorrect)

    # -- one sample -------------------------------------------------------------------
    def verify(self, completion: str, **references: Any) -> VerifyResult:
        gold = references.get(self.answer_column, references.get("answer"))
        return self._verify_many([completion], [gold])[0]

    def verify_batch(self, batch: SampleBatch) -> list[VerifyResult]:
        texts = batch.completion_texts()
        golds = batch.column(self.answer_column)
        try:
            return self._verify_many(texts, golds)
        except Exception:  # a bug must not kill the run: fall back to per-sample guarding
            return [self.safe_verify(t, **{self.answer_column: g}) for t, g in zip(texts, golds)]

    # -- batched core ---------------------------------------------------------------------
    def _verify_many(self, texts: Sequence[str], golds: Sequence[Any]) -> list[VerifyResult]:
        t0 = time.perf_counter()
        n = len(texts)
        results: list[VerifyResult | None] = [None] * n
        extractions: list[Extraction | None] = [None] * n
        pair_gold: list[str] = []
        pair_pred: list[str] = []
        pair_owner: list[tuple[int, int]] = []  # (sample index, alternative index)
        alt_count = [0] * n
        for i, (text, gold) in enumerate(zip(texts, golds)):
            text = text if isinstance(text, str) else ("" if text is None else str(text))
            ex = extract_answer(text, self.extract_config)
            extractions[i] = ex
            alts = [gold_answer(g) for g in gold] if isinstance(gold, (list, tuple)) else [gold_answer(gold)]
            alts = [a for a in alts if a]
            if not alts:
                results[i] = VerifyResult(self.incorrect, {"correct": 0.0}, ex.answer, "missing_reference",
                                          info=_info(ex))
                continue
            if ex.answer is None or not ex.answer.strip():
                results[i] = VerifyResult(self.incorrect, {"correct": 0.0}, None, "no_answer", info=_info(ex))
                continue
            alt_count[i] = len(alts)
            for j, a in enumerate(alts):
                pair_gold.append(a)
                pair_pred.append(ex.answer)
                pair_owner.append((i, j))
        verdicts = self.equivalence.compare_many(pair_gold, pair_pred) if pair_gold else []
        per_sample: dict[int, list[Verdict]] = {}
        for (i, _), v in zip(pair_owner, verdicts):
            per_sample.setdefault(i, []).append(v)
        elapsed = (time.perf_counter() - t0) / max(n, 1)
        for i, vs in per_sample.items():
            ex = extractions[i]
            best = next((v for v in vs if v.equal), vs[0])
            err = None if best.equal else next((v.error for v in vs if v.error), None)
            info = _info(ex)
            info["method"] = best.method
            info["cached"] = best.cached
            value = self.correct if best.equal else self.incorrect
            results[i] = VerifyResult(value, {"correct": float(best.equal)}, ex.answer, err, info=info)
        for r in results:
            if r is not None and not r.latency:
                r.latency = elapsed
        return results  # type: ignore[return-value]


def _info(ex: Extraction | None) -> dict[str, Any]:
    if ex is None:
        return {}
    return {"rule": ex.rule, "span": ex.span, "trace": list(ex.trace)}
