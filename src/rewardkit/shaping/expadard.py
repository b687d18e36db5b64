"""ExpAdaRD: adaptive, learner-aware reward design.

Devidze, Kamalaruban & Singla (2024), "Informativeness of Reward Functions in
Reinforcement Learning", AAMAS.  Every ``update_every`` episodes the teacher re-solves

.. math::
    \\max_R\\; I_L(R; \\pi_L) \\quad\\text{s.t.}\\quad
    (I^{\\pi_T} - I)(I - \\gamma P^{\\pi_T})^{-1} R \\ge b,\\;\\; |R(s,a)| \\le R_{max},\\;\\; R = \\Phi w

against the learner's *current* policy :math:`\\pi_L`, where :math:`I_L` is the linear
learner-aware informativeness of
:func:`~rewardkit.shaping.informativeness.informativeness_l` (the first-order policy
improvement a softmax learner gets from :math:`R`), the invariance constraint keeps the
target policy optimal with the original action gap (as in EXPRD), and the optional
feature matrix :math:`\\Phi` makes the reward structured/interpretable (the paper uses 9
overlapping 3x3 regions plus a goal indicator, crossed with actions:
:func:`four_room_region_features`).  The LP is solved with
``scipy.optimize.linprog(method="highs")``.

The learner of the paper is tabular REINFORCE with a softmax policy
(:class:`SoftmaxReinforce`); :func:`run_adaptive_teaching` runs the teacher-learner loop
and measures the learner's exact expected return under the *original* reward.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import numpy as np
from rewardkit.core.extras import missing_extra

try:
    from scipy.optimize import linprog
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "lp") from None

from ..core.errors import ConfigError
from ..tabular.mdp import TabularMDP, as_policy
from .exprd import GAP_SHRINK, DesignInfeasible
from .informativeness import _il_coefficients, action_gap, target_action_mask, target_policies, teacher_quantities
from .informativeness import truncated_advantage_operators

__all__ = [
    "AdaptiveTeacher",
    "ExpAdaRDProblem",
    "ExpAdaRDResult",
    "SoftmaxReinforce",
    "expadard_design",
    "four_room_region_features",
    "run_adaptive_teaching",
]


@dataclass
class ExpAdaRDResult:
    """A learner-aware design: ``reward (S, A)``, ``informativeness`` (= :math:`I_L`), ``weights`` and solve time."""

    reward: np.ndarray
    informativeness: float
    weights: np.ndarray
    solve_seconds: float


def four_room_region_features(layout: Any, region: int = 3, stride: int = 2) -> np.ndarray:
    """ExpAdaRD's structural features on a grid: overlapping ``region x region`` squares (every
    ``stride`` cells) plus a goal indicator, each crossed with the actions.

    Returns ``(S*A, K*A)``: column ``k*A + b`` is 1 on rows ``(s, b)`` with ``s`` in region ``k``.

    Example:
        >>> from rewardkit.tabular import four_rooms
        >>> F = four_room_region_features(four_rooms().layout)
        >>> F.shape        # 50 states x 4 actions, (9 squares + goal) x 4 actions
        (200, 40)
    """
    size = int(layout.size)
    starts = list(range(0, max(size - region, 0) + 1, stride))
    regions = []
    for y0 in starts:
        for x0 in starts:
            cells = [y * size + x for y in range(y0, y0 + region) for x in range(x0, x0 + region)]
            regions.append(cells)
    regions.append(list(layout.goal_states))
    S = size * size + 1
    A = len(layout.action_names)
    F = np.zeros((S * A, len(regions) * A))
    for k, cells in enumerate(regions):
        for s in cells:
            for b in range(A):
                F[s * A + b, k * A + b] = 1.0
    return F


def expadard_design(mdp: TabularMDP, learner_policy: Any, *, r_max: float = 10.0, teacher_policy: Any = None,
                    teacher_epsilon: float = 0.4, features: np.ndarray | None = None, delta: Any = None,
                    invariance: bool = True) -> ExpAdaRDResult:
    """One ExpAdaRD design step: the invariant reward maximising :math:`I_L(R; \\pi_L)`.

    Args:
        mdp: the task (its reward defines the target policy and the action gap).
        learner_policy: the learner's current (stochastic) policy ``(S, A)``.
        r_max: bound on ``|R(s, a)|``.
        teacher_policy: target policy (default: uniform over the optimal actions).
        teacher_epsilon: exploration of the teacher policy used for :math:`\\mu_T` (0.4 in the paper).
        features: ``(S*A, K)`` feature matrix, ``R = features @ w`` (default: one weight per ``(s, a)``).
        delta: invariance margins (default: original action gap times :data:`~rewardkit.shaping.exprd.GAP_SHRINK`).
        invariance: keep the invariance constraint (``False`` = unconstrained, for ablations).

    Example:
        >>> import numpy as np
        >>> from rewardkit.tabular import four_rooms
        >>> from rewardkit.shaping import informativeness_l, assert_policy_invariant
        >>> mdp, _ = four_rooms()
        >>> learner = np.full((50, 4), 0.25)
        >>> res = expadard_design(mdp, learner)
        >>> res.informativeness >= informativeness_l(mdp.R, mdp, learner)
        True
        >>> assert_policy_invariant(res.reward, mdp, margin="gap", all_combinations=False, tol=1e-5) > -1e-5
        True
    """
    return ExpAdaRDProblem(mdp, r_max=r_max, teacher_policy=teacher_policy, teacher_epsilon=teacher_epsilon,
                           features=features, delta=delta, invariance=invariance).solve(learner_policy)


class ExpAdaRDProblem:
    """The ExpAdaRD LP with everything that does not depend on the learner precomputed
    (teacher advantage and occupancy, invariance rows, feature bounds); :meth:`solve` takes the
    learner's current policy.  Arguments as :func:`expadard_design`."""

    def __init__(self, mdp: TabularMDP, *, r_max: float = 10.0, teacher_policy: Any = None,
                 teacher_epsilon: float = 0.4, features: np.ndarray | None = None, delta: Any = None,
                 invariance: bool = True):
        if not isinstance(mdp, TabularMDP):
            raise ConfigError("mdp", f"got {type(mdp).__name__}", "a rewardkit.tabular.TabularMDP")
        self.mdp = mdp
        S, A = mdp.n_states, mdp.n_actions
        self.A_T, self.mu_T = teacher_quantities(mdp, teacher_policy, teacher_epsilon)
        live_rows = np.repeat(~mdp.terminal, A)
        if features is None:
            Phi = np.eye(S * A)[:, live_rows]
        else:
            Phi = np.asarray(features, dtype=np.float64)
            if Phi.ndim != 2 or Phi.shape[0] != S * A:
                raise ConfigError("features", f"has shape {Phi.shape}", f"a matrix ({S * A}, K)")
            Phi = Phi * live_rows[:, None]
        self.Phi = Phi
        A_ub, b_ub = [], []
        if invariance:
            mask = target_action_mask(mdp, teacher_policy)
            pi = target_policies(mask)[0]
            if delta is None:
                delta = action_gap(mdp, mask=mask) * GAP_SHRINK
            delta = np.broadcast_to(np.asarray(delta, dtype=np.float64), (S,))
            M_inf, _ = truncated_advantage_operators(mdp, pi, [])
            req = np.where(mask, 0.0, delta[:, None]).ravel()
            keep = np.ones(S * A, dtype=bool)
            keep[np.arange(S) * A + pi] = False
            A_ub.append(-(M_inf[keep] @ Phi))
            b_ub.append(-req[keep])
        if features is None:
            self.bounds = [(-r_max, r_max)] * Phi.shape[1]
        else:
            rows = Phi[np.any(Phi != 0, axis=1)]
            A_ub += [rows, -rows]
            b_ub += [np.full(rows.shape[0], r_max), np.full(rows.shape[0], r_max)]
            self.bounds = [(None, None)] * Phi.shape[1]
        self.A_ub = np.vstack(A_ub) if A_ub else None
        self.b_ub = np.concatenate(b_ub) if b_ub else None

    def solve(self, learner_policy: Any) -> ExpAdaRDResult:
        """The invariant reward maximising :math:`I_L(R; \\pi_L)` for ``learner_policy``."""
        t0 = time.perf_counter()
        S, A = self.mdp.n_states, self.mdp.n_actions
        pL = as_policy(learner_policy, S, A, "learner_policy")
        coef = _il_coefficients(self.mdp, pL, self.A_T, self.mu_T).ravel()
        res = linprog(-(coef @ self.Phi), A_ub=self.A_ub, b_ub=self.b_ub, bounds=self.bounds, method="highs")
        if res.status != 0:
            raise DesignInfeasible(f"ExpAdaRD LP: {res.message}")
        w = res.x
        R = (self.Phi @ w).reshape(S, A)
        R[np.abs(R) < 1e-9] = 0.0
        return ExpAdaRDResult(R, float(coef @ R.ravel()), w, time.perf_counter() - t0)


