"""Composition of reward terms: weighted sums, gates, clipping, scaling, normalisation.

A :class:`ComposedReward` evaluates every component once and returns a
:class:`RewardResult` that carries the total *and* each term's values, so every
term can be logged separately:

.. math:: r(b) = \\operatorname{clip}\\Big(\\sum_i w_i\\, g_i(b)\\, \\tilde r_i(b)\\Big)

where :math:`\\tilde r_i` is term *i* after its own scale/clip/normalisation and
:math:`g_i \\in \\{0, 1\\}` is its gate.

Gates implement *gated reward accumulation* (G-RA; Sun et al. 2025, "Stop Reward
Hacking in Long-Horizon Agents"): a shaping term counts only where a condition –
typically a higher-priority outcome term – reaches a threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .checks import bound, finite
from .normalize import RewardNormalizer
from .schedules import Schedule, constant, from_config
from .errors import ConfigError
from .term import RewardTerm, as_term, check_output

__all__ = [
    "Clip",
    "Component",
    "ComposedReward",
    "Gate",
    "Normalized",
    "RewardResult",
    "Scale",
    "Scheduled",
    "weighted_sum",
]


@dataclass
class RewardResult:
    """The total reward of a batch and the values of every term.

    Attributes:
        total: shape ``(n,)``, the composed reward.
        terms: term name -> its values *after* its own transforms and gate, before
            the weight, shape ``(n,)`` each.
        weights: term name -> weight.

    Example:
        >>> import numpy as np
        >>> r = RewardResult(np.array([1.5]), {"a": np.array([1.0]), "b": np.array([1.0])}, {"a": 1.0, "b": 0.5})
        >>> r.contributions()["b"].tolist()
        [0.5]
    """

    total: np.ndarray
    terms: dict[str, np.ndarray] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)

    def contributions(self) -> dict[str, np.ndarray]:
        """Weighted values ``w_i * r_i`` of each term (they sum to the total before clipping)."""
        return {k: self.weights.get(k, 1.0) * v for k, v in self.terms.items()}

    def __len__(self) -> int:
        return int(self.total.shape[0])

    def row(self, i: int) -> dict[str, float]:
        """Item ``i`` as a flat dict: ``{"total": ..., "<term>": ...}``."""
        d = {"total": float(self.total[i])}
        d.update({k: float(v[i]) for k, v in self.terms.items()})
        return d


class Scale(RewardTerm):
    """Multiply a term by a constant: :math:`c\\, r(b)`.

    Example:
        >>> from rewardkit.core import Constant, Scale, SampleBatch
        >>> Scale(Constant(2.0), 3.0)(SampleBatch(["p"], ["c"])).tolist()
        [6.0]
    """

    def __init__(self, term: Any, factor: float, name: str | None = None):
        self.term = as_term(term)
        super().__init__(name or self.term.name)
        self.factor = finite(factor, "scale")
        self.batch_kind = self.term.batch_kind  # type: ignore[misc]

    def compute(self, batch: Any) -> np.ndarray:
        return self.factor * self.term(batch)

    def children(self) -> dict[str, RewardTerm]:
        return {"term": self.term}


def as_schedule(value: Any, field: str) -> Schedule:
    """A :class:`~rewardkit.core.schedules.Schedule` from a schedule, a config mapping or a finite number."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, Mapping):
        return from_config(value, field)
    return constant(finite(value, field))


class Scheduled(RewardTerm):
    """Multiply a term by a step-driven coefficient: :math:`\\beta_t\\, r(b)` (see :mod:`rewardkit.core.schedules`).

    ``t`` counts the items (``unit="items"``: transitions or samples) or the calls
    (``unit="calls"``: e.g. GRPO steps) seen *before* this batch; it is saved in
    :meth:`state_dict` (``{"step": t, "term": ...}``) so a resumed run continues the schedule,
    and it is not reset at episode ends.  In a config, ``scale:`` given as a schedule
    mapping builds this wrapper.

    Example:
        >>> from rewardkit.core import Constant, SampleBatch, Scheduled
        >>> from rewardkit.core.schedules import linear
        >>> t = Scheduled(Constant(1.0), linear(1.0, 0.0, steps=4))
        >>> [t(SampleBatch(["p", "p"], ["a", "b"])).tolist() for _ in range(3)]
        [[1.0, 1.0], [0.5, 0.5], [0.0, 0.0]]
        >>> t.state_dict()
        {'step': 6, 'term': {}}
    """

    def __init__(self, term: Any, schedule: Any, unit: str = "items", name: str | None = None):
        self.term = as_term(term)
        super().__init__(name or self.term.name)
        self.schedule = as_schedule(schedule, "scale")
        if unit not in ("items", "calls"):
            raise ConfigError("unit", f"got {unit!r}", "'items' or 'calls'")
        self.unit = unit
        self.step = 0
        self.batch_kind = self.term.batch_kind  # type: ignore[misc]

    def coefficient(self) -> float:
        """The coefficient at the current step."""
        return self.schedule(self.step)

    def compute(self, batch: Any) -> np.ndarray:
        out = self.coefficient() * self.term(batch)
        self.step += len(batch) if self.unit == "items" else 1
        return out

    def children(self) -> dict[str, RewardTerm]:
        return {"term": self.term}

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step, **super().state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state.get("step", 0))
        super().load_state_dict(state)


