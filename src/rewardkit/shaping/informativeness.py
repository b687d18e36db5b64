"""How informative is a reward for a learner?  ``I_H`` (EXPRD) and ``I_L`` (ExpAdaRD).

Both criteria compare a reward :math:`R` against a *target* policy :math:`\\pi^T`
(typically optimal under the original reward :math:`\\bar R`) on a tabular MDP.

**Action gap.**  The margin by which :math:`\\pi^T` beats the other actions under
:math:`\\bar R` (Devidze et al. 2021, EXPRD, §3):

.. math:: \\Delta_s = \\min_{a \\notin \\pi^T(s)} \\big[Q^{\\pi^T}_{\\bar R}(s, \\pi^T(s)) - Q^{\\pi^T}_{\\bar R}(s, a)\\big]

(0 where every action is a target action).  Co-optimal actions are never "non-target".

**h-step advantage.**  With the state-action transition matrix of a deterministic
:math:`\\pi`, :math:`P^\\pi[(s,a),(s',a')] = T(s'|s,a)\\,\\mathbb 1[a' = \\pi(s')]`, and
:math:`I^\\pi` selecting :math:`(s, \\pi(s))` in each row block,

.. math:: A_h = (I^\\pi - I) \\sum_{k=0}^{h} \\gamma^k (P^\\pi)^k R

is the advantage of :math:`\\pi(s)` over :math:`a` when the return is cut after
:math:`h+1` rewards.  *Convention:* the sum runs over :math:`k = 0..h` inclusive, as in
the EXPRD code (the AAMAS'24 code sums to :math:`h-1`); the measured anchors use it.

**I_H** (Devidze, Radanovic, Kamalaruban & Singla 2021, "Explicable Reward Design
for Reinforcement Learning Agents", NeurIPS, Eq. 3):

.. math:: I_H(R) = -\\frac{1}{|\\Pi^T|\\,|H|\\,|S|} \\sum_{\\pi \\in \\Pi^T} \\sum_{h \\in H} \\sum_s
          \\Big[\\max_{a \\notin \\pi^T(s)} \\big(\\Delta_s - A_h(s,a)\\big)\\Big]_+ \\;\\le 0

:math:`I_H = 0` means every target action already wins by the full margin within every
horizon :math:`h \\in H` - a myopic learner is guided correctly.  PBRS with
:math:`\\Phi = V^*` (the optimal advantage) attains 0.

**I_L** (Devidze, Kamalaruban & Singla 2024, "Informativeness of Reward Functions in
Reinforcement Learning", AAMAS): learner-aware and linear in :math:`R`,

.. math:: I_L(R) = \\sum_{s,a} \\mu_T(s)\\,\\mu_L(s,a)\\,\\pi_L(a|s)\\,
          \\big(A_T(s,a) - \\bar A_T(s)\\big)\\big(R(s,a) - \\bar R_L(s)\\big)

with :math:`A_T` the advantage of the (stochastic) target policy under :math:`\\bar R`,
:math:`\\bar A_T(s) = \\sum_b \\pi_L(b|s) A_T(s,b)`, :math:`\\bar R_L(s) = \\sum_b \\pi_L(b|s) R(s,b)`,
:math:`\\mu_T` the normalised state occupancy of the :math:`\\varepsilon`-greedy target
policy (:math:`\\varepsilon = 0.4` in the paper) and :math:`\\mu_L` the normalised
state-action occupancy of the learner (terminal states excluded from both).
It is the first-order improvement of the learner's policy when trained on :math:`R`.
"""

from __future__ import annotations

import itertools
from typing import Any
from collections.abc import Sequence

import numpy as np

from ..core.errors import ConfigError
from ..tabular.mdp import TabularMDP, as_policy

__all__ = [
    "DEFAULT_H",
    "action_gap",
    "informativeness_h",
    "informativeness_l",
    "normalized_state_occupancy",
    "sa_transition",
    "target_action_mask",
    "target_policies",
    "teacher_quantities",
    "truncated_advantage_operators",
]

