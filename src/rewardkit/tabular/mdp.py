"""A finite (tabular) Markov decision process with exact planning.

The reward-design methods of rewardkit (EXPRD, ExpAdaRD, invariance certificates,
PBRS checks) all need the same machinery on a finite MDP
:math:`M = (S, A, T, R, \\gamma, \\mu_0)`:

* exact policy evaluation :math:`V^\\pi = (I - \\gamma P^\\pi)^{-1} r^\\pi`;
* the Bellman backup :math:`Q(s,a) = R(s,a) + \\gamma \\sum_{s'} T(s'|s,a) V(s')`;
* value iteration (Bellman 1957) finished by exact policy-iteration steps
  (Howard 1960) so that :math:`V^*` is exact to machine precision;
* the discounted occupancy measure
  :math:`d^\\pi(s,a) = \\pi(a|s) \\sum_t \\gamma^t \\Pr(s_t = s)`, which sums to
  :math:`1/(1-\\gamma)`.

Conventions
-----------
* ``T`` has shape ``(S, A, S)``: ``T[s, a, s2]`` is :math:`T(s_2 | s, a)`.
* ``R`` has shape ``(S, A)``; a state reward of shape ``(S,)`` is broadcast over actions.
* ``terminal`` marks absorbing states.  An episode ends on *entering* one, so its
  value is 0: planning replaces a terminal state's row by a zero-reward self-loop
  (the reward stored in a terminal row is never collected).  This is the
  "absorbing state" reading of episodic tasks (Sutton & Barto 2018, §3.4).
* A policy is an ``(S, A)`` array of action probabilities; an int array ``(S,)``
  (a deterministic policy) is accepted everywhere and turned into one-hot rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.errors import ConfigError

__all__ = ["TabularMDP", "as_policy", "greedy_policy"]


def as_policy(pi: Any, n_states: int, n_actions: int, field_name: str = "pi") -> np.ndarray:
    """Return ``pi`` as an ``(S, A)`` row-stochastic array.

    Accepts an int array ``(S,)`` (deterministic policy) or an ``(S, A)`` array of
    probabilities.

    Example:
        >>> as_policy([1, 0], 2, 2).tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """
    arr = np.asarray(pi)
    if arr.ndim == 1:
        if arr.shape[0] != n_states:
            raise ConfigError(field_name, f"has {arr.shape[0]} entries for {n_states} states",
                              "an int array (S,) or a probability array (S, A)")
        if not np.issubdtype(arr.dtype, np.integer):
            if not np.all(np.equal(np.mod(arr, 1), 0)):
                raise ConfigError(field_name, "a 1-D policy must hold integer actions",
                                  "an int array (S,) or a probability array (S, A)")
            arr = arr.astype(np.int64)
        if arr.min(initial=0) < 0 or arr.max(initial=0) >= n_actions:
            raise ConfigError(field_name, f"has actions outside [0, {n_actions})", f"ints in [0, {n_actions})")
        out = np.zeros((n_states, n_actions))
        out[np.arange(n_states), arr] = 1.0
        return out
    if arr.shape != (n_states, n_actions):
        raise ConfigError(field_name, f"has shape {arr.shape}",
                          f"an int array ({n_states},) or a probability array ({n_states}, {n_actions})")
    arr = arr.astype(np.float64)
    if np.any(arr < -1e-12) or not np.allclose(arr.sum(axis=1), 1.0, atol=1e-8):
        raise ConfigError(field_name, "rows are not probability distributions",
                          "non-negative rows that sum to 1")
    return arr


def greedy_policy(Q: np.ndarray, tie_break: str = "first", tol: float = 0.0) -> np.ndarray:
    """The greedy policy of ``Q`` as an ``(S, A)`` array.

    ``tie_break="first"`` puts all mass on the lowest-index maximiser (``np.argmax``);
    ``"random"`` spreads it uniformly over all maximisers (within ``tol``) - the
    *expected* policy of an agent that breaks ties uniformly at random.

    Example:
        >>> greedy_policy(np.array([[1.0, 1.0], [0.0, 2.0]]), "random").tolist()
        [[0.5, 0.5], [0.0, 1.0]]
    """
    Q = np.asarray(Q, dtype=np.float64)
    if tie_break == "first":
        out = np.zeros_like(Q)
        out[np.arange(Q.shape[0]), np.argmax(Q, axis=1)] = 1.0
        return out
    if tie_break == "random":
        mask = Q >= Q.max(axis=1, keepdims=True) - tol
        return mask / mask.sum(axis=1, keepdims=True)
    raise ConfigError("tie_break", f"got {tie_break!r}", "'first' or 'random'")


@dataclass
class TabularMDP:
    """A finite MDP ``(T, R, gamma, mu0, terminal)`` with exact planning routines.

    Args:
        T: transition probabilities, shape ``(S, A, S)``; each ``T[s, a]`` sums to 1.
        R: reward ``R(s, a)``, shape ``(S, A)``, or a state reward ``(S,)`` (broadcast).
        gamma: discount factor in ``(0, 1]`` (``1`` only if every policy reaches a
            terminal state - the linear solves are singular otherwise).
        mu0: initial-state distribution, shape ``(S,)``.
        terminal: boolean mask ``(S,)`` of absorbing states (default: none).

    Example:
        >>> import numpy as np
        >>> # two states: from state 0, action 1 reaches the absorbing state 1 with reward 1
        >>> T = np.zeros((2, 2, 2)); T[0, 0, 0] = 1; T[0, 1, 1] = 1; T[1, :, 1] = 1
        >>> mdp = TabularMDP(T, np.array([[0.0, 1.0], [0.0, 0.0]]), 0.9, [1.0, 0.0], terminal=[False, True])
        >>> V, Q, pi = mdp.value_iteration()
        >>> V.round(3).tolist(), pi.argmax(axis=1).tolist()
        ([1.0, 0.0], [1, 0])
        >>> float(mdp.occupancy(pi).sum().round(6))   # 1/(1-gamma)
        10.0
    """

    T: np.ndarray
    R: np.ndarray
    gamma: float
    mu0: np.ndarray
    terminal: np.ndarray | None = None
    _T_eff: np.ndarray = field(init=False, repr=False)
    _R_eff: np.ndarray = field(init=False, repr=False)
    _cum_T: np.ndarray = field(init=False, repr=False)
    _cum_mu: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        T = np.asarray(self.T, dtype=np.float64)
        if T.ndim != 3 or T.shape[0] != T.shape[2]:
            raise ConfigError("T", f"has shape {T.shape}", "an array (S, A, S) of transition probabilities")
        S, A, _ = T.shape
        if np.any(T < -1e-12) or not np.allclose(T.sum(axis=2), 1.0, atol=1e-8):
            bad = np.argwhere(~np.isclose(T.sum(axis=2), 1.0, atol=1e-8))
            where = f" (first bad row: s={bad[0][0]}, a={bad[0][1]})" if len(bad) else ""
            raise ConfigError("T", "rows T[s, a, :] are not probability distributions" + where,
                              "non-negative rows that sum to 1")
        self.T = T
        self.R = self._check_reward(self.R, S, A, "R")
        g = float(self.gamma)
        if not 0.0 < g <= 1.0:
            raise ConfigError("gamma", f"got {self.gamma!r}", "a discount factor in (0, 1]")
        self.gamma = g
        mu0 = np.asarray(self.mu0, dtype=np.float64).reshape(-1)
        if mu0.shape != (S,) or np.any(mu0 < 0) or not np.isclose(mu0.sum(), 1.0, atol=1e-8):
            raise ConfigError("mu0", f"has shape {mu0.shape} and sum {mu0.sum():.4g}",
                              f"a probability vector of shape ({S},)")
        self.mu0 = mu0
        if self.terminal is None:
            term = np.zeros(S, dtype=bool)
        else:
            term = np.asarray(self.terminal, dtype=bool).reshape(-1)
            if term.shape != (S,):
                raise ConfigError("terminal", f"has shape {term.shape}", f"a boolean mask of shape ({S},)")
        self.terminal = term
        T_eff = T.copy()
        T_eff[term] = 0.0
        for s in np.flatnonzero(term):
            T_eff[s, :, s] = 1.0
        self._T_eff = T_eff
        self._R_eff = self.R.copy()
        self._R_eff[term] = 0.0
        # inverse-CDF tables for sampling (the last entry is exactly 1 so a draw always lands)
        self._cum_T = np.cumsum(T, axis=2)
        self._cum_T[..., -1] = 1.0
        self._cum_mu = np.cumsum(mu0)
        self._cum_mu[-1] = 1.0

    # ------------------------------------------------------------------ basics
    @staticmethod
    def _check_reward(R: Any, S: int, A: int, name: str) -> np.ndarray:
        R = np.asarray(R, dtype=np.float64)
        if R.shape == (S,):
            R = np.repeat(R[:, None], A, axis=1)
        if R.shape != (S, A):
            raise ConfigError(name, f"has shape {R.shape}", f"a reward array ({S}, {A}) or a state reward ({S},)")
        if not np.all(np.isfinite(R)):
            raise ConfigError(name, "contains NaN or inf", "finite numbers")
        return R

    @property
    def n_states(self) -> int:
        return int(self.T.shape[0])

    @property
    def n_actions(self) -> int:
        return int(self.T.shape[1])

    @property
    def transitions(self) -> np.ndarray:
        """``T`` as used for planning: terminal rows replaced by self-loops, ``(S, A, S)``."""
        return self._T_eff

    @property
    def reward(self) -> np.ndarray:
        """``R`` as used for planning: terminal rows zeroed, ``(S, A)``."""
        return self._R_eff

    def policy(self, pi: Any) -> np.ndarray:
        """Validate and convert ``pi`` to an ``(S, A)`` array (see :func:`as_policy`)."""
        return as_policy(pi, self.n_states, self.n_actions)

    def with_reward(self, R2: Any) -> TabularMDP:
        """The same dynamics with reward ``R2`` (``(S, A)`` or ``(S,)``)."""
        return TabularMDP(self.T, R2, self.gamma, self.mu0, self.terminal)

    def P_pi(self, pi: Any) -> np.ndarray:
        """State-to-state transition matrix :math:`P^\\pi(s, s') = \\sum_a \\pi(a|s) T(s'|s,a)`."""
        p = self.policy(pi)
        return np.einsum("sa,sat->st", p, self._T_eff)

    # ------------------------------------------------------------------ planning
    def q_values(self, V: Any, R: Any = None) -> np.ndarray:
        """Bellman backup :math:`Q(s,a) = R(s,a) + \\gamma \\sum_{s'} T(s'|s,a) V(s')` (terminal rows 0)."""
        V = np.asarray(V, dtype=np.float64).reshape(-1)
        Rr = self._R_eff if R is None else self._masked(R)
        Q = Rr + self.gamma * (self._T_eff @ V)
        Q[self.terminal] = 0.0
        return Q

    def _masked(self, R: Any) -> np.ndarray:
        Rr = self._check_reward(R, self.n_states, self.n_actions, "R")
        Rr = Rr.copy()
        Rr[self.terminal] = 0.0
        return Rr

    def policy_evaluation(self, pi: Any, R: Any = None) -> np.ndarray:
        """Exact :math:`V^\\pi` by one linear solve over the non-terminal states.

        :math:`V^\\pi_N = (I - \\gamma P^\\pi_{NN})^{-1} r^\\pi_N`, and :math:`V^\\pi = 0` on terminal states.
        """
        p = self.policy(pi)
        Rr = self._R_eff if R is None else self._masked(R)
        live = ~self.terminal
        P = np.einsum("sa,sat->st", p, self._T_eff)[np.ix_(live, live)]
        r = (p * Rr).sum(axis=1)[live]
        V = np.zeros(self.n_states)
        V[live] = np.linalg.solve(np.eye(int(live.sum())) - self.gamma * P, r)
        return V

    def q_pi(self, pi: Any, R: Any = None) -> np.ndarray:
        """:math:`Q^\\pi(s,a)`, exact."""
        return self.q_values(self.policy_evaluation(pi, R), R)

    def advantage(self, pi: Any, R: Any = None) -> np.ndarray:
        """:math:`A^\\pi(s,a) = Q^\\pi(s,a) - V^\\pi(s)`, exact, shape ``(S, A)``."""
        V = self.policy_evaluation(pi, R)
        return self.q_values(V, R) - V[:, None]

    def value_iteration(self, tol: float = 1e-10, max_iter: int = 100_000,
                        R: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Optimal ``(V*, Q*, pi*)``.

        Value iteration :math:`V \\leftarrow \\max_a [R + \\gamma T V]` until the
        sup-norm change is below ``tol``, then policy-iteration steps (exact
        evaluation of the greedy policy) until the greedy policy is stable, so the
        result is exact up to linear-solve precision.  ``pi*`` is deterministic
        (one-hot, lowest-index maximiser); use :meth:`optimal_actions` for the set of
        all co-optimal actions.
        """
        Rr = self._R_eff if R is None else self._masked(R)
        V = np.zeros(self.n_states)
        for _ in range(max_iter):
            Q = self.q_values(V, Rr)
            V_new = Q.max(axis=1)
            if np.max(np.abs(V_new - V)) < tol:
                V = V_new
                break
            V = V_new
        pi = np.argmax(self.q_values(V, Rr), axis=1)
        for _ in range(100):
            V = self.policy_evaluation(pi, Rr)
            Q = self.q_values(V, Rr)
            best = Q.max(axis=1)
            # keep the current action where it is (numerically) still optimal
            keep = Q[np.arange(self.n_states), pi] >= best - 1e-12 * (1 + np.abs(best))
            new_pi = np.where(keep, pi, np.argmax(Q, axis=1))
            if np.array_equal(new_pi, pi):
                break
            pi = new_pi
        V = self.policy_evaluation(pi, Rr)
        Q = self.q_values(V, Rr)
        pi_first = np.argmax(Q >= Q.max(axis=1, keepdims=True) - 1e-12 * (1 + np.abs(Q).max()), axis=1)
        return V, Q, as_policy(pi_first, self.n_states, self.n_actions)

    def optimal_actions(self, tol: float = 1e-8, R: Any = None) -> np.ndarray:
        """Boolean mask ``(S, A)`` of the actions within ``tol`` of :math:`\\max_a Q^*(s,a)`."""
        _, Q, _ = self.value_iteration(R=R)
        return Q >= Q.max(axis=1, keepdims=True) - tol

    def state_occupancy(self, pi: Any) -> np.ndarray:
        """:math:`d^\\pi(s) = \\sum_t \\gamma^t \\Pr(s_t = s) = [(I - \\gamma P^{\\pi\\top})^{-1} \\mu_0](s)`.

        Terminal states are absorbing self-loops, so the total is :math:`1/(1-\\gamma)`.
        """
        if self.gamma >= 1.0:
            raise ConfigError("gamma", "the discounted occupancy needs gamma < 1", "gamma in (0, 1)")
        P = self.P_pi(pi)
        return np.linalg.solve(np.eye(self.n_states) - self.gamma * P.T, self.mu0)

    def occupancy(self, pi: Any) -> np.ndarray:
        """Discounted state-action occupancy :math:`d^\\pi(s,a) = d^\\pi(s)\\,\\pi(a|s)`, shape ``(S, A)``."""
        return self.state_occupancy(pi)[:, None] * self.policy(pi)

    def expected_return(self, pi: Any, R: Any = None) -> float:
        """:math:`J(\\pi) = \\mu_0^\\top V^\\pi` (under ``R``, default the MDP's reward)."""
        return float(self.mu0 @ self.policy_evaluation(pi, R))

    # ------------------------------------------------------------------ sampling
    def sample_next(self, s: int, a: int, rng: np.random.Generator) -> int:
        """Sample :math:`s' \\sim T(\\cdot|s,a)` (true dynamics, not the self-loop used for planning).

        Inverse CDF on a precomputed table: one ``rng.random()`` per draw, like
        ``rng.choice(S, p=T[s, a])`` but without its per-call validation and cumsum.
        """
        return int(np.searchsorted(self._cum_T[s, a], rng.random(), side="right"))

    def sample_initial(self, rng: np.random.Generator) -> int:
        """Sample :math:`s_0 \\sim \\mu_0` (inverse CDF, one ``rng.random()`` per draw)."""
        return int(np.searchsorted(self._cum_mu, rng.random(), side="right"))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def random(cls, n_states: int, n_actions: int, gamma: float = 0.9, seed: int | None = 0,
               branching: int | None = None, n_terminal: int = 0, reward_scale: float = 1.0,
               state_reward: bool = False) -> TabularMDP:
        """A random MDP (for property tests).

        Each ``T[s, a]`` is a Dirichlet(1) draw over ``branching`` random successor
        states (all states if ``None``); rewards are ``N(0, reward_scale^2)``;
        the last ``n_terminal`` states are absorbing; ``mu0`` is uniform over the
        non-terminal states.

        Example:
            >>> m = TabularMDP.random(5, 3, seed=1, n_terminal=1)
            >>> m.T.shape, int(m.terminal.sum())
            ((5, 3, 5), 1)
        """
        if n_states < 1 or n_actions < 1 or n_terminal >= n_states:
            raise ConfigError("n_states", f"got S={n_states}, A={n_actions}, n_terminal={n_terminal}",
                              "S >= 1, A >= 1 and n_terminal < S")
        rng = np.random.default_rng(seed)
        k = n_states if branching is None else max(1, min(int(branching), n_states))
        T = np.zeros((n_states, n_actions, n_states))
        for s in range(n_states):
            for a in range(n_actions):
                succ = rng.choice(n_states, size=k, replace=False)
                T[s, a, succ] = rng.dirichlet(np.ones(k))
        if state_reward:
            R = rng.normal(0.0, reward_scale, size=n_states)
        else:
            R = rng.normal(0.0, reward_scale, size=(n_states, n_actions))
        terminal = np.zeros(n_states, dtype=bool)
        if n_terminal:
            terminal[-n_terminal:] = True
        mu0 = (~terminal).astype(float)
        mu0 /= mu0.sum()
        return cls(T, R, gamma, mu0, terminal)
