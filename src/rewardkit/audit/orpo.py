"""Occupancy-regularised policy optimisation (ORPO): bounding reward hacking of a correlated proxy.

Laidlaw, Singhal & Dragan (2025, "Correlated Proxies: A New Definition and Improved Mitigation
for Reward Hacking", catalog #197).  A proxy reward is *correlated* with the true reward on the
state-actions a base policy :math:`\\pi_b` visits; optimising it hard moves the occupancy measure
to state-actions where the correlation breaks.  The mitigation regularises the *occupancy
measure* :math:`d_\\pi(s,a) = (1-\\gamma)\\sum_t \\gamma^t \\Pr(s_t=s, a_t=a)` rather than the
action distribution:

.. math:: \\max_\\pi\\; \\frac{1}{1-\\gamma}\\sum_{s,a} d_\\pi(s,a)\\,\\tilde R(s,a)
          \\;-\\; \\lambda\\, D\\big(d_\\pi \\,\\|\\, d_{\\pi_b}\\big),\\qquad
          D_{\\chi^2} = \\sum_{s,a} \\frac{(d_\\pi - d_{\\pi_b})^2}{d_{\\pi_b}},

with :math:`D_{KL} = \\sum d_\\pi \\log(d_\\pi / d_{\\pi_b})` and
:math:`D_{TV} = \\tfrac12\\sum |d_\\pi - d_{\\pi_b}|` as alternatives.  Because the true-minus-proxy
gap is small in :math:`\\chi^2`-expectation under :math:`d_{\\pi_b}`, the :math:`\\chi^2` penalty bounds
how much true return can be lost for the proxy return gained (their Theorem 5.1).

In a tabular MDP the problem is convex in :math:`d` under the Bellman flow constraints
:math:`\\sum_a d(s',a) = (1-\\gamma)\\mu_0(s') + \\gamma\\sum_{s,a} T(s'|s,a)\\,d(s,a)`, so
:func:`occupancy_regularised_policy` solves it *exactly* (SLSQP for χ²/KL, a HiGHS linear program for
TV) and reads the policy off :math:`\\pi(a|s) = d(s,a)/\\sum_{a'} d(s,a')`.  The usual action-level
alternative,

.. math:: \\max_\\pi J_{\\tilde R}(\\pi)
          - \\lambda\\,\\mathbb{E}_{d_\\pi}[\\mathrm{KL}(\\pi(\\cdot|s)\\,\\|\\,\\pi_b(\\cdot|s))],

is :func:`action_kl_policy` (soft value iteration with the reward :math:`\\tilde R + \\lambda\\log\\pi_b`
at temperature :math:`\\lambda`).  The paper's discriminator-based estimate of the occupancy ratio
for large state spaces is not built here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import ConfigError
from ..tabular.mdp import TabularMDP
from ..tabular.soft import soft_value_iteration

__all__ = ["DIVERGENCES", "action_kl_policy", "occupancy", "occupancy_divergence", "occupancy_regularised_policy"]

#: the occupancy divergences :func:`occupancy_regularised_policy` accepts
DIVERGENCES = ("chi2", "kl", "tv")


def occupancy(mdp: TabularMDP, policy: Any) -> np.ndarray:
    """Normalised discounted state-action occupancy :math:`d_\\pi` (sums to 1), shape ``(S, A)``.

    Example:
        >>> mdp = TabularMDP.random(4, 2, gamma=0.9, seed=0)
        >>> round(float(occupancy(mdp, np.full((4, 2), 0.5)).sum()), 9)
        1.0
    """
    return (1.0 - mdp.gamma) * mdp.occupancy(policy)


def occupancy_divergence(d: Any, d_base: Any, kind: str = "chi2") -> float:
    """:math:`D(d \\| d_b)` for ``kind`` in :data:`DIVERGENCES` (χ² and KL need :math:`d_b > 0`).

    Example:
        >>> occupancy_divergence([0.5, 0.5], [0.25, 0.75]), round(occupancy_divergence([0.5, 0.5], [0.25, 0.75], "tv"), 6)
        (0.3333333333333333, 0.25)
    """
    d, b = np.asarray(d, dtype=np.float64).ravel(), np.asarray(d_base, dtype=np.float64).ravel()
    if kind == "tv":
        return float(0.5 * np.abs(d - b).sum())
    if np.any(b <= 0):
        raise ConfigError("d_base", "has zero entries", f"a base occupancy with full support for {kind!r}")
    if kind == "chi2":
        return float(((d - b) ** 2 / b).sum())
    if kind == "kl":
        dd = np.clip(d, 1e-300, None)
        return float((d * np.log(dd / b)).sum())
    raise ConfigError("divergence", f"got {kind!r}", f"one of {DIVERGENCES}")


def _flow(mdp: TabularMDP) -> tuple[np.ndarray, np.ndarray]:
    """Equality constraints ``A d = b`` of the Bellman flow, ``d`` flattened (S*A,)."""
    S, A = mdp.n_states, mdp.n_actions
    T = mdp._T_eff   # terminal states are absorbing self-loops, as in TabularMDP.occupancy
    Aeq = np.zeros((S, S * A))
    for s in range(S):
        Aeq[s, s * A:(s + 1) * A] += 1.0
    Aeq -= mdp.gamma * T.reshape(S * A, S).T
    return Aeq, (1.0 - mdp.gamma) * mdp.mu0


def _policy_from(d: np.ndarray, S: int, A: int) -> np.ndarray:
    d = np.clip(d.reshape(S, A), 0.0, None)
    tot = d.sum(axis=1, keepdims=True)
    return np.where(tot > 1e-15, d / np.where(tot > 1e-15, tot, 1.0), 1.0 / A)


def occupancy_regularised_policy(mdp: TabularMDP, proxy_R: Any, base_policy: Any, lam: float,
                                 divergence: str = "chi2") -> np.ndarray:
    """The exact maximiser :math:`\\pi` of :math:`J_{\\tilde R}(\\pi) - \\lambda D(d_\\pi \\| d_{\\pi_b})` (see module doc).

    Example:
        >>> mdp = TabularMDP.random(5, 2, gamma=0.8, seed=1)
        >>> base = np.full((5, 2), 0.5)
        >>> pi = occupancy_regularised_policy(mdp, mdp.R, base, lam=1e4)   # a huge penalty keeps the base
        >>> bool(np.abs(pi - base).max() < 1e-2)
        True
    """
    from scipy.optimize import linprog, minimize

    if lam < 0:
        raise ConfigError("lam", f"got {lam!r}", "a non-negative regularisation strength")
    S, A = mdp.n_states, mdp.n_actions
    R = TabularMDP._check_reward(proxy_R, S, A, "proxy_R").ravel() / (1.0 - mdp.gamma)
    db = occupancy(mdp, base_policy).ravel()
    Aeq, beq = _flow(mdp)
    n = S * A
    if divergence == "tv" or lam == 0:
        # maximise R.d - lam/2 sum t  s.t. t >= |d - db|: variables [d, t]
        c = np.concatenate([-R, np.full(n, lam / 2.0)])
        eye = np.eye(n)
        A_ub = np.block([[eye, -eye], [-eye, -eye]])
        b_ub = np.concatenate([db, -db])
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=np.hstack([Aeq, np.zeros((S, n))]), b_eq=beq,
                      bounds=[(0, None)] * (2 * n), method="highs")
        if not res.success:
            raise ConfigError("mdp", f"the occupancy LP failed: {res.message}", "a feasible tabular MDP")
        return _policy_from(res.x[:n], S, A)
    if divergence not in DIVERGENCES:
        raise ConfigError("divergence", f"got {divergence!r}", f"one of {DIVERGENCES}")
    if np.any(db <= 0):
        raise ConfigError("base_policy", "leaves some state-action unvisited", "a base policy with full occupancy support")

    def objective(d: np.ndarray) -> tuple[float, np.ndarray]:
        if divergence == "chi2":
            return float(-R @ d + lam * ((d - db) ** 2 / db).sum()), -R + 2.0 * lam * (d - db) / db
        dd = np.clip(d, 1e-12, None)
        return float(-R @ d + lam * (dd * np.log(dd / db)).sum()), -R + lam * (np.log(dd / db) + 1.0)

    res = minimize(objective, db.copy(), jac=True, method="SLSQP", bounds=[(0.0, 1.0)] * n,
                   constraints=[{"type": "eq", "fun": lambda d: Aeq @ d - beq, "jac": lambda d: Aeq}],
                   options={"maxiter": 500, "ftol": 1e-12})
    return _policy_from(res.x, S, A)


def action_kl_policy(mdp: TabularMDP, proxy_R: Any, base_policy: Any, lam: float) -> np.ndarray:
    """Action-level KL regularisation: :math:`\\pi(a|s) \\propto \\pi_b(a|s)\\exp(Q(s,a)/\\lambda)`.

    The soft-optimal policy of the reward :math:`\\tilde R + \\lambda\\log\\pi_b` at temperature
    :math:`\\lambda` (so its entropy term turns into :math:`-\\lambda\\,\\mathrm{KL}(\\pi\\|\\pi_b)`).

    Example:
        >>> mdp = TabularMDP.random(4, 2, gamma=0.8, seed=0)
        >>> base = np.full((4, 2), 0.5)
        >>> bool(np.abs(action_kl_policy(mdp, mdp.R, base, lam=1e3) - base).max() < 1e-2)
        True
    """
    if lam <= 0:
        raise ConfigError("lam", f"got {lam!r}", "a positive regularisation strength")
    S, A = mdp.n_states, mdp.n_actions
    base = np.asarray(base_policy, dtype=np.float64)
    if base.shape != (S, A) or np.any(base <= 0):
        raise ConfigError("base_policy", f"has shape {base.shape} or zero entries", f"a full-support policy ({S}, {A})")
    R = TabularMDP._check_reward(proxy_R, S, A, "proxy_R") + lam * np.log(base)
    _, _, pi = soft_value_iteration(mdp, R, temperature=lam)
    return pi
