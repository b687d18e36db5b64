"""Export a :class:`~rewardkit.core.ComposedReward` as TRL ``reward_funcs``.

TRL's ``GRPOTrainer`` / ``RLOOTrainer`` (von Werra et al., 2020, *TRL:
Transformer Reinforcement Learning*; GRPO from Shao et al., 2024, *DeepSeekMath*,
arXiv:2402.03300) call every reward function as

``f(prompts, completions, completion_ids, **columns) -> list[float | None]``

with every dataset column except ``prompt`` as a keyword argument (plus
``trainer_state``, ``log_extra``, ``log_metric``).  With ``reward_weights``
:math:`w_k` the trainer's reward is the NaN-skipping weighted sum

.. math:: r_i = \\sum_k w_k\\, f_k(i) \\quad (\\text{``None'' rows skipped}),

and each function is logged as ``rewards/<f.__name__>/mean`` and ``.../std``.

Two exports:

* :func:`as_trl_reward` - one function computing the composed total (logged as
  ``rewards/<reward.name>/mean``; every term is *also* reported through
  ``log_metric`` as ``rewardkit/<term>``);

In both modes the fraction of samples whose verifier returned an error (gate
rejections, judge failures, timeouts) is logged per verifier term as
``rewardkit/<term>/error_frac``;
* :func:`as_trl_reward_funcs` - one function *per term* plus matching
  ``reward_weights``, so TRL logs each rewardkit term separately.  The composed
  reward is evaluated once per batch and shared by the per-term functions; gates
  are already applied to the term values, so :math:`\\sum_k w_k f_k` equals the
  composed total (a clip on the total cannot be split per term and is refused).

**None (not applicable).** A term returns ``None`` for a sample when the term
does not apply to it, which TRL excludes from that function's mean and from the
weighted sum: a verifier term whose reference columns are all ``None`` for that
row (a multi-task dataset where math rows have no unit tests), or whose result
error is one of :data:`NOT_APPLICABLE_ERRORS`.  In single-function mode the total
is ``None`` only when *no* term applies (TRL then treats the row as unscorable).

Functions are instances of a callable class (picklable, as TRL's async GRPO
requires) with a proper ``__name__``.  Conversational prompts/completions (lists
of ``{"role", "content"}`` dicts) are handled: the completion text is the last
message's content.

Example:
    >>> from rewardkit.core import ComposedReward, FunctionTerm
    >>> correct = FunctionTerm("correct", lambda b: [c.strip() == a for c, a in zip(b.completion_texts(), b.column("answer"))])
    >>> short = FunctionTerm("short", lambda b: [len(c) < 5 for c in b.completion_texts()])
    >>> reward = ComposedReward([(correct, 1.0), (short, 0.1)])
    >>> funcs, weights = as_trl_reward_funcs(reward)
    >>> [f.__name__ for f in funcs], weights
    (['correct', 'short'], [1.0, 0.1])
    >>> funcs[0](prompts=["2+2?", "2+2?"], completions=["4", "five"], answer=["4", "4"])
    [1.0, 0.0]
    >>> total = as_trl_reward(reward)
    >>> total(prompts=["2+2?"], completions=[[{"role": "assistant", "content": "4"}]], answer=["4"])
    [1.1]
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np

from rewardkit.core import ComposedReward, RewardResult, RewardTerm, SampleBatch, as_term

__all__ = [
    "NOT_APPLICABLE_ERRORS",
    "ScoredSamples",
    "TRLRewardFunction",
    "as_trl_reward",
    "as_trl_reward_funcs",
    "score_samples",
]

#: verifier error codes meaning "this term does not apply to this sample"
NOT_APPLICABLE_ERRORS: tuple[str, ...] = ("not_applicable", "no_reference", "missing_reference")

#: keyword arguments TRL passes that are not dataset columns
TRL_CONTROL_KWARGS = frozenset({"trainer_state", "log_extra", "log_metric", "environments", "completion_ids",
                                "completion", "prompt"})


@dataclass
class ScoredSamples:
    """A composed reward evaluated on samples, with per-term applicability.

    Attributes:
        result: the :class:`~rewardkit.core.RewardResult` (total and per-term values).
        applicable: top-level term name -> boolean mask (False = term does not apply).
        errors: top-level term name -> error code per sample (verifier terms only).
        sub_terms: values logged beside the terms, e.g. ``rubric/<criterion>`` of a rubric judge
            (any term with a ``sub_terms()`` method); NaN where a sample has none.
    """

    result: RewardResult
    applicable: dict[str, np.ndarray] = field(default_factory=dict)
    errors: dict[str, list[str | None]] = field(default_factory=dict)
    sub_terms: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def term_names(self) -> list[str]:
        return list(self.applicable)

    def term_values(self, name: str, none_if_not_applicable: bool = True) -> list[float | None]:
        vals = self.result.terms[name]
        mask = self.applicable.get(name)
        return [None if (none_if_not_applicable and mask is not None and not mask[i]) else float(v)
                for i, v in enumerate(vals)]

    def totals(self, none_if_not_applicable: bool = True) -> list[float | None]:
        any_applies = np.zeros(len(self.result), dtype=bool)
        for m in self.applicable.values():
            any_applies |= m
        if not self.applicable:
            any_applies[:] = True
        return [None if (none_if_not_applicable and not any_applies[i]) else float(v)
                for i, v in enumerate(self.result.total)]


def _as_composed(reward: Any) -> ComposedReward:
    if isinstance(reward, ComposedReward):
        return reward
    return ComposedReward([(as_term(reward), 1.0)], name=getattr(reward, "name", None) or "reward")


def _verifier_term(term: RewardTerm) -> Any:
    """Unwrap Scale/Clip/Normalized/Gate wrappers down to a VerifierTerm, if any."""
    node: Any = term
    seen = 0
    while node is not None and seen < 16:
        if hasattr(node, "verifier") and hasattr(node, "last_results"):
            return node
        node = getattr(node, "term", None)
        seen += 1
    return None


def score_samples(reward: Any, prompts: Sequence[Any], completions: Sequence[Any],
                  columns: Mapping[str, Sequence[Any]] | None = None) -> ScoredSamples:
    """Evaluate ``reward`` on ``(prompt, completion, columns)`` samples; the shared core of every export.

    Example:
        >>> from rewardkit.core import Constant
        >>> s = score_samples(Constant(0.5, "bonus"), ["p"], ["c"])
        >>> s.totals(), s.term_values("bonus")
        ([0.5], [0.5])
    """
    composed = _as_composed(reward)
    batch = SampleBatch(list(prompts), list(completions), dict(columns or {}))
    result = composed.evaluate(batch)
    n = len(batch)
    applicable: dict[str, np.ndarray] = {}
    errors: dict[str, list[str | None]] = {}
    subs: dict[str, np.ndarray] = {}
    for comp in composed.components:
        name = comp.term.name
        mask = np.ones(n, dtype=bool)
        vt = _verifier_term(comp.term)
        if vt is not None and len(vt.last_results) == n:
            errs = [r.error for r in vt.last_results]
            errors[name] = errs
            if callable(getattr(vt, "sub_terms", None)):
                subs.update(vt.sub_terms())
            mask &= np.array([e not in NOT_APPLICABLE_ERRORS for e in errs], dtype=bool)
            refs = [c for c in getattr(vt.verifier, "reference_columns", ()) if c in batch.columns]
            if refs:
                has_ref = np.zeros(n, dtype=bool)
                for c in refs:
                    has_ref |= np.array([v is not None for v in batch.columns[c]], dtype=bool)
                mask &= has_ref
        applicable[name] = mask
    return ScoredSamples(result, applicable, errors, subs)


def _columns_from_kwargs(n: int, kwargs: Mapping[str, Any]) -> dict[str, list[Any]]:
    cols = {}
    for k, v in kwargs.items():
        if k in TRL_CONTROL_KWARGS or isinstance(v, (str, bytes)):
            continue
        if isinstance(v, (list, tuple)) and len(v) == n:
            cols[k] = list(v)
    return cols


class _SharedEvaluation:
    """Evaluates the composed reward once per TRL batch for all per-term functions."""

    def __init__(self, reward: ComposedReward):
        self.reward = reward
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._scored: ScoredSamples | None = None

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], kwargs: Mapping[str, Any],
                 fresh: bool) -> ScoredSamples:
        key = (len(completions), hash(tuple(_fingerprint(p) for p in prompts)),
               hash(tuple(_fingerprint(c) for c in completions)))
        with self._lock:
            if fresh or self._key != key or self._scored is None:
                self._scored = score_samples(self.reward, prompts, completions,
                                             _columns_from_kwargs(len(completions), kwargs))
                self._key = key
            return self._scored

    def __getstate__(self) -> dict[str, Any]:
        return {"reward": self.reward}

    def __setstate__(self, state: dict[str, Any]) -> None:
        type(self).__init__(self, state["reward"])


def _fingerprint(x: Any) -> Any:
    if isinstance(x, str):
        return x
    if isinstance(x, (list, tuple)):
        return tuple(_fingerprint(i) for i in x)
    if isinstance(x, Mapping):
        return tuple(sorted((str(k), _fingerprint(v)) for k, v in x.items()))
    return repr(x)


class TRLRewardFunction:
    """A TRL reward function: ``(prompts, completions, **columns) -> list[float | None]``.

    ``term=None`` returns the composed total; otherwise the values of that term.
    ``fresh=True`` (the first function of a per-term export) recomputes the batch;
    the others reuse it when prompts and completions are the same.
    """

    def __init__(self, evaluation: _SharedEvaluation, term: str | None = None, name: str | None = None,
                 fresh: bool = True, log_terms: bool = True):
        self._evaluation = evaluation
        self.term = term
        self.fresh = fresh
        self.log_terms = log_terms
        self.__name__ = name or term or evaluation.reward.name
        self.__qualname__ = self.__name__

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None,
                 **kwargs: Any) -> list[float | None]:
        scored = self._evaluation(prompts, completions, kwargs, self.fresh)
        log_metric = kwargs.get("log_metric")
        if self.log_terms and self.fresh and callable(log_metric):
            # verifier health: the fraction of samples whose verification ended in an error
            # (gate rejections, judge failures, timeouts ...), once per batch
            for name, errs in scored.errors.items():
                if errs:
                    log_metric(f"rewardkit/{name}/error_frac", sum(e is not None for e in errs) / len(errs))
        if self.term is not None:
            return scored.term_values(self.term)
        if self.log_terms and callable(log_metric):
            for name in scored.term_names:
                vals = np.array([np.nan if v is None else v for v in scored.term_values(name)], dtype=float)
                if np.isfinite(vals).any():
                    log_metric(f"rewardkit/{name}", float(np.nanmean(vals)))
            for name, vals in scored.sub_terms.items():
                if np.isfinite(vals).any():
                    log_metric(f"rewardkit/{name}", float(np.nanmean(vals)))
        return scored.totals()

    def __repr__(self) -> str:
        return f"TRLRewardFunction({self.__name__!r})"


def as_trl_reward(reward: Any, name: str | None = None, log_terms: bool = True) -> TRLRewardFunction:
    """The composed reward as ONE TRL reward function (named ``name`` or ``reward.name``).

    With ``log_terms`` each term's batch mean is also sent to TRL's ``log_metric``
    as ``rewardkit/<term>``.
    """
    composed = _as_composed(reward)
    return TRLRewardFunction(_SharedEvaluation(composed), None, name or composed.name, True, log_terms)


def as_trl_reward_funcs(reward: Any, prefix: str = "") -> tuple[list[TRLRewardFunction], list[float]]:
    """One TRL reward function per term and the matching ``reward_weights``.

    Pass them as ``GRPOTrainer(reward_funcs=funcs, args=GRPOConfig(reward_weights=weights, ...))``;
    TRL then logs ``rewards/<prefix><term>/mean`` for every term.
    """
    composed = _as_composed(reward)
    if composed.clip is not None:
        raise ValueError(f"reward '{composed.name}' clips its total to {list(composed.clip)}; a clipped total "
                         "cannot be split into per-term functions - use as_trl_reward() instead")
    shared = _SharedEvaluation(composed)
    funcs = [TRLRewardFunction(shared, c.term.name, f"{prefix}{c.term.name}", fresh=(i == 0))
             for i, c in enumerate(composed.components)]
    current = composed.weights  # a scheduled weight is exported at its value now (TRL's weights are static)
    return funcs, [current[c.term.name] for c in composed.components]
