"""Tabular maximum-causal-entropy inverse RL (discounted, reward linear in features).

Ziebart, Bagnell & Dey (2010, "Modeling interaction via the principle of maximum
causal entropy", ICML; Ziebart 2010, PhD thesis, ch. 6/9).  With a reward linear in
features :math:`r_\\theta(s,a) = \\theta^\\top \\phi(s,a)`, the maximum-causal-entropy
policy is the soft-optimal policy of the *soft Bellman equations*

.. math:: Q_\\theta(s,a) = r_\\theta(s,a) + \\gamma \\sum_{s'} T(s'|s,a)\\,V_\\theta(s'),\\qquad
          V_\\theta(s) = \\log \\sum_a \\exp Q_\\theta(s,a),\\qquad
          \\pi_\\theta(a|s) = \\exp(Q_\\theta(s,a) - V_\\theta(s))

and the gradient of the demonstrations' causal log-likelihood is the difference of
discounted feature expectations

.. math:: \\nabla_\\theta \\mathcal{L} = \\mu_E - \\mu_{\\pi_\\theta},\\qquad
          \\mu_\\pi = \\sum_{s,a} d^\\pi(s,a)\\,\\phi(s,a)

with :math:`d^\\pi` the discounted state-action occupancy (computed exactly by one
linear solve on the :class:`~rewardkit.tabular.TabularMDP`).  This is the discounted
infinite-horizon variant (imitation's ``MCEIRL`` is finite-horizon only).  The
ascent uses Adam (Kingma & Ba 2015) with an optional L2 prior on :math:`\\theta`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Sequence

import numpy as np

from ..core.errors import ConfigError
from ..tabular.mdp import TabularMDP
from ..tabular.soft import soft_value_iteration

__all__ = ["IRLResult", "empirical_occupancy", "feature_expectations", "mce_irl", "soft_value_iteration"]


def feature_expectations(occupancy: np.ndarray, features: np.ndarray) -> np.ndarray:
    """:math:`\\mu = \\sum_{s,a} d(s,a)\\,\\phi(s,a)` for features ``(S, A, k)``."""
    return np.einsum("sa,sak->k", occupancy, features)


def empirical_occupancy(mdp: TabularMDP, trajectories: Sequence[Sequence[tuple[int, int]]]) -> np.ndarray:
    """Discounted state-action visitation of demonstrations, averaged over trajectories.

    :math:`\\hat d(s,a) = \\frac{1}{N} \\sum_{n} \\sum_t \\gamma^t \\mathbb{1}[s^n_t = s, a^n_t = a]`.
    Each trajectory is a list of ``(state, action)`` pairs (stop at a terminal state).

    Example:
        >>> import numpy as np
        >>> mdp = TabularMDP.random(3, 2, gamma=0.5, seed=0)
        >>> empirical_occupancy(mdp, [[(0, 1), (2, 0)]]).tolist()
        [[0.0, 1.0], [0.0, 0.0], [0.5, 0.0]]
    """
    if not trajectories:
        raise ConfigError("trajectories", "is empty", "a list of [(state, action), ...] trajectories")
    d = np.zeros((mdp.n_states, mdp.n_actions))
    for n, traj in enumerate(trajectories):
        for t, sa in enumerate(traj):
            try:
                s, a = int(sa[0]), int(sa[1])
            except (TypeError, ValueError, IndexError):
                raise ConfigError(f"trajectories[{n}][{t}]", f"got {sa!r}", "a (state, action) pair") from None
            if not (0 <= s < mdp.n_states and 0 <= a < mdp.n_actions):
                raise ConfigError(f"trajectories[{n}][{t}]", f"({s}, {a}) is out of range",
                                  f"state < {mdp.n_states}, action < {mdp.n_actions}")
            d[s, a] += mdp.gamma ** t
    return d / len(trajectories)


@dataclass
class IRLResult:
    """Output of :func:`mce_irl`: weights, the recovered reward, its soft policy and the gradient-norm trace."""

    theta: np.ndarray
    reward: np.ndarray
    policy: np.ndarray
    grad_norms: list[float] = field(default_factory=list)


def _features(mdp: TabularMDP, features: Any) -> np.ndarray:
    phi = np.asarray(features, dtype=np.float64)
    S, A = mdp.n_states, mdp.n_actions
    if phi.ndim == 2 and phi.shape[0] == S:
        phi = np.repeat(phi[:, None, :], A, axis=1)
    if phi.ndim != 3 or phi.shape[:2] != (S, A):
        raise ConfigError("features", f"have shape {phi.shape}", f"an array ({S}, k) or ({S}, {A}, k)")
    return phi


def mce_irl(mdp: TabularMDP, features: Any, expert_occupancy: Any, *, lr: float = 0.1, iters: int = 500,
            l2: float = 0.0, temperature: float = 1.0, grad_tol: float = 1e-6, theta0: Any = None) -> IRLResult:
    """Maximum-causal-entropy IRL: fit :math:`\\theta` so the soft-optimal policy's discounted
    feature expectations match the expert's.

    Args:
        mdp: the dynamics (its own ``R`` is ignored).
        features: :math:`\\phi`, shape ``(S, k)`` (state features) or ``(S, A, k)``.
        expert_occupancy: discounted expert state-action occupancy ``(S, A)`` (exact, e.g.
            ``mdp.occupancy(pi_E)``, or from :func:`empirical_occupancy`).
        lr: Adam step size; ``l2``: Gaussian prior precision on :math:`\\theta`.

    Example:
        >>> import numpy as np
        >>> mdp = TabularMDP.random(8, 3, gamma=0.9, seed=3, state_reward=True)
        >>> _, _, pi_E = mdp.value_iteration()
        >>> res = mce_irl(mdp, np.eye(8), mdp.occupancy(pi_E), iters=300)
        >>> _, _, pi_L = mdp.value_iteration(R=res.reward)
        >>> bool(mdp.expected_return(pi_L) >= mdp.expected_return(pi_E) - 1e-6)
        True
    """
    phi = _features(mdp, features)
    dE = np.asarray(expert_occupancy, dtype=np.float64)
    if dE.shape != (mdp.n_states, mdp.n_actions):
        raise ConfigError("expert_occupancy", f"has shape {dE.shape}",
                          f"a discounted occupancy ({mdp.n_states}, {mdp.n_actions})")
    if np.any(dE < 0) or not np.isfinite(dE).all():
        raise ConfigError("expert_occupancy", "has negative or non-finite entries", "a non-negative occupancy")
    mu_E = feature_expectations(dE, phi)
    k = phi.shape[2]
    theta = np.zeros(k) if theta0 is None else np.asarray(theta0, dtype=np.float64).copy()
    m, v = np.zeros(k), np.zeros(k)
    b1, b2, eps = 0.9, 0.999, 1e-8
    norms: list[float] = []
    V = None
    for t in range(1, int(iters) + 1):
        R = phi @ theta
        V, _, pi = soft_value_iteration(mdp, R, temperature, V0=V)
        grad = mu_E - feature_expectations(mdp.occupancy(pi), phi) - l2 * theta
        gn = float(np.linalg.norm(grad))
        norms.append(gn)
        if gn < grad_tol:
            break
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad ** 2
        theta = theta + lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    R = phi @ theta
    _, _, pi = soft_value_iteration(mdp, R, temperature)
    return IRLResult(theta, R, pi, norms)
