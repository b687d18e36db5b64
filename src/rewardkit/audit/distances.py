"""Reward distances that ignore what does not change behaviour: EPIC and STARC.

Two rewards that differ only by potential shaping or a positive scale induce the same
optimal policies, so a useful distance should treat them as equal.  Both metrics
here first *canonicalise* a reward (remove the shaping), then *standardise* it
(remove the scale), then compare.  Rewards are tabular arrays ``R[s, a, s']``
(``R[s, a]`` is broadcast over ``s'``).

**EPIC** (Gleave, Dennis, Legg, Russell & Leike, ICLR 2021, "Quantifying Differences in
Reward Functions").  With :math:`S, S' \\sim D_S` and :math:`A \\sim D_A` independent,

.. math:: C(R)(s,a,s') = R(s,a,s') + \\gamma\\,\\mathbb E[R(s',A,S')] - \\mathbb E[R(s,A,S')]
          - \\gamma\\,\\mathbb E[R(S,A,S')],

and :math:`D_{EPIC}(R_A, R_B) = \\sqrt{(1 - \\rho(C(R_A), C(R_B)))/2} \\in [0, 1]`, with
:math:`\\rho` the Pearson correlation under a coverage distribution over transitions.

**STARC** (Skalse, Farnik, Motwani, Jenner, Gleave & Abate, ICLR 2024, "STARC: A General
Framework For Quantifying Differences Between Reward Functions").
:math:`d(R_1, R_2) = \\lVert s(R_1) - s(R_2) \\rVert` with :math:`s(R) = c(R)/\\lVert c(R)\\rVert`
and the value-adjusted levelling canonicalisation, for a fixed policy :math:`\\pi`,

.. math:: c_{VAL}(R)(s,a,s') = \\mathbb E_{S' \\sim \\tau(s,a)}\\big[R(s,a,S') - V^\\pi(s) + \\gamma V^\\pi(S')\\big].

:math:`V^\\pi` is computed in closed form, :math:`V = (I - \\gamma P_\\pi)^{-1} r_\\pi`, rather than
by iteration.  Unlike EPIC, STARC also ignores *S'-redistribution* (moving reward between
next states without changing its expectation under the dynamics), and it bounds regret
from above and below.
"""

from __future__ import annotations

import numpy as np

from rewardkit.core.potential import potential_difference

__all__ = [
    "add_potential_shaping",
    "as_sas",
    "epic_canonical",
    "epic_distance",
    "pearson_distance",
    "starc_distance",
    "val_canonical",
]


def as_sas(R: np.ndarray, n_states: int | None = None) -> np.ndarray:
    """Return ``R`` as an ``(S, A, S')`` array (``(S, A)`` and ``(S,)`` are broadcast)."""
    R = np.asarray(R, dtype=np.float64)
    if R.ndim == 1:
        R = R[:, None]
    if R.ndim == 2:
        s = R.shape[0] if n_states is None else n_states
        R = np.broadcast_to(R[:, :, None], (*R.shape, s)).copy()
    if R.ndim != 3 or R.shape[0] != R.shape[2]:
        raise ValueError(f"R: got shape {R.shape}; expected (S, A, S), (S, A) or (S,)")
    return R


def add_potential_shaping(R: np.ndarray, phi: np.ndarray, gamma: float) -> np.ndarray:
    """:math:`R'(s,a,s') = R(s,a,s') + \\gamma\\Phi(s') - \\Phi(s)` (for tests and audits; no terminal states).

    A tabular reward plus :func:`rewardkit.core.potential_difference`; EPIC and STARC treat
    ``R`` and ``R'`` as the same reward.

    Example:
        >>> add_potential_shaping(np.zeros((2, 1, 2)), np.array([0.0, 1.0]), 0.5)[:, 0, :].tolist()
        [[0.0, 0.5], [-1.0, -0.5]]
    """
    R = as_sas(R)
    phi = np.asarray(phi, dtype=np.float64)
    return R + potential_difference(phi[:, None, None], phi[None, None, :], gamma)


def epic_canonical(R: np.ndarray, gamma: float, state_dist: np.ndarray | None = None,
                   action_dist: np.ndarray | None = None) -> np.ndarray:
    """EPIC's canonically shaped reward :math:`C(R)` (invariant to potential shaping).

    Example:
        >>> rng = np.random.default_rng(0); R = rng.normal(size=(3, 2, 3))
        >>> R2 = add_potential_shaping(R, rng.normal(size=3), 0.9)
        >>> bool(np.allclose(epic_canonical(R, 0.9), epic_canonical(R2, 0.9)))
        True
    """
    R = as_sas(R)
    n_s, n_a, _ = R.shape
    ds = np.full(n_s, 1.0 / n_s) if state_dist is None else np.asarray(state_dist, dtype=np.float64)
    da = np.full(n_a, 1.0 / n_a) if action_dist is None else np.asarray(action_dist, dtype=np.float64)
    mean_s = np.einsum("sax,a,x->s", R, da, ds)  # E[R(s, A, S')]
    mean_all = float(ds @ mean_s)  # E[R(S, A, S')]
    # shaping with the potential Phi(s) = E[R(s, A, S')], then the constant -gamma E[R(S, A, S')]
    return R + potential_difference(mean_s[:, None, None], mean_s[None, None, :], gamma) - gamma * mean_all


