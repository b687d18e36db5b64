"""QARL: robust adversarial RL with a boundedly rational adversary and a rationality curriculum (tabular).

Reddi, Tölle, Peters, Chalvatzaki & D'Eramo (ICLR 2024, "Robust Adversarial Reinforcement Learning
via Bounded Rationality Curricula", catalog #124).  Robust adversarial RL trains a protagonist
against an adversary that perturbs the environment (a zero-sum Markov game).  Against a fully
rational adversary from the start, learning is hard; QARL's adversary plays a *quantal response*,

.. math:: \\beta_\\tau(b \\mid s, a) \\propto \\exp\\big(-Q(s, a, b)/\\tau\\big),

an entropy-regularised best response whose temperature :math:`\\tau` a curriculum lowers toward full
rationality (:math:`\\tau \\to 0`).  The protagonist learns

.. math:: Q(s,a,b) \\leftarrow Q + \\alpha\\Big[r + \\gamma\\max_{a'}\\sum_{b'}\\beta_\\tau(b'|s',a')\\,Q(s',a',b') - Q\\Big]

by Q-learning on the joint action.  :func:`qarl_q_learning` implements it on a
:class:`ZeroSumGame` (the temperature follows any :mod:`rewardkit.core.schedules` schedule);
:func:`worst_case_return` evaluates a protagonist policy against the exact best-responding adversary
(the adversary's induced :class:`~rewardkit.tabular.TabularMDP`, solved exactly).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.errors import ConfigError
from ..core.schedules import Schedule
from ..core.seeding import seeded
from ..tabular.mdp import TabularMDP

__all__ = ["ZeroSumGame", "cliff_game", "greedy_protagonist", "qarl_q_learning", "quantal_response", "worst_case_return"]


@dataclass(frozen=True)
class ZeroSumGame:
    """A finite zero-sum Markov game.

    ``T[s, a, b, s']`` transitions under protagonist action ``a`` and adversary action ``b``; the
    protagonist's reward ``R[s, a, b, s']`` (the adversary's is its negative); ``terminal`` states;
    the start state ``s0``; the discount ``gamma``.
    """

    T: np.ndarray
    R: np.ndarray
    terminal: np.ndarray
    s0: int
    gamma: float = 0.95

    @property
    def shape(self) -> tuple[int, int, int]:
        S, A, B, _ = self.T.shape
        return S, A, B


def quantal_response(Q_sab: np.ndarray, tau: float) -> np.ndarray:
    """The adversary's quantal response :math:`\\propto e^{-Q/\\tau}` over the last axis (``tau = 0``: argmin).

    Example:
        >>> quantal_response(np.array([[1.0, 0.0]]), 0.0).tolist()
        [[0.0, 1.0]]
        >>> quantal_response(np.array([[0.0, 0.0]]), 1.0).tolist()
        [[0.5, 0.5]]
    """
    Q = np.asarray(Q_sab, dtype=np.float64)
    if tau <= 0:
        out = (Q == Q.min(axis=-1, keepdims=True)).astype(np.float64)
        return out / out.sum(axis=-1, keepdims=True)
    z = -(Q - Q.min(axis=-1, keepdims=True)) / tau
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def cliff_game(width: int = 6, push: float = 0.5, gamma: float = 0.95) -> ZeroSumGame:
    """Cliff walking (3 rows) with an adversary that may push the agent one row down after its move.

    Start bottom-left, goal bottom-right, the cells between them on the bottom row are a cliff
    (reward -1, episode ends); every step costs 0.01 and the goal pays 1.  Adversary actions:
    0 no push, 1 push down, which succeeds with probability ``push``.  The nominal shortest path runs
    along the cliff edge; against the adversary the safe path is the top row.

    Example:
        >>> g = cliff_game(width=4)
        >>> g.shape
        (12, 4, 2)
    """
    rows = 3
    S, A, B = rows * width, 4, 2
    idx = lambda r, c: r * width + c  # noqa: E731
    start, goal = idx(rows - 1, 0), idx(rows - 1, width - 1)
    cliff = {idx(rows - 1, c) for c in range(1, width - 1)}
    T = np.zeros((S, A, B, S))
    landing = np.full(S, -0.01)
    landing[goal] += 1.0
    landing[list(cliff)] -= 1.0
    terminal = np.zeros(S, dtype=bool)
    terminal[list(cliff | {goal})] = True
    moves = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    for s in range(S):
        r, c = divmod(s, width)
        if terminal[s]:
            T[s, :, :, s] = 1.0
            continue
        for a, (dr, dc) in enumerate(moves):
            r1, c1 = min(max(r + dr, 0), rows - 1), min(max(c + dc, 0), width - 1)
            for b in range(B):
                outcomes = [(idx(r1, c1), 1.0)] if b == 0 else [(idx(min(r1 + 1, rows - 1), c1), push),
                                                                   (idx(r1, c1), 1.0 - push)]
                for s2, p in outcomes:
                    T[s, a, b, s2] += p
    R = np.broadcast_to(landing, (S, A, B, S)).copy()
    return ZeroSumGame(T, R, terminal, start, gamma)


def qarl_q_learning(game: ZeroSumGame, episodes: int, tau: Schedule | Callable[[int], float], *,
                    adversary: bool = True, alpha: float = 0.3, epsilon: float = 0.2, max_steps: int = 50,
                    seed: int = 0) -> np.ndarray:
    """Learn ``Q[s, a, b]``; the adversary samples its quantal response at ``tau(episode)``.

    ``adversary=False`` trains the nominal protagonist (the adversary never acts, ``b = 0``).
    Returns ``Q``; :func:`greedy_protagonist` reads the protagonist's policy off it.

    Example:
        >>> from rewardkit.core.schedules import linear
        >>> g = cliff_game(width=4)
        >>> Q = qarl_q_learning(g, 300, linear(2.0, 0.0, 200), seed=0)
        >>> Q.shape
        (12, 4, 2)
    """
    if episodes < 1:
        raise ConfigError("episodes", f"got {episodes}", "a positive number of episodes")
    S, A, B = game.shape
    Q = np.zeros((S, A, B))
    nominal = np.eye(B)[np.zeros(A, dtype=int)]      # no adversary: b = 0 for every protagonist action
    with seeded(seed, torch=False) as rng:
        for ep in range(episodes):
            t = float(tau(ep))
            s = game.s0
            for _ in range(max_steps):
                beta = quantal_response(Q[s], t) if adversary else nominal
                value_a = (beta * Q[s]).sum(axis=1)
                best = np.flatnonzero(value_a == value_a.max())
                a = int(rng.integers(A)) if rng.random() < epsilon else int(rng.choice(best))
                b = int(rng.choice(B, p=beta[a]))
                s2 = int(rng.choice(S, p=game.T[s, a, b]))
                r = float(game.R[s, a, b, s2])
                if game.terminal[s2]:
                    target = r
                else:
                    beta2 = quantal_response(Q[s2], t) if adversary else nominal
                    target = r + game.gamma * float((beta2 * Q[s2]).sum(axis=1).max())
                Q[s, a, b] += alpha * (target - Q[s, a, b])
                s = s2
                if game.terminal[s]:
                    break
    return Q


def greedy_protagonist(Q: np.ndarray, adversary: bool = True) -> np.ndarray:
    """Deterministic protagonist: ``argmax_a min_b Q[s, a, b]`` (against a rational adversary), or
    ``argmax_a Q[s, a, 0]`` for a protagonist trained without one (``adversary=False``).

    Example:
        >>> greedy_protagonist(np.array([[[1.0, -5.0], [0.5, 0.4]]])).tolist()
        [1]
    """
    return (Q.min(axis=2) if adversary else Q[:, :, 0]).argmax(axis=1)


def worst_case_return(game: ZeroSumGame, policy: np.ndarray, adversarial: bool = True, iters: int = 2000) -> float:
    """Expected discounted return from ``s0`` of a deterministic protagonist ``policy`` (S,) against the
    best-responding adversary (``adversarial=False``: no pushes), exactly: the protagonist's policy leaves
    the adversary a :class:`~rewardkit.tabular.TabularMDP` (actions ``b``), solved by its value iteration
    (at most ``iters`` sweeps, then exact policy-iteration steps) on the negated reward."""
    S = game.shape[0]
    pa = np.asarray(policy, dtype=np.int64)
    T = game.T[np.arange(S), pa]                     # (S, B, S)
    R = (T * game.R[np.arange(S), pa]).sum(axis=2)   # expected protagonist reward (S, B)
    mdp = TabularMDP(T, R, game.gamma, np.eye(S)[game.s0], terminal=game.terminal)
    if adversarial:
        V, _, _ = mdp.value_iteration(max_iter=iters, R=-R)
        return float(-V[game.s0])
    return mdp.expected_return(np.zeros(S, dtype=np.int64))
