"""Soft (entropy-regularised) optimal control on a :class:`~rewardkit.tabular.TabularMDP`.

The soft Bellman equations with temperature :math:`\\tau` (Ziebart 2010; Haarnoja et al. 2017)

.. math:: Q(s,a) = R(s,a) + \\gamma \\sum_{s'} T(s'|s,a) V(s'),\\qquad
          V(s) = \\tau \\log \\sum_a e^{Q(s,a)/\\tau},\\qquad \\pi(a|s) = e^{(Q(s,a) - V(s))/\\tau}

are shared by maximum-causal-entropy IRL (:mod:`rewardkit.learn.irl`) and the Policy Cliff
stability probe (:mod:`rewardkit.audit.cliff`), so they live in the tabular substrate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import ConfigError
from .mdp import TabularMDP

__all__ = ["logsumexp", "soft_value_iteration"]


def logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    """Stable :math:`\\log\\sum\\exp` along ``axis``.

    Example:
        >>> import numpy as np
        >>> float(logsumexp(np.array([[0.0, 0.0]]), axis=1)[0]) == float(np.log(2))
        True
    """
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def soft_value_iteration(mdp: TabularMDP, R: Any, temperature: float = 1.0, tol: float = 1e-9,
                         max_iter: int = 10_000, V0: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Soft-optimal ``(V, Q, pi)`` of reward ``R`` (``(S, A)`` or ``(S,)``) with entropy temperature ``tau``:
    :math:`V(s) = \\tau\\log\\sum_a e^{Q(s,a)/\\tau}`, :math:`\\pi(a|s) = e^{(Q(s,a)-V(s))/\\tau}`.
    Solved by soft policy iteration (exact evaluation of the softmax policy by one linear
    solve per step), which reaches ``tol`` in a few steps.  Terminal (absorbing) states have
    value 0 and a uniform policy; ``V0`` warm-starts the iteration.

    Example:
        >>> import numpy as np
        >>> T = np.zeros((1, 2, 1)); T[0, :, 0] = 1.0
        >>> mdp = TabularMDP(T, np.zeros((1, 2)), 0.5, [1.0])
        >>> V, Q, pi = soft_value_iteration(mdp, np.array([[0.0, 0.0]]))
        >>> round(float(V[0]), 6), pi[0].tolist()       # log 2 / (1 - 0.5)
        (1.386294, [0.5, 0.5])
    """
    if temperature <= 0:
        raise ConfigError("temperature", f"got {temperature!r}", "a positive entropy temperature")
    if mdp.gamma >= 1.0:
        raise ConfigError("gamma", "soft value iteration needs gamma < 1", "an MDP with gamma in (0, 1)")
    Rr = mdp._masked(R)
    T = mdp.transitions
    live = ~mdp.terminal
    S = mdp.n_states
    V = np.zeros(S) if V0 is None else np.asarray(V0, dtype=np.float64).copy()
    eye = np.eye(int(live.sum()))
    for _ in range(max_iter):
        # soft policy iteration (Haarnoja et al. 2017): improve pi = softmax(Q / tau), then evaluate it
        # exactly, V = (I - gamma P_pi)^-1 sum_a pi (R - tau log pi); converges in a handful of steps
        Q = Rr + mdp.gamma * (T @ V)
        logpi = (Q - temperature * logsumexp(Q / temperature, axis=1)[:, None]) / temperature
        pi = np.exp(logpi)
        r_pi = (pi * (Rr - temperature * logpi)).sum(axis=1)
        P = np.einsum("sa,sat->st", pi, T)
        V_new = np.zeros(S)
        V_new[live] = np.linalg.solve(eye - mdp.gamma * P[np.ix_(live, live)], r_pi[live])
        if np.max(np.abs(V_new - V)) < tol:
            V = V_new
            break
        V = V_new
    Q = Rr + mdp.gamma * (T @ V)
    Q[~live] = 0.0
    pi = np.exp((Q - V[:, None]) / temperature)
    pi[~live] = 1.0 / mdp.n_actions
    pi /= pi.sum(axis=1, keepdims=True)
    return V, Q, pi