class AdaptiveTeacher:
    """ExpAdaRD's teacher: re-designs the reward every ``update_every`` episodes for the current learner.

    Args:
        mdp: the task.
        update_every: ``N_r`` (5 in the paper).
        **design_kwargs: passed to :func:`expadard_design` (``features``, ``r_max``, ...).

    Example:
        >>> import numpy as np
        >>> from rewardkit.tabular import four_rooms
        >>> teacher = AdaptiveTeacher(four_rooms().mdp, update_every=2)
        >>> uniform = np.full((50, 4), 0.25)
        >>> [teacher.end_episode(uniform) for _ in range(4)]      # re-solves after episodes 2 and 4
        [False, True, False, True]
    """

    def __init__(self, mdp: TabularMDP, update_every: int = 5, **design_kwargs: Any):
        if update_every < 1:
            raise ConfigError("update_every", f"got {update_every}", "a positive number of episodes")
        self.mdp = mdp
        self.update_every = int(update_every)
        self.problem = ExpAdaRDProblem(mdp, **design_kwargs)
        self.reward = mdp.reward.copy()
        self.n_updates = 0
        self._episodes = 0
        self.solve_seconds = 0.0

    def update(self, learner_policy: Any) -> np.ndarray:
        """Re-design the reward for ``learner_policy`` now and return it."""
        res = self.problem.solve(learner_policy)
        self.reward = res.reward
        self.n_updates += 1
        self.solve_seconds += res.solve_seconds
        return self.reward

    def end_episode(self, learner_policy: Any) -> bool:
        """Count an episode; re-design every ``update_every`` episodes.  Returns True if it did."""
        self._episodes += 1
        if self._episodes % self.update_every == 0:
            self.update(learner_policy)
            return True
        return False


