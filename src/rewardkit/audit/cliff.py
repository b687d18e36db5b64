"""Reward → policy stability: the Policy Cliff probe.

Paper: *The Policy Cliff: A Theoretical Analysis of Reward-Policy Maps in Large Language Models*
(catalog #8, 2025).  The map from a reward to its optimal policy is discontinuous exactly where
the optimal action is not unique: when two actions tie at :math:`\\max_a Q^*(s,a)`, an
arbitrarily small reward perturbation :math:`\\varepsilon` decides which one the argmax policy
takes, so the policy jumps by a whole action ("the cliff").  Entropy regularisation restores
continuity: the soft-optimal policy at temperature :math:`\\tau`,

.. math:: \\pi_\\tau(a|s) = \\exp\\big((Q_\\tau(s,a) - V_\\tau(s))/\\tau\\big),

changes by at most

.. math:: \\mathrm{TV}\\big(\\pi_\\tau^{R}(\\cdot|s), \\pi_\\tau^{R+\\Delta}(\\cdot|s)\\big)
          \\le \\tfrac12\\Big(\\exp\\big(\\tfrac{2\\|\\Delta\\|_\\infty}{(1-\\gamma)\\tau}\\big) - 1\\Big)
          = O\\big(\\varepsilon / \\tau\\big),

because the soft Bellman operator is a :math:`\\gamma`-contraction in the sup norm (so
:math:`\\|\\Delta Q_\\tau\\|_\\infty \\le \\|\\Delta\\|_\\infty / (1-\\gamma)`) and each softmax
probability moves by a factor within :math:`e^{\\pm 2\\|\\Delta Q\\|_\\infty/\\tau}`.

:func:`policy_cliff` measures both on a :class:`~rewardkit.tabular.TabularMDP`: it finds the
degenerate states (tied optimal actions), applies the worst-case tie-breaking perturbation of
size :math:`\\varepsilon` plus random perturbations of the same sup norm, and reports the largest
total-variation change of the argmax policy and of the soft-optimal policy, with the bound above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import ConfigError
from ..core.seeding import seeded
from ..tabular.mdp import TabularMDP
from ..tabular.soft import soft_value_iteration

__all__ = ["CliffReport", "degenerate_states", "policy_cliff", "soft_policy_bound", "tied_actions"]


def tied_actions(Q: Any, tol: float = 1e-8) -> np.ndarray:
    """Boolean mask ``(S, A)`` of the actions within ``tol·(1 + |max Q|)`` of :math:`\\max_a Q(s,a)`.

    A state is *degenerate* when its row has two or more ``True`` entries.

    Example:
        >>> import numpy as np
        >>> tied_actions(np.array([[1.0, 1.0, 0.0], [2.0, 0.0, 0.0]])).sum(axis=1).tolist()
        [2, 1]
    """
    Q = np.asarray(Q, dtype=np.float64)
    if Q.ndim != 2:
        raise ConfigError("Q", f"has shape {Q.shape}", "an array (S, A) of action values")
    best = Q.max(axis=1, keepdims=True)
    return Q >= best - tol * (1.0 + np.abs(best))


def degenerate_states(Q: Any, terminal: Any, tol: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """``(tied, degenerate)``: :func:`tied_actions` on the live (non-terminal) states, and the mask ``(S,)`` of
    live states with two or more tied optimal actions.

    Example:
        >>> import numpy as np
        >>> degenerate_states(np.array([[1.0, 1.0], [0.0, 0.0]]), [False, True])[1].tolist()
        [True, False]
    """
    live = ~np.asarray(terminal, dtype=bool)
    tied = tied_actions(Q, tol) & live[:, None]
    return tied, tied.sum(axis=1) > 1


def soft_policy_bound(epsilon: float, gamma: float, temperature: float) -> float:
    """Upper bound on the per-state TV change of the soft-optimal policy under a reward change of sup norm ε.

    :math:`\\tfrac12(\\exp(2\\varepsilon/((1-\\gamma)\\tau)) - 1)`, capped at 1.

    Example:
        >>> round(soft_policy_bound(1e-5, 0.9, 0.1), 6)      # 0.5 * (exp(2e-5 / 0.01) - 1) ~ 100 eps
        0.001001
    """
    if not 0.0 < gamma < 1.0:
        raise ConfigError("gamma", f"got {gamma!r}", "a discount factor in (0, 1)")
    if temperature <= 0:
        raise ConfigError("temperature", f"got {temperature!r}", "a positive temperature")
    x = 2.0 * epsilon / ((1.0 - gamma) * temperature)
    return 1.0 if x > 50 else min(1.0, 0.5 * math.expm1(x))


@dataclass(frozen=True)
class CliffReport:
    """Result of :func:`policy_cliff`.

    Attributes:
        degenerate: boolean mask ``(S,)`` of live states with tied optimal actions.
        degenerate_fraction: their share of the live states.
        argmax_tv: largest per-state TV change of the (lowest-index) argmax policy over the perturbations.
        soft_tv: largest per-state TV change of the soft-optimal policy over the same perturbations.
        soft_bound: :func:`soft_policy_bound` for ``epsilon``, ``gamma`` and ``temperature``.
        epsilon: sup norm of every perturbation.
        temperature: the soft policy's temperature.
    """

    degenerate: np.ndarray
    degenerate_fraction: float
    argmax_tv: float
    soft_tv: float
    soft_bound: float
    epsilon: float
    temperature: float

    @property
    def cliff(self) -> bool:
        """True when the argmax policy jumped by more than the soft bound allows a continuous map to."""
        return self.argmax_tv > max(self.soft_bound, 1e-12)


def _argmax_policy(Q: np.ndarray, tol: float) -> np.ndarray:
    first = np.argmax(tied_actions(Q, tol), axis=1)
    pi = np.zeros_like(Q)
    pi[np.arange(len(Q)), first] = 1.0
    return pi


def _tv(p: np.ndarray, q: np.ndarray, live: np.ndarray) -> float:
    return float(0.5 * np.abs(p - q)[live].sum(axis=1).max(initial=0.0))


def _perturbations(R: np.ndarray, tied: np.ndarray, epsilon: float, n_random: int, seed: int) -> list[np.ndarray]:
    """The worst-case tie breaker (+ε on the last tied action of each degenerate state) and random ±ε signs."""
    breaker = np.zeros_like(R)
    for s in np.flatnonzero(tied.sum(axis=1) > 1):
        breaker[s, np.flatnonzero(tied[s])[-1]] = epsilon
    with seeded(seed, torch=False) as rng:
        randoms = [epsilon * rng.choice([-1.0, 1.0], size=R.shape) for _ in range(n_random)]
    return [breaker, *randoms]


def policy_cliff(mdp: TabularMDP, R: Any = None, *, epsilon: float = 1e-3, temperature: float = 0.1,
                 n_random: int = 8, tol: float = 1e-8, seed: int = 0) -> CliffReport:
    """Probe the reward → policy map of ``R`` (default ``mdp.R``) for discontinuities.

    Args:
        mdp: transitions, discount (< 1) and terminal states.
        R: reward ``(S, A)`` or ``(S,)``; default the MDP's own.
        epsilon: sup norm of the reward perturbations.
        temperature: :math:`\\tau` of the soft-optimal policy.
        n_random: random ±ε perturbations besides the worst-case tie breaker.
        tol: relative tolerance for tied Q-values.
        seed: seed of the random perturbations.

    Example:
        >>> import numpy as np
        >>> from rewardkit.tabular import TabularMDP
        >>> T = np.zeros((2, 2, 2)); T[0, :, 1] = 1.0; T[1, :, 1] = 1.0   # two equally good actions
        >>> mdp = TabularMDP(T, np.array([[1.0, 1.0], [0.0, 0.0]]), 0.9, [1.0, 0.0], terminal=[False, True])
        >>> rep = policy_cliff(mdp, epsilon=1e-4, temperature=0.1)
        >>> rep.degenerate_fraction, rep.argmax_tv, rep.soft_tv < rep.soft_bound, rep.cliff
        (1.0, 1.0, True, True)
    """
    if epsilon <= 0:
        raise ConfigError("epsilon", f"got {epsilon!r}", "a positive perturbation size")
    Rr = mdp.R if R is None else TabularMDP._check_reward(R, mdp.n_states, mdp.n_actions, "R")
    live = ~np.asarray(mdp.terminal, dtype=bool)
    _, Q, _ = mdp.value_iteration(R=Rr)
    tied, degenerate = degenerate_states(Q, mdp.terminal, tol)
    pi_hard = _argmax_policy(Q, tol)
    _, _, pi_soft = soft_value_iteration(mdp, Rr, temperature=temperature)
    hard_tv = soft_tv = 0.0
    for delta in _perturbations(Rr, tied, epsilon, n_random, seed):
        R2 = Rr + delta
        _, Q2, _ = mdp.value_iteration(R=R2)
        hard_tv = max(hard_tv, _tv(pi_hard, _argmax_policy(Q2, tol), live))
        _, _, pi_soft2 = soft_value_iteration(mdp, R2, temperature=temperature)
        soft_tv = max(soft_tv, _tv(pi_soft, pi_soft2, live))
    n_live = max(int(live.sum()), 1)
    return CliffReport(degenerate=degenerate, degenerate_fraction=float(degenerate.sum() / n_live),
                       argmax_tv=hard_tv, soft_tv=soft_tv,
                       soft_bound=soft_policy_bound(epsilon, mdp.gamma, temperature),
                       epsilon=float(epsilon), temperature=float(temperature))