class Clip(RewardTerm):
    """Clip a term to ``[low, high]``: :math:`\\min(\\max(r, l), h)`.

    Example:
        >>> from rewardkit.core import Constant, Clip, SampleBatch
        >>> Clip(Constant(5.0), -1, 1)(SampleBatch(["p"], ["c"])).tolist()
        [1.0]
    """

    def __init__(self, term: Any, low: float = -np.inf, high: float = np.inf, name: str | None = None):
        self.term = as_term(term)
        super().__init__(name or self.term.name)
        self.low, self.high = bound(low, "clip.low", "low"), bound(high, "clip.high", "high")
        if self.low > self.high:
            raise ConfigError("clip", f"got low={self.low} > high={self.high}", "low <= high")
        self.batch_kind = self.term.batch_kind  # type: ignore[misc]

    def compute(self, batch: Any) -> np.ndarray:
        out: np.ndarray = np.clip(self.term(batch), self.low, self.high)
        return out

    def children(self) -> dict[str, RewardTerm]:
        return {"term": self.term}


class Normalized(RewardTerm):
    """Normalise a term with a :class:`RewardNormalizer` (running statistics).

    For transition batches the normaliser receives ``done`` and ``env_index`` so the
    ``"return"`` statistic accumulates per env along time.

    Example:
        >>> from rewardkit.core import FunctionTerm, Normalized, SampleBatch
        >>> t = Normalized(FunctionTerm("len", lambda b: [len(c) for c in b.completions]), center=True)
        >>> [round(v, 3) for v in t(SampleBatch(["p", "p"], ["a", "abc"])).tolist()]
        [-1.0, 1.0]
    """

    def __init__(self, term: Any, statistic: str = "reward", gamma: float = 0.99,
                 center: bool = False, clip: float | None = None, frozen: bool = False,
                 name: str | None = None):
        self.term = as_term(term)
        super().__init__(name or self.term.name)
        self.normalizer = RewardNormalizer(statistic, gamma=gamma, center=center, clip=clip, frozen=frozen)
        self.batch_kind = self.term.batch_kind  # type: ignore[misc]

    @property
    def frozen(self) -> bool:
        return self.normalizer.frozen

    @frozen.setter
    def frozen(self, value: bool) -> None:
        self.normalizer.frozen = bool(value)

    def compute(self, batch: Any) -> np.ndarray:
        v = self.term(batch)
        done = getattr(batch, "done", None)
        return self.normalizer(v, done=done, env_index=getattr(batch, "env_index", None))

    def children(self) -> dict[str, RewardTerm]:
        return {"term": self.term}

    def state_dict(self) -> dict[str, Any]:
        return {"normalizer": self.normalizer.state_dict(), **super().state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.normalizer.load_state_dict(state["normalizer"])
        super().load_state_dict(state)


class Gate(RewardTerm):
    """Let a term count only where a condition holds (gated reward accumulation).

    :math:`r_{gated}(b) = r(b)\\,\\mathbb{1}[c(b) \\ge \\tau]` (or ``> τ`` with
    ``strict=True``); elsewhere the value is ``otherwise`` (default 0).

    ``condition`` is another term (its value is compared with ``threshold``) or a
    callable returning booleans / numbers.

    Example:
        >>> from rewardkit.core import FunctionTerm, Gate, SampleBatch
        >>> correct = FunctionTerm("correct", lambda b: [c == "4" for c in b.completions])
        >>> brevity = FunctionTerm("brevity", lambda b: [1.0] * len(b))
        >>> Gate(brevity, correct, threshold=1.0)(SampleBatch(["q", "q"], ["4", "5"])).tolist()
        [1.0, 0.0]
    """

    def __init__(self, term: Any, condition: Any, threshold: float = 0.5, strict: bool = False,
                 otherwise: float = 0.0, name: str | None = None):
        self.term = as_term(term)
        super().__init__(name or self.term.name)
        self.condition = as_term(condition)
        self.threshold = finite(threshold, "gate.threshold")
        self.strict = bool(strict)
        self.otherwise = finite(otherwise, "gate.otherwise")
        self.batch_kind = self.term.batch_kind  # type: ignore[misc]

    def open(self, cond_values: np.ndarray) -> np.ndarray:
        """Boolean mask of items whose gate is open."""
        return cond_values > self.threshold if self.strict else cond_values >= self.threshold

    def compute(self, batch: Any) -> np.ndarray:
        mask = self.open(self.condition(batch))
        return np.where(mask, self.term(batch), self.otherwise)

    def children(self) -> dict[str, RewardTerm]:
        return {"term": self.term, "condition": self.condition}


@dataclass
class Component:
    """One entry of a :class:`ComposedReward`: a term, its weight and optional gate.

    ``weight`` is a finite number or a :class:`~rewardkit.core.schedules.Schedule` (or its config
    mapping), evaluated at the composition's item counter (see :class:`ComposedReward`).
    ``gate_on`` names another component of the same composition; this component
    counts only where that component's (transformed, unweighted) value reaches
    ``gate_threshold``.  Each term is computed exactly once per batch.
    """

    term: RewardTerm
    weight: float | Schedule = 1.0
    gate_on: str | None = None
    gate_threshold: float = 0.5

    def __post_init__(self) -> None:
        name = getattr(self.term, "name", "?")
        w = self.weight
        self.weight = from_config(w, f"terms.{name}.weight") if isinstance(w, Mapping) else (
            w if isinstance(w, Schedule) else finite(w, f"terms.{name}.weight"))
        self.gate_threshold = finite(self.gate_threshold, f"terms.{name}.gate.threshold")


class ComposedReward(RewardTerm):
    """A weighted sum of named terms with gates and a clip on the total.

    ``ComposedReward`` is itself a :class:`RewardTerm` (calling it returns the
    total), so compositions nest.  Use :meth:`evaluate` to get every term's values.

    A scheduled weight :math:`w_i(t)` is evaluated at ``step`` :math:`t`, the number of items
    scored before the batch; the counter is saved in :meth:`state_dict` under ``"_weight_step"``
    (only when some weight is scheduled).  :attr:`weights` gives the weights at the current step.

    Args:
        components: terms, ``(term, weight)`` pairs or :class:`Component` objects.
        name: the name of the total.
        clip: optional ``(low, high)`` applied to the total.

    Example:
        >>> from rewardkit.core import ComposedReward, Constant, SampleBatch
        >>> r = ComposedReward([(Constant(1.0, "a"), 2.0), (Constant(3.0, "b"), -1.0)])
        >>> res = r.evaluate(SampleBatch(["p"], ["c"]))
        >>> res.total.tolist(), res.terms["b"].tolist()
        ([-1.0], [3.0])
    """

    def __init__(self, components: Iterable[Any], name: str = "reward",
                 clip: Sequence[float] | None = None):
        super().__init__(name)
        self.components: list[Component] = []
        for c in components:
            if isinstance(c, Component):
                self.components.append(c)
            elif isinstance(c, tuple) and len(c) == 2:
                self.components.append(Component(as_term(c[0]), c[1]))
            else:
                self.components.append(Component(as_term(c), 1.0))
        names = [c.term.name for c in self.components]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"terms: duplicate names {sorted(dup)}; expected unique term names")
        for c in self.components:
            if c.gate_on is not None and c.gate_on not in names:
                raise ValueError(f"terms.{c.term.name}.gate.on: unknown term {c.gate_on!r}; "
                                 f"expected one of {names}")
            if c.gate_on == c.term.name:
                raise ValueError(f"terms.{c.term.name}.gate.on: a term cannot gate itself")
        if clip is not None and (isinstance(clip, (str, bytes)) or len(clip) != 2):
            raise ConfigError("clip", f"got {clip!r}", "a pair (low, high)")
        self.clip = None if clip is None else (bound(clip[0], "clip[0]", "low"), bound(clip[1], "clip[1]", "high"))
        if self.clip is not None and self.clip[0] > self.clip[1]:
            raise ConfigError("clip", f"low {self.clip[0]} > high {self.clip[1]}", "low <= high")
        kinds = {c.term.batch_kind for c in self.components} - {"any"}
        if len(kinds) > 1:
            raise ValueError(f"terms: mixes batch kinds {sorted(kinds)}; expected terms of one batch kind")
        self.batch_kind = kinds.pop() if kinds else "any"  # type: ignore[misc]
        self.step = 0  # items scored so far (drives scheduled weights)

    @property
    def terms(self) -> dict[str, RewardTerm]:
        return {c.term.name: c.term for c in self.components}

    @property
    def weights(self) -> dict[str, float]:
        """Each term's weight at the current step."""
        return {c.term.name: self._weight(c) for c in self.components}

    def _weight(self, c: Component) -> float:
        return c.weight(self.step) if isinstance(c.weight, Schedule) else float(c.weight)

    @property
    def scheduled(self) -> bool:
        """True if some weight is a schedule."""
        return any(isinstance(c.weight, Schedule) for c in self.components)

    def evaluate(self, batch: Any) -> RewardResult:
        """Compute every term once; return the total and the per-term values."""
        n = len(batch)
        raw: dict[str, np.ndarray] = {}
        for c in self.components:
            if isinstance(c.term, ComposedReward):
                sub = c.term.evaluate(batch)
                raw[c.term.name] = sub.total
                for k, v in sub.terms.items():
                    raw.setdefault(f"{c.term.name}/{k}", v)
            else:
                raw[c.term.name] = c.term(batch)
        values = {}
        total = np.zeros(n)
        weights = self.weights
        for c in self.components:
            v = raw[c.term.name]
            if c.gate_on is not None:
                v = np.where(raw[c.gate_on] >= c.gate_threshold, v, 0.0)
            values[c.term.name] = v
            total = total + weights[c.term.name] * v
        for k, v in raw.items():  # nested sub-terms, for logging only
            values.setdefault(k, v)
        if self.clip is not None:
            total = np.clip(total, self.clip[0], self.clip[1])
        self.step += n
        return RewardResult(check_output(total, n, self.name), values, weights)

    def compute(self, batch: Any) -> np.ndarray:
        return self.evaluate(batch).total

    def children(self) -> dict[str, RewardTerm]:
        return {c.term.name: c.term for c in self.components}

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        if self.scheduled:
            state["_weight_step"] = self.step
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state.get("_weight_step", 0))
        super().load_state_dict(state)

    def set_frozen(self, frozen: bool = True) -> None:
        """Freeze (or unfreeze) every running normaliser inside, e.g. for evaluation."""
        stack: list[RewardTerm] = list(self.children().values())
        while stack:
            t = stack.pop()
            if isinstance(t, Normalized):
                t.frozen = frozen
            stack.extend(t.children().values())


