"""Dynamic potential-based shaping: a potential that depends on time or changes while learning.

Devlin & Kudenko (2012), "Dynamic Potential-Based Reward Shaping", AAMAS.  With a
potential :math:`\\Phi(s, t)` that may change over time,

.. math:: F(s, t, s', t') = \\gamma\\,\\Phi(s', t') - \\Phi(s, t)

still leaves the optimal policies unchanged, *provided* :math:`\\Phi(s, t)` is the value
the potential had when :math:`s` was entered - i.e. the :math:`\\gamma\\Phi(s',t')` paid at
one step is exactly the :math:`\\Phi(s,t)` charged at the next.  Then the shaping
telescopes along every episode,

.. math:: \\sum_{t=0}^{T-1} \\gamma^t F_t = \\gamma^T \\Phi(s_T, T) - \\Phi(s_0, 0),

which is independent of the actions taken (and is :math:`-\\Phi(s_0,0)` when the episode
terminates, since :math:`\\Phi = 0` on absorbing states).  :class:`DynamicPotentialShaping`
caches the last paid potential per sub-environment to guarantee this even when the
potential function is being learned between calls.  Time ``t`` counts steps in the
current episode.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

from ..core.batch import TransitionBatch
from ..core.errors import BatchError
from ..core.potential import potential_difference
from ..core.term import RewardTerm
from .potential import _check_gamma

__all__ = ["DynamicPotentialShaping"]


class DynamicPotentialShaping(RewardTerm):
    """:math:`F = \\gamma\\,\\Phi(s', t+1)[1-\\text{terminated}] - \\Phi(s, t)` with cached :math:`\\Phi(s,t)`.

    Args:
        potential: callable ``(obs_batch, t) -> (n,)`` where ``t`` is an int array of
            per-item episode step counts; it may change between calls (learned potentials).
        gamma: **the agent's** discount factor (default 0.99 - set it to your agent's).
        name: term name.

    The term is stateful: call :meth:`reset` (or let a wrapper call it) for the
    sub-environments whose episode ended; ``done`` transitions reset automatically.

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import TransitionBatch
        >>> bump = {"k": 0.0}
        >>> def phi(obs, t):                      # a potential that drifts on every call
        ...     bump["k"] += 1.0
        ...     return np.asarray(obs, float) + bump["k"]
        >>> term = DynamicPotentialShaping(phi, gamma=1.0)
        >>> f1 = term(TransitionBatch.from_arrays([0], [0], [1], [0.0]))
        >>> f2 = term(TransitionBatch.from_arrays([1], [0], [2], [0.0], terminated=[True]))
        >>> float(f1[0] + f2[0])                  # telescopes to -Phi(s0, 0) despite the drift
        -1.0
    """

    batch_kind = "transition"

    def __init__(self, potential: Callable[[Any, np.ndarray], Any], gamma: float = 0.99,
                 name: str = "dynamic_pbrs"):
        super().__init__(name)
        if not callable(potential):
            raise BatchError("potential", f"got {type(potential).__name__}", "a callable (obs, t) -> (n,)")
        self.potential = potential
        self.gamma = _check_gamma(gamma)
        self._t: dict[int, int] = {}
        self._last: dict[int, float] = {}

    def _phi(self, obs: Any, t: np.ndarray, n: int, which: str) -> np.ndarray:
        v = np.asarray(self.potential(obs, t), dtype=np.float64).reshape(-1)
        if v.shape != (n,) or not np.all(np.isfinite(v)):
            raise BatchError(f"potential({which}, t)", f"returned shape {v.shape} / non-finite values",
                             f"finite values of shape ({n},)")
        return v

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        n = len(batch)
        envs = batch.env_index.tolist()
        t = np.array([self._t.get(e, 0) for e in envs], dtype=np.int64)
        fresh = np.array([e not in self._last for e in envs])
        phi_s = np.array([self._last.get(e, np.nan) for e in envs])
        if fresh.any():
            phi_s[fresh] = self._phi(batch.obs, t, n, "obs")[fresh]
        phi_next = self._phi(batch.next_obs, t + 1, n, "next_obs")
        phi_next = np.where(batch.terminated, 0.0, phi_next)   # the potential paid (and cached) for s'
        out = potential_difference(phi_s, phi_next, self.gamma, batch.terminated)
        done = batch.done
        for i, e in enumerate(envs):
            if done[i]:
                self._t.pop(e, None)
                self._last.pop(e, None)
            else:
                self._t[e] = int(t[i]) + 1
                self._last[e] = float(phi_next[i])
        return out

    def reset(self, mask: np.ndarray | None = None) -> None:
        if mask is None:
            self._t.clear()
            self._last.clear()
            return
        for e in np.flatnonzero(np.asarray(mask, dtype=bool)).tolist():
            self._t.pop(e, None)
            self._last.pop(e, None)

    def state_dict(self) -> dict[str, Any]:
        return {"t": dict(self._t), "last": dict(self._last)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._t = {int(k): int(v) for k, v in state.get("t", {}).items()}
        self._last = {int(k): float(v) for k, v in state.get("last", {}).items()}
