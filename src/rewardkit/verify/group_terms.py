"""Built-in group-aware reward terms: each sample is scored against the other samples of its GRPO group.

The group of a sample is :meth:`rewardkit.core.SampleBatch.group_ids` (the batch's ``group``,
else its ``group`` column, else repeated prompts).  Each term computes a per-sample signal
(a wrapped term's values, correctness, an extracted answer, the length) and hands it to the
pure, order-invariant primitive of :mod:`rewardkit.core.groups`:

=======================  ==========================================  =============================================
term type                signal                                      value
=======================  ==========================================  =============================================
``group_rank``           values of the wrapped ``term``              mid-rank in the group, 0 (worst) … 1 (best)
``shortest_correct``     ``correct`` term ≥ ``threshold``, length    ``bonus`` for the shortest correct sample(s)
``correct_diversity``    ``correct`` term, extracted answer          #distinct correct answers / #correct (correct)
``majority_agreement``   extracted answer (no reference needed)      1 if it agrees with the group's strict majority
=======================  ==========================================  =============================================

Answers are extracted with the math extractor (:func:`rewardkit.verify.math.extract_answer`,
``rules`` as in ``math_answer``) and compared in their canonical surface form
(:func:`rewardkit.verify.math.normalize_answer`; ``"$72$"`` and ``"72"`` agree).  A sample
without an answer never votes and never agrees.  ``correct`` and ``term`` are term configs
(``{type: ..., params: ...}``) built with :func:`rewardkit.core.build_reward`.

Example:
    >>> from rewardkit.core import SampleBatch, build_reward
    >>> r = build_reward({"terms": [{"type": "majority_agreement"}]})
    >>> b = SampleBatch(["q"] * 4, ["\\\\boxed{4}", "so 4", "<answer>5</answer>", "no idea"])
    >>> r(b).tolist()
    [1.0, 1.0, 0.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rewardkit.core import ComposedReward, ConfigError, RewardTerm, SampleBatch, build_reward, register_term
from rewardkit.core.groups import correct_diversity, majority_agreement, relative_rank, shortest_correct

from .math.extract import ExtractConfig, extract_answer
from .math.numeric import normalize_answer

__all__ = ["DEFAULT_RULES", "GroupTerm", "correct_diversity_term", "group_answers", "group_rank",
           "majority_agreement_term", "shortest_correct_term"]

#: answer-extraction rules of the group terms (the math extractor's, without the bare-text fallbacks)
DEFAULT_RULES: tuple[str, ...] = ("answer_tag", "boxed", "answer_line", "hash", "last_number")
_DEFAULT_CORRECT: dict[str, Any] = {"type": "math_answer"}


def group_answers(batch: SampleBatch, rules: Sequence[str] = DEFAULT_RULES) -> list[str | None]:
    """The canonical extracted answer of each completion (``None`` where nothing was extracted).

    Example:
        >>> group_answers(SampleBatch(["q", "q"], ["\\\\boxed{$72$}", "nothing"]))
        ['72', None]
    """
    cfg = ExtractConfig(rules=tuple(rules))
    out: list[str | None] = []
    for text in batch.completion_texts():
        a = extract_answer(text, cfg).answer
        norm = normalize_answer(a) if a is not None else ""
        out.append(norm or None)
    return out


class GroupTerm(RewardTerm):
    """A group-aware built-in (see the module table): ``kind`` names the primitive.

    Example:
        >>> from rewardkit.core import Constant, SampleBatch
        >>> t = GroupTerm("group_rank", inner=ComposedReward([Constant(1.0, "c")]))
        >>> t(SampleBatch(["p", "p"], ["a", "b"])).tolist()
        [0.5, 0.5]
    """

    batch_kind = "sample"

    def __init__(self, kind: str, inner: ComposedReward | None = None, threshold: float = 1.0,
                 rules: Sequence[str] = DEFAULT_RULES, bonus: float = 1.0, length: str = "chars",
                 name: str | None = None):
        super().__init__(name or kind)
        if kind not in ("group_rank", "shortest_correct", "correct_diversity", "majority_agreement"):
            raise ConfigError("kind", f"got {kind!r}", "a group term type")
        if length not in ("chars", "words"):
            raise ConfigError("length", f"got {length!r}", "'chars' or 'words'")
        ExtractConfig(rules=tuple(rules))  # validates the rule names now
        self.kind, self.inner, self.threshold = kind, inner, float(threshold)
        self.rules, self.bonus, self.length = tuple(rules), float(bonus), length

    def children(self) -> dict[str, RewardTerm]:
        return {"inner": self.inner} if self.inner is not None else {}

    def compute(self, batch: SampleBatch) -> np.ndarray:
        groups = batch.group_index()
        if self.kind == "majority_agreement":
            return majority_agreement(groups, group_answers(batch, self.rules))
        assert self.inner is not None
        values = np.asarray(self.inner(batch), dtype=np.float64)
        if self.kind == "group_rank":
            return np.nan_to_num(relative_rank(groups, values), nan=0.5)
        correct = values >= self.threshold
        if self.kind == "shortest_correct":
            texts = batch.completion_texts()
            lengths = [len(t.split()) if self.length == "words" else len(t) for t in texts]
            out: np.ndarray = self.bonus * shortest_correct(groups, lengths, correct)
            return out
        return correct_diversity(groups, group_answers(batch, self.rules), correct)


def _inner(spec: Any, field: str) -> ComposedReward:
    if not isinstance(spec, Mapping):
        raise ConfigError(field, f"got {type(spec).__name__}", "a term mapping {type: ..., params: ...}")
    return build_reward({"terms": [dict(spec)]}, field=field)


@register_term("group_rank", batch_kind="sample")
def group_rank(term: Mapping[str, Any] | None = None, name: str = "group_rank") -> GroupTerm:
    """Relative rank of a term's value within its GRPO group (0 worst, 1 best, ties shared); default term math_answer."""
    return GroupTerm("group_rank", _inner(term or _DEFAULT_CORRECT, "params.term"), name=name)


@register_term("shortest_correct", batch_kind="sample")
def shortest_correct_term(correct: Mapping[str, Any] | None = None, threshold: float = 1.0, bonus: float = 1.0,
                          length: str = "chars", name: str = "shortest_correct") -> GroupTerm:
    """A bonus for the shortest correct completion(s) of each GRPO group."""
    return GroupTerm("shortest_correct", _inner(correct or _DEFAULT_CORRECT, "params.correct"), threshold,
                     bonus=bonus, length=length, name=name)


@register_term("correct_diversity", batch_kind="sample")
def correct_diversity_term(correct: Mapping[str, Any] | None = None, threshold: float = 1.0,
                           rules: Sequence[str] = DEFAULT_RULES, name: str = "correct_diversity") -> GroupTerm:
    """Distinct answers among the correct completions of a GRPO group, per correct completion."""
    return GroupTerm("correct_diversity", _inner(correct or _DEFAULT_CORRECT, "params.correct"), threshold,
                     rules=rules, name=name)


@register_term("majority_agreement", batch_kind="sample")
def majority_agreement_term(rules: Sequence[str] = DEFAULT_RULES, name: str = "majority_agreement") -> GroupTerm:
    """1 where a completion's answer agrees with its GRPO group's strict majority answer (label-free)."""
    return GroupTerm("majority_agreement", rules=rules, name=name)