def weighted_sum(terms: Mapping[str, Any] | Sequence[Any], weights: Mapping[str, float] | Sequence[float] | None = None,
                 name: str = "reward") -> ComposedReward:
    """Shorthand: ``weighted_sum({"a": term_a, "b": term_b}, {"a": 1.0, "b": 0.1})``.

    Example:
        >>> from rewardkit.core import Constant, SampleBatch, weighted_sum
        >>> weighted_sum({"a": Constant(1.0), "b": Constant(2.0)}, {"b": 0.5})(SampleBatch(["p"], ["c"])).tolist()
        [2.0]
    """
    if isinstance(terms, Mapping):
        items = [as_term(t, name=k) for k, t in terms.items()]
    else:
        items = [as_term(t) for t in terms]
    if weights is None:
        ws = [1.0] * len(items)
    elif isinstance(weights, Mapping):
        ws = [weights.get(t.name, 1.0) for t in items]
    else:
        ws = list(weights)
    return ComposedReward(list(zip(items, ws, strict=False)), name=name)


def _install_operators() -> None:
    """Install ``k * term`` and ``term + term`` on every :class:`RewardTerm`; both build a :class:`ComposedReward`.

    ``k * term`` (or ``term * k``) is the one-component composition ``ComposedReward([(term, k)])``
    named after the term, so the weight :math:`k` stays visible: in ``evaluate``'s per-term
    values (unweighted), in ``weights`` and in the TRL export.  ``a + b`` concatenates the
    components of unclipped compositions, so ``2 * a + 0.5 * b`` is
    :math:`r = 2\\,r_a + 0.5\\,r_b` with weights ``{a: 2, b: 0.5}``.  Use :class:`Scale`
    for a multiplier that is part of the term itself (the logged value is then scaled).
    ``k`` must be a finite number.

    Example:
        >>> from rewardkit.core import Constant, SampleBatch
        >>> r = 2 * Constant(1.0, "a") + 0.5 * Constant(4.0, "b")
        >>> type(r).__name__, r.weights, r(SampleBatch(["p"], ["c"])).tolist()
        ('ComposedReward', {'a': 2.0, 'b': 0.5}, [4.0])
    """

    def __mul__(self: RewardTerm, k: float) -> RewardTerm:
        if isinstance(k, RewardTerm) or isinstance(k, bool) or not isinstance(k, (int, float, np.number)):
            return NotImplemented
        return ComposedReward([(self, finite(k, "weight"))], name=self.name)

    def __add__(self: RewardTerm, other: RewardTerm) -> RewardTerm:
        def comps(x: RewardTerm) -> list[Component]:
            if isinstance(x, ComposedReward) and x.clip is None:
                return list(x.components)
            return [Component(as_term(x), 1.0)]
        return ComposedReward(comps(self) + comps(other))

    # installed here, not in RewardTerm's body: ComposedReward is defined after RewardTerm (compose imports term)
    for dunder, op in (("__mul__", __mul__), ("__rmul__", __mul__), ("__add__", __add__)):
        setattr(RewardTerm, dunder, op)


_install_operators()