#: EXPRD's horizon set for the four-room experiments
DEFAULT_H: tuple[int, ...] = (1, 4, 8, 16, 32)


def target_action_mask(mdp: TabularMDP, target_policy: Any = None, tol: float = 1e-8) -> np.ndarray:
    """Boolean ``(S, A)`` mask of target actions.

    ``None`` -> all actions optimal under the MDP's own reward (within ``tol``);
    otherwise the support of ``target_policy`` (int ``(S,)``, one-hot or stochastic ``(S, A)``,
    or a boolean mask).
    """
    if target_policy is None:
        return mdp.optimal_actions(tol=tol)
    arr = np.asarray(target_policy)
    if arr.dtype == bool and arr.shape == (mdp.n_states, mdp.n_actions):
        mask = arr.copy()
    else:
        mask = as_policy(arr, mdp.n_states, mdp.n_actions, "target_policy") > 0
    if not mask.any(axis=1).all():
        raise ConfigError("target_policy", "some state has no target action", "at least one action per state")
    return mask


def target_policies(mask: np.ndarray, first: np.ndarray | None = None, all_combinations: bool = False,
                    max_policies: int = 4096) -> list[np.ndarray]:
    """Deterministic target policies: ``[first]`` (default: lowest-index target action), or
    every combination of target actions when ``all_combinations`` (EXPRD's ``Π^T``).

    Example:
        >>> m = np.array([[True, True], [False, True]])
        >>> [p.tolist() for p in target_policies(m, all_combinations=True)]
        [[0, 1], [1, 1]]
    """
    if not all_combinations:
        pi = np.argmax(mask, axis=1) if first is None else np.asarray(first, dtype=np.int64)
        return [pi]
    choices = [np.flatnonzero(row) for row in mask]
    n = int(np.prod([len(c) for c in choices], dtype=float))
    if n > max_policies:
        raise ConfigError("all_combinations", f"{n} combinations of co-optimal actions",
                          f"at most max_policies={max_policies} (use the single target policy)")
    return [np.array(p, dtype=np.int64) for p in itertools.product(*choices)]


def action_gap(mdp: TabularMDP, target_policy: Any = None, mask: np.ndarray | None = None,
               R: Any = None) -> np.ndarray:
    """:math:`\\Delta_s` of the target policy under ``R`` (default: the MDP's reward), shape ``(S,)``.

    Example:
        >>> from rewardkit.tabular import four_rooms
        >>> mdp, layout = four_rooms()
        >>> d = action_gap(mdp)
        >>> d.shape, bool(d[layout.terminal_state] == 0), bool((d >= 0).all())
        ((50,), True, True)
    """
    if mask is None:
        mask = target_action_mask(mdp, target_policy)
    pi = target_policies(mask)[0] if target_policy is None or np.asarray(target_policy).dtype == bool \
        else np.argmax(as_policy(target_policy, mdp.n_states, mdp.n_actions, "target_policy"), axis=1)
    Q = mdp.q_pi(pi, R)
    q_pi = Q[np.arange(mdp.n_states), pi]
    gaps = np.where(mask, np.inf, q_pi[:, None] - Q)
    out = gaps.min(axis=1)
    out[~np.isfinite(out)] = 0.0
    return out


def sa_transition(mdp: TabularMDP, pi: np.ndarray) -> np.ndarray:
    """:math:`P^\\pi[(s,a),(s',a')] = T(s'|s,a)\\,\\mathbb 1[a'=\\pi(s')]`, shape ``(SA, SA)`` (row = ``s*A + a``)."""
    S, A = mdp.n_states, mdp.n_actions
    P = np.zeros((S * A, S, A))
    P[:, np.arange(S), pi] = mdp.transitions.reshape(S * A, S)
    return P.reshape(S * A, S * A)


