"""Multi-objective rewards: vector rewards, scalarisation, Pareto filtering, hypervolume.

The per-term values of a :class:`~rewardkit.core.ComposedReward` *are* a vector reward
:math:`\\mathbf r \\in \\mathbb R^d`; this module turns them (or any MO-Gymnasium-style
vector reward) into a scalar and measures sets of trade-offs.

* Weighted sum: :math:`u(\\mathbf r) = \\mathbf w^\\top \\mathbf r`.
* (Augmented) Tchebycheff (Steuer & Choo 1983; as used in MORL by Van Moffaert et al.
  2013): :math:`u(\\mathbf r) = -\\max_i w_i |z^*_i - r_i| - \\rho \\sum_i w_i |z^*_i - r_i|`
  with utopian point :math:`z^*`.  Unlike the weighted sum it can select points on
  concave parts of a Pareto front.
* Pareto filtering (maximisation) and the hypervolume indicator (Zitzler & Thiele 1998),
  computed exactly by recursive slicing.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping, Sequence

from rewardkit.core.extras import lazy_getattr
import numpy as np

from rewardkit.core import ComposedReward, RewardTerm, as_term, build_reward, register_term

__all__ = [
    "Scalarized",
    "hypervolume",
    "linear_scalarization",
    "pareto_front",
    "pareto_mask",
    "tchebycheff",
]

#: the Gymnasium wrapper lives in :mod:`.wrappers` (the 'env' extra); still importable from here
__getattr__ = lazy_getattr(__name__, {"LinearRewardWrapper": "rewardkit.spec.wrappers"})


def linear_scalarization(values: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Linear scalarisation :math:`\\mathbf w^\\top \\mathbf r` of each objective vector (row) of ``values`` ``(n, d)``.

    Not :func:`rewardkit.core.weighted_sum`, which composes reward *terms*.

    Example:
        >>> linear_scalarization(np.array([[1.0, 2.0]]), [0.5, 0.25]).tolist()
        [1.0]
    """
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (v.shape[1],):
        raise ValueError(f"weights: got shape {w.shape}; expected ({v.shape[1]},)")
    return v @ w