class SoftmaxReinforce:
    """Tabular REINFORCE with a softmax policy (Williams 1992), the learner of ExpAdaRD.

    :math:`\\theta \\mathrel{+}= \\frac{\\eta}{T}\\sum_t G_t\\,(\\mathbf e_{a_t} - \\pi_\\theta(\\cdot|s_t))`
    (row :math:`s_t`) with
    :math:`G_t = \\sum_{k\\ge t}\\gamma^{k-t} r_k` computed from the reward the teacher pays.

    Example:
        >>> agent = SoftmaxReinforce(3, 2, lr=0.5, gamma=0.9, seed=0)
        >>> agent.update_episode([(0, 1, 1.0)])
        >>> bool(agent.policy()[0, 1] > 0.5)
        True
    """

    def __init__(self, n_states: int, n_actions: int, lr: float = 0.1, gamma: float = 0.95,
                 seed: int | None = None):
        self.theta = np.zeros((int(n_states), int(n_actions)))
        self.lr, self.gamma = float(lr), float(gamma)
        self.rng = np.random.default_rng(seed)

    def policy(self) -> np.ndarray:
        z = self.theta - self.theta.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def act(self, s: int) -> int:
        z = self.theta[s] - self.theta[s].max()
        p = np.exp(z)
        p /= p.sum()
        return int(self.rng.choice(p.size, p=p))

    def update_episode(self, episode: list[tuple[int, int, float]]) -> None:
        """One policy-gradient step from one episode ``[(s, a, r), ...]``, averaged over its steps
        (as the ExpAdaRD reference learner does)."""
        if not episode:
            return
        pi = self.policy()
        grad = np.zeros_like(self.theta)
        G = 0.0
        for s, a, r in reversed(episode):
            G = r + self.gamma * G
            grad[s] -= G * pi[s]
            grad[s, a] += G
        self.theta += self.lr * grad / len(episode)


def run_adaptive_teaching(mdp: TabularMDP, episodes: int, teacher: AdaptiveTeacher | np.ndarray | None = None,
                          *, lr: float = 0.1, max_steps: int = 50, seed: int = 0, eval_every: int = 10,
                          learner: SoftmaxReinforce | None = None,
                          on_episode: Callable[[int, SoftmaxReinforce], None] | None = None) -> dict[str, Any]:
    """Train :class:`SoftmaxReinforce` on the teacher's reward; evaluate on the original reward.

    Args:
        teacher: an :class:`AdaptiveTeacher` (re-designs as the learner changes), a fixed reward
            table ``(S, A)`` (e.g. an EXPRD design), or ``None`` (the original reward).

    Returns:
        dict with ``episode``, ``expected_return`` (exact :math:`\\mu_0^\\top V^{\\pi_L}_{\\bar R}` of the
        learner's stochastic policy), ``optimal_return``, ``teacher_updates`` and the ``learner``.
    """
    rng = np.random.default_rng(seed + 104729)
    agent = learner or SoftmaxReinforce(mdp.n_states, mdp.n_actions, lr=lr, gamma=mdp.gamma, seed=seed)
    if isinstance(teacher, AdaptiveTeacher):
        teacher.update(agent.policy())
    fixed = None if isinstance(teacher, AdaptiveTeacher) else \
        (mdp.reward if teacher is None else TabularMDP._check_reward(teacher, mdp.n_states, mdp.n_actions, "teacher"))
    _, _, pi_star = mdp.value_iteration()
    optimal = mdp.expected_return(pi_star)
    eps, rets = [], []
    for ep in range(episodes + 1):
        if ep % eval_every == 0 or ep == episodes:
            eps.append(ep)
            rets.append(mdp.expected_return(agent.policy()))
        if ep == episodes:
            break
        R = teacher.reward if isinstance(teacher, AdaptiveTeacher) else fixed
        s = mdp.sample_initial(rng)
        traj = []
        for _ in range(max_steps):
            a = agent.act(s)
            s2 = mdp.sample_next(s, a, rng)
            traj.append((s, a, float(R[s, a])))
            s = s2
            if mdp.terminal[s2]:
                break
        agent.update_episode(traj)
        if isinstance(teacher, AdaptiveTeacher):
            teacher.end_episode(agent.policy())
        if on_episode is not None:
            on_episode(ep, agent)
    return {"episode": np.asarray(eps), "expected_return": np.asarray(rets), "optimal_return": optimal,
            "teacher_updates": teacher.n_updates if isinstance(teacher, AdaptiveTeacher) else 0,
            "learner": agent}