def pearson_distance(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    """:math:`\\sqrt{(1-\\rho)/2}` with :math:`\\rho` the (weighted) Pearson correlation.

    Example:
        >>> pearson_distance(np.array([1.0, 2, 3]), np.array([2.0, 4, 6]))
        0.0
        >>> pearson_distance(np.array([1.0, 2]), np.array([2.0, 1]))
        1.0
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    w = np.full(x.shape, 1.0 / x.size) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    w = w / w.sum()
    xc, yc = x - w @ x, y - w @ y
    vx, vy = w @ (xc * xc), w @ (yc * yc)
    if vx <= 1e-300 or vy <= 1e-300:
        return 0.0 if vx <= 1e-300 and vy <= 1e-300 else float(np.sqrt(0.5))
    rho = float(np.clip(w @ (xc * yc) / np.sqrt(vx * vy), -1.0, 1.0))
    return float(np.sqrt(max(0.0, (1.0 - rho) / 2.0)))


def epic_distance(Ra: np.ndarray, Rb: np.ndarray, gamma: float, coverage: np.ndarray | None = None,
                  state_dist: np.ndarray | None = None, action_dist: np.ndarray | None = None) -> float:
    """EPIC pseudometric between two tabular rewards.

    ``coverage`` weights the ``(s, a, s')`` transitions in the correlation (default:
    uniform); ``state_dist`` / ``action_dist`` are :math:`D_S` / :math:`D_A` of the
    canonicalisation (default: uniform).

    Example:
        >>> rng = np.random.default_rng(1); R = rng.normal(size=(4, 2))
        >>> round(epic_distance(R, 3.0 * R + 1.0, 0.9), 6), epic_distance(R, -R, 0.9) > 0.9
        (0.0, True)
    """
    ca = epic_canonical(Ra, gamma, state_dist, action_dist)
    cb = epic_canonical(Rb, gamma, state_dist, action_dist)
    return pearson_distance(ca, cb, coverage)


def _policy_value(expected_R: np.ndarray, T: np.ndarray, gamma: float, policy: np.ndarray) -> np.ndarray:
    """:math:`V^\\pi = (I - \\gamma P^\\pi)^{-1} r^\\pi` from the expected reward ``(S, A)``, by one linear solve."""
    r_pi = (policy * expected_R).sum(axis=1)
    P = np.einsum("sa,sax->sx", policy, T)
    return np.linalg.solve(np.eye(P.shape[0]) - gamma * P, r_pi)


def val_canonical(R: np.ndarray, T: np.ndarray, gamma: float, policy: np.ndarray | None = None) -> np.ndarray:
    """STARC's value-adjusted levelling :math:`c_{VAL}(R)`, shape ``(S, A)``.

    ``T`` has shape ``(S, A, S')``; ``policy`` ``(S, A)`` defaults to uniform.

    Example:
        >>> rng = np.random.default_rng(2); T = rng.dirichlet(np.ones(3), size=(3, 2)); R = rng.normal(size=(3, 2, 3))
        >>> c1 = val_canonical(R, T, 0.9); c2 = val_canonical(add_potential_shaping(R, rng.normal(size=3), 0.9), T, 0.9)
        >>> bool(np.allclose(c1, c2))
        True
    """
    R = as_sas(R, T.shape[0])
    T = np.asarray(T, dtype=np.float64)
    n_s, n_a, _ = T.shape
    pi = np.full((n_s, n_a), 1.0 / n_a) if policy is None else np.asarray(policy, dtype=np.float64)
    expected = (T * R).sum(axis=2)                       # E_{s'}[R(s, a, s')], shared by both terms
    v = _policy_value(expected, T, gamma, pi)
    return expected + potential_difference(v[:, None], T @ v, gamma)  # shaping with Phi = V^pi


def starc_distance(Ra: np.ndarray, Rb: np.ndarray, T: np.ndarray, gamma: float, norm: float | str = 2,
                   policy: np.ndarray | None = None) -> float:
    """STARC-VAL distance :math:`\\lVert c(R_a)/\\lVert c(R_a)\\rVert - c(R_b)/\\lVert c(R_b)\\rVert \\rVert`.

    ``norm`` is 1, 2 or ``"inf"`` (the same norm standardises and measures).  A reward
    whose canonical form is 0 (it is pure shaping: every policy is optimal) standardises
    to 0.  With the L2 norm the distance lies in ``[0, 2]``.

    Example:
        >>> rng = np.random.default_rng(3); T = rng.dirichlet(np.ones(4), size=(4, 2)); R = rng.normal(size=(4, 2))
        >>> round(starc_distance(R, 2 * R, T, 0.9), 8), round(starc_distance(R, -R, T, 0.9), 6)
        (0.0, 2.0)
    """
    ord_ = np.inf if norm in ("inf", np.inf) else float(norm)

    def standardise(R: np.ndarray) -> np.ndarray:
        c = val_canonical(R, T, gamma, policy).reshape(-1)
        n = np.linalg.norm(c, ord=ord_)
        return c / n if n > 1e-12 else np.zeros_like(c)

    return float(np.linalg.norm(standardise(Ra) - standardise(Rb), ord=ord_))