def tchebycheff(values: np.ndarray, weights: Sequence[float], utopia: Sequence[float], rho: float = 0.0) -> np.ndarray:
    """Augmented Tchebycheff utility (higher is better).

    Example:
        >>> tchebycheff(np.array([[1.0, 1.0], [2.0, 0.0]]), [0.5, 0.5], [2.0, 2.0]).tolist()
        [-0.5, -1.0]
    """
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    w = np.asarray(weights, dtype=np.float64)
    z = np.asarray(utopia, dtype=np.float64)
    gap = w * np.abs(z - v)
    return -gap.max(axis=1) - rho * gap.sum(axis=1)


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows (maximisation; duplicates all kept).

    Example:
        >>> pareto_mask(np.array([[1, 0], [0, 1], [0, 0], [1, 1]])).tolist()
        [False, False, False, True]
    """
    p = np.atleast_2d(np.asarray(points, dtype=np.float64))
    ge = (p[:, None, :] >= p[None, :, :]).all(-1)  # ge[i, j]: i >= j everywhere
    gt = (p[:, None, :] > p[None, :, :]).any(-1)
    dominated = (ge & gt).any(axis=0)  # some i dominates j
    return ~dominated


def pareto_front(points: np.ndarray) -> np.ndarray:
    """The non-dominated rows, unique, sorted lexicographically."""
    p = np.atleast_2d(np.asarray(points, dtype=np.float64))
    return np.unique(p[pareto_mask(p)], axis=0)


def hypervolume(points: np.ndarray, reference: Sequence[float]) -> float:
    """Volume dominated by ``points`` and bounded below by ``reference`` (maximisation).

    Exact, by slicing along the last objective (HSO); points not strictly better than
    the reference in every objective contribute nothing.

    Example:
        >>> hypervolume(np.array([[1.0, 2.0], [2.0, 1.0]]), [0.0, 0.0])
        3.0
    """
    ref = np.asarray(reference, dtype=np.float64)
    p = np.atleast_2d(np.asarray(points, dtype=np.float64))
    if p.shape[1] != ref.shape[0]:
        raise ValueError(f"reference: got {ref.shape[0]} objectives; expected {p.shape[1]}")
    p = p[(p > ref).all(axis=1)]
    if p.size == 0:
        return 0.0
    return float(_hv(pareto_front(p) - ref))


def _hv(p: np.ndarray) -> float:
    """Hypervolume of points (already shifted so the reference is the origin)."""
    d = p.shape[1]
    if d == 1:
        return float(p[:, 0].max())
    if d == 2:
        q = p[np.argsort(-p[:, 0])]
        vol, best_y = 0.0, 0.0
        for x, y in q:
            if y > best_y:
                vol += x * (y - best_y)
                best_y = y
        return vol
    levels = np.unique(p[:, -1])
    vol, prev = 0.0, 0.0
    for z in levels:  # slab (prev, z]: points with last coordinate >= z are present
        sub = p[p[:, -1] >= z][:, :-1]
        vol += (z - prev) * _hv(pareto_front(sub))
        prev = z
    return vol


@register_term("scalarized", batch_kind="any", example={"method": "tchebycheff", "reward": {"terms": [
    {"type": "env_reward"}, {"type": "info_key", "params": {"key": "x"}}]}})
class Scalarized(RewardTerm):
    """Scalarise the term vector of a :class:`ComposedReward`.

    ``reward`` is a :class:`ComposedReward`, a term, or a reward config ``{terms: [...]}`` (built with
    :func:`~rewardkit.core.build_reward`, so a YAML config can name this term).
    ``method="linear"`` uses :func:`linear_scalarization`, ``method="tchebycheff"`` :func:`tchebycheff`.

    With ``method="tchebycheff"`` and no ``utopia``, the utopian point adapts: it is the
    best value seen so far per objective plus ``tau`` (as in morl-baselines).

    Example:
        >>> from rewardkit.core import Constant, SampleBatch, weighted_sum as ws
        >>> vec = ws({"speed": Constant(1.0), "safety": Constant(3.0)})
        >>> Scalarized(vec, method="linear", weights=[0.5, 0.5])(SampleBatch(["p"], ["c"])).tolist()
        [2.0]
    """

    def __init__(self, reward: Any, method: str = "linear", weights: Sequence[float] | None = None,
                 utopia: Sequence[float] | None = None, rho: float = 0.0, tau: float = 0.1,
                 name: str = "scalarized"):
        super().__init__(name)
        if isinstance(reward, Mapping):  # a reward config {terms: [...]}, as YAML/TOML give it
            reward = build_reward(reward, field="params.reward")
        self.reward = reward if isinstance(reward, ComposedReward) else ComposedReward([as_term(reward)])
        if method not in ("linear", "tchebycheff"):
            raise ValueError(f"method: got {method!r}; expected 'linear' or 'tchebycheff'")
        self.method = method
        d = len(self.reward.components)
        self.weights = np.full(d, 1.0 / d) if weights is None else np.asarray(weights, dtype=np.float64)
        if self.weights.shape != (d,):
            raise ValueError(f"weights: got {len(self.weights)} values; expected {d} (one per term)")
        self.utopia = None if utopia is None else np.asarray(utopia, dtype=np.float64)
        self.rho, self.tau = float(rho), float(tau)
        self._best: np.ndarray | None = None
        self.batch_kind = self.reward.batch_kind  # type: ignore[misc]

    def children(self) -> dict[str, RewardTerm]:
        return {"reward": self.reward}

    def state_dict(self) -> dict[str, Any]:
        best = None if self._best is None else self._best.copy()
        return {"best": best, **super().state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        best = state.get("best")
        self._best = None if best is None else np.array(best, dtype=np.float64)
        super().load_state_dict(state)

    def vector(self, batch: Any) -> np.ndarray:
        """The ``(n, d)`` vector reward (each term before its weight)."""
        res = self.reward.evaluate(batch)
        return np.stack([res.terms[c.term.name] for c in self.reward.components], axis=1)

    def compute(self, batch: Any) -> np.ndarray:
        v = self.vector(batch)
        if self.method == "linear":
            return linear_scalarization(v, self.weights)
        if self.utopia is not None:
            z = self.utopia
        else:
            top = v.max(axis=0)
            self._best = top if self._best is None else np.maximum(self._best, top)
            z = self._best + self.tau
        return tchebycheff(v, self.weights, z, self.rho)