def _advantage_rows(X: np.ndarray, pi: np.ndarray, n_actions: int) -> np.ndarray:
    """:math:`(I^\\pi - I) X`: row ``(s,a)`` becomes ``X[(s,pi(s))] - X[(s,a)]`` (no dense matmul)."""
    S = pi.shape[0]
    Xr = X.reshape(S, n_actions, -1)
    return (Xr[np.arange(S), pi][:, None, :] - Xr).reshape(X.shape)


def truncated_advantage_operators(mdp: TabularMDP, pi: np.ndarray, H: Sequence[int]
                                  ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """``(M_inf, {h: M_h})`` with :math:`M_h = (I^\\pi - I)\\sum_{k=0}^{h}\\gamma^k (P^\\pi)^k` and
    :math:`M_\\infty = (I^\\pi - I)(I - \\gamma P^\\pi)^{-1}`, so that ``M @ R.ravel()`` is the
    advantage of ``pi(s)`` over every ``a``.

    Uses the factorisation :math:`P^\\pi = U V` with :math:`U = T` (``SA x S``) and
    :math:`V` the selection of :math:`(s', \\pi(s'))` (``S x SA``): a power step is a
    ``SA x S`` product and :math:`(I - \\gamma UV)^{-1} = I + \\gamma U (I - \\gamma VU)^{-1} V`
    needs only an ``S x S`` solve.
    """
    S, A = mdp.n_states, mdp.n_actions
    SA = S * A
    pi = np.asarray(pi, dtype=np.int64)
    U = mdp.transitions.reshape(SA, S)
    sel_rows = np.arange(S) * A + pi                     # V = rows of the identity at (s, pi(s))
    hs = sorted({int(h) for h in H})
    if hs and hs[0] < 0:
        raise ConfigError("H", f"got {list(H)}", "non-negative horizons")
    out: dict[int, np.ndarray] = {}
    acc = np.eye(SA)
    power = np.eye(SA)
    k = 0
    for h in hs:
        while k < h:
            k += 1
            power = U @ power[sel_rows]                  # P^k = U (V P^{k-1})
            acc += (mdp.gamma ** k) * power
        out[h] = _advantage_rows(acc, pi, A)
    VU = U[sel_rows]                                     # S x S state transition of pi
    inner = np.linalg.solve(np.eye(S) - mdp.gamma * VU, np.eye(SA)[sel_rows])
    inv = np.eye(SA) + mdp.gamma * U @ inner
    return _advantage_rows(inv, pi, A), out


def informativeness_h(R: Any, mdp: TabularMDP, target_policy: Any = None, H: Sequence[int] = DEFAULT_H,
                      delta: Any = None, mask: np.ndarray | None = None, all_combinations: bool = False
                      ) -> float:
    """EXPRD's informativeness :math:`I_H(R) \\le 0` (see the module docs).

    Args:
        R: the reward to score, ``(S, A)`` or ``(S,)``.
        mdp: the MDP (its own reward defines the target policy and :math:`\\Delta_s`).
        target_policy: target policy / action mask; default all optimal actions of ``mdp``.
        H: horizon set.
        delta: margins :math:`\\Delta_s`; default :func:`action_gap` under ``mdp.R``.
        all_combinations: average over every combination of co-optimal target actions.

    Example:
        >>> from rewardkit.tabular import four_rooms
        >>> mdp, _ = four_rooms()
        >>> round(informativeness_h(mdp.R, mdp), 5)
        -0.15573
        >>> V, _, _ = mdp.value_iteration()
        >>> from rewardkit.shaping.potential import pbrs_reward
        >>> abs(round(informativeness_h(pbrs_reward(mdp, V), mdp), 6))
        0.0
    """
    S, A = mdp.n_states, mdp.n_actions
    Rv = TabularMDP._check_reward(R, S, A, "R").ravel()
    if mask is None:
        mask = target_action_mask(mdp, target_policy)
    if delta is None:
        delta = action_gap(mdp, mask=mask)
    delta = np.broadcast_to(np.asarray(delta, dtype=np.float64), (S,))
    pols = target_policies(mask, all_combinations=all_combinations)
    total = 0.0
    for pi in pols:
        _, Ms = truncated_advantage_operators(mdp, pi, H)
        for h in H:
            adv = (Ms[int(h)] @ Rv).reshape(S, A)
            viol = np.where(mask, -np.inf, delta[:, None] - adv).max(axis=1)
            total += np.maximum(viol, 0.0)[np.isfinite(viol)].sum()
    return -float(total) / (len(pols) * len(H) * S)


def normalized_state_occupancy(mdp: TabularMDP, pi: Any) -> np.ndarray:
    """State occupancy of ``pi`` with terminal states zeroed and normalised to sum 1 (ExpAdaRD's :math:`\\mu`)."""
    d = mdp.state_occupancy(pi).copy()
    d[mdp.terminal] = 0.0
    tot = d.sum()
    if tot <= 0:
        raise ConfigError("mu0", "puts no mass on non-terminal states", "a start distribution over live states")
    return d / tot


def teacher_quantities(mdp: TabularMDP, teacher_policy: Any = None, epsilon: float = 0.4
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``(A_T, mu_T)``: advantage of the stochastic target policy under ``mdp.R`` and the
    normalised state occupancy of its epsilon-greedy version (ExpAdaRD)."""
    if teacher_policy is None:
        mask = mdp.optimal_actions()
        teacher_policy = mask / mask.sum(axis=1, keepdims=True)
    pT = as_policy(teacher_policy, mdp.n_states, mdp.n_actions, "teacher_policy")
    A_T = mdp.advantage(pT)
    eps_pi = (1.0 - epsilon) * pT + epsilon / mdp.n_actions
    return A_T, normalized_state_occupancy(mdp, eps_pi)


def _il_coefficients(mdp: TabularMDP, learner_policy: Any, A_T: np.ndarray, mu_T: np.ndarray) -> np.ndarray:
    """Coefficient matrix ``C`` with :math:`I_L(R) = \\sum_{s,a} C(s,a) R(s,a)` (linear in ``R``)."""
    pL = as_policy(learner_policy, mdp.n_states, mdp.n_actions, "learner_policy")
    mu_L = normalized_state_occupancy(mdp, pL)[:, None] * pL
    w = mu_T[:, None] * mu_L * pL * (A_T - (pL * A_T).sum(axis=1, keepdims=True))  # weight of (R - R̄_L)
    # sum_a w(s,a) (R(s,a) - sum_b pL(b|s) R(s,b)) = sum_a R(s,a) [w(s,a) - pL(a|s) sum_b w(s,b)]
    return w - pL * w.sum(axis=1, keepdims=True)


def informativeness_l(R: Any, mdp: TabularMDP, learner_policy: Any, teacher_policy: Any = None,
                      teacher_epsilon: float = 0.4) -> float:
    """ExpAdaRD's learner-aware informativeness :math:`I_L(R; \\pi_L)` (module docs).

    Example:
        >>> import numpy as np
        >>> from rewardkit.tabular import four_rooms
        >>> mdp, _ = four_rooms()
        >>> uniform = np.full((50, 4), 0.25)
        >>> V, _, _ = mdp.value_iteration()
        >>> from rewardkit.shaping.potential import pbrs_reward
        >>> informativeness_l(pbrs_reward(mdp, V), mdp, uniform) > informativeness_l(mdp.R, mdp, uniform) > 0
        True
    """
    Rm = TabularMDP._check_reward(R, mdp.n_states, mdp.n_actions, "R")
    A_T, mu_T = teacher_quantities(mdp, teacher_policy, teacher_epsilon)
    return float((_il_coefficients(mdp, learner_policy, A_T, mu_T) * Rm).sum())
