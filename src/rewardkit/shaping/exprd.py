"""EXPRD: explicable (informative, sparse, invariant) reward design as a linear program.

Devidze, Radanovic, Kamalaruban & Singla (2021), "Explicable Reward Design for
Reinforcement Learning Agents", NeurIPS.  A teacher who knows the target policy
:math:`\\pi^T` designs a reward :math:`R` on a small support :math:`Z` of states:

.. math::
    \\max_R\\; I_H(R) - \\tfrac{C_2}{C_1}\\lVert R\\rVert_1 \\quad\\text{s.t.}\\quad
    \\begin{cases}
    (I^\\pi - I)(I - \\gamma P^\\pi)^{-1} R \\ge b & \\forall \\pi \\in \\Pi^T \\quad\\text{(invariance)}\\\\
    -R_{max} \\le R(s,a) \\le R_{max} & \\text{(bounded)}\\\\
    R(s,a) = 0 \\;\\; \\forall s \\notin Z & \\text{(sparsity)}\\\\
    R(s,a) = R(s,a_0) & \\text{(optional: state-only)}
    \\end{cases}

with :math:`b(s,a) = \\Delta_s` for non-target actions (the *original* action gap, shrunk
by :math:`1/(1+10^{-5})` as in the reference code) and 0 otherwise; :math:`I_H` is
:func:`~rewardkit.shaping.informativeness.informativeness_h`.  The hinge
:math:`[\\max_a(\\cdot)]_+` becomes one auxiliary variable :math:`t_{\\pi,h,s} \\ge 0` per
term with :math:`t \\ge \\Delta_s - A_h(s,a)`, so the problem is an LP; we solve it with
``scipy.optimize.linprog(method="highs")`` (the reference uses cvxpy + ECOS).  Only the
columns of active states become variables, so an LP on the 50-state grid is tiny.

**Algorithm 1 (greedy support selection).**  Start from the goal states (non-zero
original reward); for ``budget`` rounds add the candidate state whose LP has the lowest
objective (ties -> lowest index).  ``lazy=True`` uses lazy-greedy evaluation (Minoux
1978): candidates are re-solved in order of their last known gain and the first whose
fresh gain is still at least the best stale gain is taken.  This is exact when gains
only shrink as ``Z`` grows (submodularity), which EXPRD's objective does not guarantee
- compare ``lazy=True`` against ``lazy=False`` before relying on it.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Sequence

import numpy as np
from rewardkit.core.extras import missing_extra

try:
    from scipy import sparse
    from scipy.optimize import linprog
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "lp") from None

from ..core.errors import ConfigError, RewardkitError
from ..tabular.mdp import TabularMDP
from .informativeness import (DEFAULT_H, action_gap, target_action_mask, target_policies,
                              truncated_advantage_operators)

__all__ = ["DesignInfeasible", "ExprdProblem", "ExprdResult", "GreedyResult", "exprd_design", "exprd_greedy"]

#: EXPRD shrinks the original action gap by this factor so the original reward stays feasible
GAP_SHRINK = 1.0 / (1.0 + 1e-5)


class DesignInfeasible(RewardkitError):
    """The design LP has no solution (e.g. the support cannot express an invariant reward)."""


@dataclass
class ExprdResult:
    """A designed reward.

    Attributes:
        reward: ``(S, A)`` designed reward (zero outside ``support``).
        support: the active states ``Z``.
        objective: LP objective :math:`-C_1 I_H + C_2 \\lVert R\\rVert_1` at the optimum.
        informativeness: :math:`I_H` of ``reward`` recomputed from scratch.
        solve_seconds: wall time of the LP solve.
    """

    reward: np.ndarray
    support: list[int]
    objective: float
    informativeness: float
    solve_seconds: float

    @property
    def n_nonzero_states(self) -> int:
        return int(np.count_nonzero(np.abs(self.reward).sum(axis=1)))


@dataclass
class GreedyResult:
    """Output of :func:`exprd_greedy`: the support in pick order and the design after each pick."""

    support: list[int]
    designs: list[ExprdResult]
    n_lps: int
    seconds: float
    objectives: list[float] = field(default_factory=list)


class ExprdProblem:
    """The EXPRD LP for one MDP and target, prepared once and solved for many supports.

    Args:
        mdp: the task (its reward :math:`\\bar R` defines the target policy and :math:`\\Delta_s`).
        H: horizon set (default ``(1, 4, 8, 16, 32)``).
        r_max: reward bound.
        target_policy: default all optimal actions of ``mdp`` (see
            :func:`~rewardkit.shaping.informativeness.target_action_mask`).
        all_combinations: use every combination of co-optimal target actions as
            :math:`\\Pi^T` (the reference's default is the single argmax policy).
        state_only: restrict to state rewards :math:`R(s,a) = R(s)`.
        c1, c2: objective weights (:math:`-C_1 I_H + C_2 \\lVert R\\rVert_1`).
        delta: margins :math:`\\Delta_s` (default: the original gap times :data:`GAP_SHRINK`).
        refine: ``None`` (HiGHS's optimal vertex, typically ``|R| = R_max`` on many entries) or
            ``"l1"`` (among the optimal rewards, one of minimal :math:`\\lVert R\\rVert_1`; one extra LP
            per reported design, not per greedy candidate).  With :math:`C_2 = 0` the optimum is
            rarely unique, and which optimal reward a solver returns changes how a learner
            behaves (the reference's interior-point ECOS returns a point inside the face).

    Example:
        >>> from rewardkit.tabular import four_rooms
        >>> mdp, layout = four_rooms()
        >>> prob = ExprdProblem(mdp)
        >>> res = prob.solve([48])
        >>> round(res.informativeness, 5), round(res.objective, 5)
        (-0.15573, 0.15573)
    """

    def __init__(self, mdp: TabularMDP, H: Sequence[int] = DEFAULT_H, r_max: float = 10.0,
                 target_policy: Any = None, all_combinations: bool = False, state_only: bool = False,
                 c1: float = 1.0, c2: float = 0.0, delta: Any = None, refine: str | None = None):
        if not isinstance(mdp, TabularMDP):
            raise ConfigError("mdp", f"got {type(mdp).__name__}", "a rewardkit.tabular.TabularMDP")
        if r_max <= 0:
            raise ConfigError("r_max", f"got {r_max}", "a positive bound")
        if not H:
            raise ConfigError("H", "is empty", "a non-empty list of horizons")
        self.mdp, self.H, self.r_max = mdp, [int(h) for h in H], float(r_max)
        self.state_only, self.c1, self.c2 = bool(state_only), float(c1), float(c2)
        if refine not in (None, "l1"):
            raise ConfigError("refine", f"got {refine!r}", "None or 'l1'")
        self.refine = refine
        S, A = mdp.n_states, mdp.n_actions
        self.mask = target_action_mask(mdp, target_policy)
        self.policies = target_policies(self.mask, all_combinations=all_combinations)
        if delta is None:
            delta = action_gap(mdp, mask=self.mask) * GAP_SHRINK
        self.delta = np.broadcast_to(np.asarray(delta, dtype=np.float64), (S,)).copy()
        nonopt = ~self.mask
        # invariance rows and hinge rows, as dense (rows x SA) operators
        inv_rows, inv_b = [], []
        hinge_rows, hinge_b, hinge_group = [], [], []
        group = 0
        for pi in self.policies:
            M_inf, Ms = truncated_advantage_operators(mdp, pi, self.H)
            req = np.where(nonopt, self.delta[:, None], 0.0).ravel()
            keep = np.ones(S * A, dtype=bool)
            keep[np.arange(S) * A + pi] = False           # the target action's own row is 0 >= 0
            inv_rows.append(M_inf[keep])
            inv_b.append(req[keep])
            for h in self.H:
                M = Ms[h]
                for s in range(S):
                    acts = np.flatnonzero(nonopt[s])
                    if acts.size == 0:
                        continue
                    hinge_rows.append(M[s * A + acts])
                    hinge_b.append(self.delta[s] * np.ones(acts.size))
                    hinge_group.append(np.full(acts.size, group))
                    group += 1
        self._inv = np.vstack(inv_rows)
        self._inv_b = np.concatenate(inv_b)
        self._hinge = np.vstack(hinge_rows) if hinge_rows else np.zeros((0, S * A))
        self._hinge_b = np.concatenate(hinge_b) if hinge_b else np.zeros(0)
        self._hinge_group = np.concatenate(hinge_group) if hinge_group else np.zeros(0, dtype=int)
        self.n_terms = group
        self._norm = len(self.policies) * len(self.H) * S
        nh = self._hinge.shape[0]
        self._hinge_T = sparse.csr_matrix((-np.ones(nh), (np.arange(nh), self._hinge_group)), shape=(nh, group))
        self._group_starts = np.flatnonzero(np.r_[True, np.diff(self._hinge_group) != 0]) if nh else np.zeros(0, int)
        self.goal_states = [int(s) for s in np.flatnonzero(np.abs(mdp.reward).sum(axis=1) > 0)]
        self.n_lps = 0

    # ------------------------------------------------------------------ one LP
    def _columns(self, support: Sequence[int]) -> tuple[list[np.ndarray], list[int]]:
        """LP reward variables: for each, the ``R.ravel()`` columns it sets (one per (s, a), or all
        of a state's actions when ``state_only``), and the sorted support."""
        S, A = self.mdp.n_states, self.mdp.n_actions
        Z = sorted({int(s) for s in support})
        if any(s < 0 or s >= S for s in Z):
            raise ConfigError("support", f"has states outside [0, {S})", "state indices")
        if self.state_only:
            return [np.arange(s * A, (s + 1) * A) for s in Z], Z
        return [np.array([s * A + a]) for s in Z for a in range(A)], Z

    def _gather(self, M: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
        if all(g.size == 1 for g in groups):
            return M[:, np.concatenate(groups)] if groups else M[:, :0]
        return np.stack([M[:, g].sum(axis=1) for g in groups], axis=1)

    def solve(self, support: Sequence[int] | None = None, refine: str | None = "default") -> ExprdResult:
        """Solve the LP with active states ``support`` (default: the goal states).

        ``refine="l1"`` then picks, among all optimal rewards (the LP optimum is usually a
        face, not a point), one of minimal :math:`\\lVert R\\rVert_1` with a second LP; ``None``
        returns HiGHS's vertex solution.  Default: the problem's ``refine`` setting.
        """
        t0 = time.perf_counter()
        refine = self.refine if refine == "default" else refine
        if refine not in (None, "l1"):
            raise ConfigError("refine", f"got {refine!r}", "None or 'l1'")
        S, A = self.mdp.n_states, self.mdp.n_actions
        Z = self.goal_states if support is None else list(support)
        groups, Zs = self._columns(Z)
        nv, nt = len(groups), self.n_terms
        use_l1 = self.c2 != 0.0 or refine == "l1"
        nu = nv if use_l1 else 0
        n = nv + nt + nu
        inv = self._gather(self._inv, groups)
        hin = self._gather(self._hinge, groups)
        # invariance: M R >= b  ->  -M R <= -b   (drop rows that cannot bind: all-zero with b <= 0)
        live = np.any(inv != 0.0, axis=1) | (self._inv_b > 0)
        n_inv = int(live.sum())
        blocks = [[sparse.csr_matrix(-inv[live]), sparse.csr_matrix((n_inv, nt))],
                  # hinge: t_g >= delta - M_h R  ->  -M_h R - t_g <= -delta
                  [sparse.csr_matrix(-hin), self._hinge_T]]
        rhs = [-self._inv_b[live], -self._hinge_b]
        if nu:
            blocks[0].append(sparse.csr_matrix((n_inv, nu)))
            blocks[1].append(sparse.csr_matrix((hin.shape[0], nu)))
            eye = sparse.identity(nv, format="csr")
            Z0 = sparse.csr_matrix((nv, nt))
            blocks += [[eye, Z0, -eye], [-eye, Z0, -eye]]
            rhs += [np.zeros(nv), np.zeros(nv)]
        A_ub = sparse.bmat(blocks, format="csr")
        b_ub = np.concatenate(rhs)
        c = np.zeros(n)
        c[nv:nv + nt] = self.c1 / self._norm
        l1_weight = A if self.state_only else 1.0
        if self.c2 != 0.0:
            c[nv + nt:] = self.c2 * l1_weight
        bounds = np.array([(-self.r_max, self.r_max)] * nv + [(0.0, np.inf)] * (nt + nu))
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
        self.n_lps += 1
        if res.status != 0:
            raise DesignInfeasible(f"EXPRD LP with support {sorted(set(int(s) for s in Z))}: {res.message}")
        x, fun = res.x, float(res.fun)
        if refine == "l1":
            # second stage: keep the objective at its optimum (within LP tolerance), minimise ||R||_1
            cap = fun + 1e-9 + 1e-7 * abs(fun)
            A2 = sparse.vstack([A_ub, sparse.csr_matrix(c[None, :])], format="csr")
            b2 = np.concatenate([b_ub, [cap]])
            c2 = np.zeros(n)
            c2[nv + nt:] = l1_weight
            res2 = linprog(c2, A_ub=A2, b_ub=b2, bounds=bounds, method="highs")
            self.n_lps += 1
            if res2.status == 0:
                x = res2.x
        Rv = np.zeros(S * A)
        for j, g in enumerate(groups):
            Rv[g] = x[j]
        R = Rv.reshape(S, A)
        R[np.abs(R) < 1e-9] = 0.0
        secs = time.perf_counter() - t0
        return ExprdResult(R, Zs, fun, self.informativeness(R), secs)

    def informativeness(self, R: Any) -> float:
        """:math:`I_H(R)` with this problem's target, margins and horizons (same value as
        :func:`~rewardkit.shaping.informativeness.informativeness_h`, from the cached operators)."""
        Rv = TabularMDP._check_reward(R, self.mdp.n_states, self.mdp.n_actions, "R").ravel()
        if self.n_terms == 0:
            return 0.0
        viol = self._hinge_b - self._hinge @ Rv
        worst = np.maximum.reduceat(viol, self._group_starts)
        return -float(np.maximum(worst, 0.0).sum()) / self._norm

    def _objective(self, support: Sequence[int], refine: str | None = "default") -> tuple[float, ExprdResult]:
        res = self.solve(support, refine)
        return res.objective, res

    # ------------------------------------------------------------------ greedy
    def greedy(self, budget: int, candidates: Sequence[int] | None = None, lazy: bool = False,
               tie_tol: float = 1e-6) -> GreedyResult:
        """Algorithm 1: grow the support from the goal states by ``budget`` states.

        Candidates whose LP objectives differ by less than ``tie_tol`` (LP solver precision
        is ~1e-8) count as tied and the lowest state index wins, like the reference's strict
        ``<`` scan in index order.  Default candidates: all non-terminal, non-goal states.
        """
        t0 = time.perf_counter()
        lps0 = self.n_lps
        S = self.mdp.n_states
        Z = list(self.goal_states)
        if candidates is None:
            candidates = [s for s in range(S) if not self.mdp.terminal[s] and s not in Z]
        cand = [int(s) for s in candidates if int(s) not in Z]
        if budget < 0 or budget > len(cand):
            raise ConfigError("budget", f"got {budget}", f"an int in [0, {len(cand)}]")
        base = self.solve(Z)
        designs, objectives = [base], [base.objective]
        quick = None   # candidates: primary LP only (refinement only for the picked support)
        heap: list[tuple[float, int]] = []
        if lazy:
            heap = [(-np.inf, s) for s in cand]            # unknown gains: evaluate all first
            heapq.heapify(heap)
        for _ in range(budget):
            f_Z = objectives[-1]
            if not lazy:
                best_s, best_val, best_res = None, np.inf, None
                for s in cand:
                    if s in Z:
                        continue
                    val, res = self._objective([*Z, s], quick)
                    if val < best_val - tie_tol:
                        best_s, best_val, best_res = s, val, res
            else:
                best_s, best_val, best_res = None, np.inf, None
                fresh: dict[int, tuple[float, ExprdResult]] = {}
                while heap:
                    _neg_gain, s = heapq.heappop(heap)
                    if s in fresh:   # re-evaluated this round and still on top -> take it
                        best_s, (best_val, best_res) = s, fresh[s]
                        break
                    val, res = self._objective([*Z, s], quick)
                    fresh[s] = (val, res)
                    gain = f_Z - val
                    # ties: gains are bucketed by tie_tol and the heap pops the lowest index first
                    heapq.heappush(heap, (-float(np.floor(gain / tie_tol)), s))
                heap = [(g, s) for g, s in heap if s != best_s]
                heapq.heapify(heap)
            assert best_s is not None and best_res is not None
            if self.refine is not None:
                best_res = self.solve([*Z, best_s])
            Z.append(best_s)
            designs.append(best_res)
            objectives.append(best_val)
        return GreedyResult(Z, designs, self.n_lps - lps0, time.perf_counter() - t0, objectives)


def exprd_design(mdp: TabularMDP, support: Sequence[int] | None = None, **kwargs: Any) -> ExprdResult:
    """Solve one EXPRD LP (keyword arguments as :class:`ExprdProblem`).

    Example:
        >>> from rewardkit.tabular import four_rooms
        >>> mdp, layout = four_rooms()
        >>> res = exprd_design(mdp, support=[48] + layout.doorway_states)
        >>> res.informativeness > -0.15573 and res.n_nonzero_states <= 5
        True
    """
    return ExprdProblem(mdp, **kwargs).solve(support)


def exprd_greedy(mdp: TabularMDP, budget: int, candidates: Sequence[int] | None = None, lazy: bool = False,
                 **kwargs: Any) -> GreedyResult:
    """EXPRD's Algorithm 1 with sparsity budget ``budget`` (keyword arguments as :class:`ExprdProblem`).

    Returns the support in pick order (goal states first) and the design after each pick
    (``designs[B]`` uses ``B`` added states).

    Example:
        >>> from rewardkit.tabular import four_rooms
        >>> mdp, _ = four_rooms()
        >>> g = exprd_greedy(mdp, 1)
        >>> g.support, round(g.designs[1].informativeness, 5)
        ([48, 0], -0.0997)
    """
    return ExprdProblem(mdp, **kwargs).greedy(budget, candidates, lazy)
