"""Submodular (history-dependent) rewards paid as marginal gains.

Submodular RL (Prajapat, Mutný, Zeilinger & Krause, ICLR 2024, "Submodular
Reinforcement Learning") optimises :math:`F(\\tau) = f(\\{s_0, \\dots, s_H\\})` for a
monotone submodular set function :math:`f` (coverage, information, diversity).  The
SubPO credit for step *t* is the marginal gain

.. math:: \\Delta(s_t \\mid s_{0:t-1}) = f(S_{t-1} \\cup \\{s_t\\}) - f(S_{t-1}),

which telescopes: :math:`\\sum_t \\Delta_t = f(S_H) - f(\\emptyset)`.  For coverage this
is "the number of newly covered cells", a history-aware cousin of count bonuses.
:class:`MarginalGain` keeps one set per sub-env and resets it when the episode ends.
"""

from __future__ import annotations

import copy
from typing import Any
from collections.abc import Callable, Hashable, Iterable

import numpy as np

from rewardkit.core import RewardTerm, TransitionBatch, register_term

__all__ = ["Coverage", "MarginalGain", "SetFunction", "WeightedCoverage"]


class SetFunction:
    """A set function with an incremental marginal gain.

    Subclasses keep an opaque per-episode *state* and implement :meth:`gain`
    (returns the gain of adding ``item`` and updates the state).
    """

    def empty(self) -> Any:
        return set()

    def gain(self, state: Any, item: Hashable) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def value(self, items: Iterable[Hashable]) -> float:
        """:math:`f(S)` by adding the items one at a time from the empty set."""
        st = self.empty()
        return float(sum(self.gain(st, x) for x in items))


class Coverage(SetFunction):
    """:math:`f(S) = |\\bigcup_{s \\in S} N(s)|` with neighbourhood ``N`` (default ``{s}``).

    ``neighbourhood(item) -> iterable of covered elements``; for grid cells use
    :meth:`grid` to cover a (2r+1)² square.

    Example:
        >>> Coverage().value([1, 2, 2, 3])
        3.0
        >>> Coverage.grid(radius=1).value([(0, 0), (1, 0)])  # 3x3 squares overlapping in 6 cells
        12.0
    """

    def __init__(self, neighbourhood: Callable[[Hashable], Iterable[Hashable]] | None = None):
        self.neighbourhood = neighbourhood

    @classmethod
    def grid(cls, radius: int = 1) -> Coverage:
        offs = [(dx, dy) for dx in range(-radius, radius + 1) for dy in range(-radius, radius + 1)]
        return cls(lambda c: [(c[0] + dx, c[1] + dy) for dx, dy in offs])

    def gain(self, state: set, item: Hashable) -> float:
        cover = [item] if self.neighbourhood is None else self.neighbourhood(item)
        before = len(state)
        state.update(cover)
        return float(len(state) - before)


class WeightedCoverage(Coverage):
    """:math:`f(S) = \\sum_{e \\in \\bigcup N(s)} w(e)` with non-negative element weights.

    Example:
        >>> WeightedCoverage({"a": 2.0, "b": 0.5}).value(["a", "a", "b", "c"])
        2.5
    """

    def __init__(self, weights: dict[Hashable, float], neighbourhood=None, default: float = 0.0):
        super().__init__(neighbourhood)
        if any(w < 0 for w in weights.values()):
            raise ValueError("weights: got a negative weight; expected non-negative weights (monotone f)")
        self.weights = weights
        self.default = float(default)

    def gain(self, state: set, item: Hashable) -> float:
        cover = [item] if self.neighbourhood is None else self.neighbourhood(item)
        g = 0.0
        for e in cover:
            if e not in state:
                state.add(e)
                g += self.weights.get(e, self.default)
        return g


def _default_key(obs: Any) -> Hashable:
    a = np.asarray(obs)
    return a.item() if a.ndim == 0 else tuple(a.reshape(-1).tolist())


@register_term("marginal_gain", batch_kind="transition")
class MarginalGain(RewardTerm):
    """Pay :math:`\\Delta(s_{t+1} \\mid s_{0:t})` of a set function, per sub-env episode.

    Args:
        set_function: a :class:`SetFunction`, or ``"coverage"`` (default) /
            ``"grid_coverage"`` (with ``radius``).
        key_fn: maps one observation to a hashable item (default: the observation
            as a tuple / scalar).
        include_initial: count the reset state :math:`s_0` (paid on the first step).

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import TransitionBatch
        >>> mg = MarginalGain()
        >>> step = lambda s, s2: TransitionBatch.from_arrays(np.array([s]), np.zeros(1), np.array([s2]), [0.0])
        >>> [float(mg(step(a, b))[0]) for a, b in [(0, 1), (1, 0), (0, 2), (2, 1)]]  # s0=0 counted first
        [2.0, 0.0, 1.0, 0.0]
    """

    batch_kind = "transition"

    def __init__(self, set_function: SetFunction | str = "coverage", key_fn: Callable[[Any], Hashable] | None = None,
                 radius: int = 1, include_initial: bool = True, name: str = "marginal_gain"):
        super().__init__(name)
        if isinstance(set_function, str):
            if set_function == "coverage":
                set_function = Coverage()
            elif set_function == "grid_coverage":
                set_function = Coverage.grid(radius)
            else:
                raise ValueError(f"set_function: got {set_function!r}; expected 'coverage', 'grid_coverage' "
                                 "or a SetFunction")
        self.f = set_function
        self.key_fn = key_fn or _default_key
        self.include_initial = include_initial
        self._state: dict[int, Any] = {}

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        out = np.zeros(len(batch))
        obs = batch.obs
        nxt = batch.next_obs
        for i, e in enumerate(batch.env_index):
            e = int(e)
            if e not in self._state:
                self._state[e] = self.f.empty()
                if self.include_initial:
                    out[i] += self.f.gain(self._state[e], self.key_fn(_row(obs, i)))
            out[i] += self.f.gain(self._state[e], self.key_fn(_row(nxt, i)))
        return out

    def reset(self, mask: np.ndarray | None = None) -> None:
        if mask is None:
            self._state.clear()
            return
        for e in np.flatnonzero(np.asarray(mask)):
            self._state.pop(int(e), None)

    def state_dict(self) -> dict[str, Any]:
        """Each sub-env's set-function state of its current episode (copied)."""
        return {"episodes": {str(e): copy.deepcopy(v) for e, v in self._state.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._state = {int(e): copy.deepcopy(v) for e, v in state.get("episodes", {}).items()}


def _row(obs: Any, i: int) -> Any:
    if isinstance(obs, dict):
        return {k: v[i] for k, v in obs.items()}
    return np.asarray(obs)[i]
