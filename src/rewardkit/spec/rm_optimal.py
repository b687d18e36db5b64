"""Exact optimal policies of a reward machine's product MDP and their ε-greedy value.

Used to normalise learning curves the way Toro Icarte et al. (JAIR 2022) do: the
"optimal reward per step" is the mean of ``return / length`` over episodes of the
optimal policy run with the same ε-greedy exploration as the learner.
"""

from __future__ import annotations

import numpy as np

from rewardkit.core.potential import potential_difference

from .dnf import as_events
from .reward_machine import RewardMachine

__all__ = ["optimal_reward_per_step", "product_value_iteration"]


def product_value_iteration(next_state: np.ndarray, events: list[str], rm: RewardMachine, gamma: float = 0.9,
                            tol: float = 1e-10, potential: np.ndarray | None = None) -> np.ndarray:
    """Q*((s,u), a) of a deterministic grid (``next_state[s, a]``) times a reward machine.

    With ``potential`` (one value per RM state, terminal last) the reward is shaped:
    :math:`r + \\gamma\\Phi(u')[\\neg done] - \\Phi(u)`.

    Example:
        >>> from rewardkit.spec.office import office_tables, OFFICE_T3
        >>> nxt, ev = office_tables()
        >>> q = product_value_iteration(nxt, ev, RewardMachine.from_text(OFFICE_T3))
        >>> q.shape
        (540, 4)
    """
    n_s, n_a = next_state.shape
    k = rm.n_states + 1
    u2 = np.zeros((n_s, rm.n_states, n_a), dtype=np.int64)
    r = np.zeros((n_s, rm.n_states, n_a))
    done = np.zeros((n_s, rm.n_states, n_a), dtype=bool)
    for s in range(n_s):
        for u in range(rm.n_states):
            for a in range(n_a):
                u2[s, u, a], r[s, u, a], done[s, u, a] = rm.step(u, as_events(events[next_state[s, a]]))
    if potential is not None:
        phi = np.asarray(potential, dtype=np.float64)
        r = r + potential_difference(phi[None, :rm.n_states, None], phi[np.minimum(u2, k - 1)], gamma, done)
    q = np.zeros((n_s * k, n_a))
    s2 = np.broadcast_to(next_state[:, None, :], u2.shape)
    rows = (np.arange(n_s)[:, None] * k + np.arange(rm.n_states)[None, :]).reshape(-1)
    for _ in range(10_000):
        v = q.max(axis=1)
        target = r + gamma * np.where(done, 0.0, v[s2 * k + np.minimum(u2, k - 1)])
        new = q.copy()
        new[rows] = target.reshape(-1, n_a)
        if np.max(np.abs(new - q)) < tol:
            return new
        q = new
    return q


def optimal_reward_per_step(next_state: np.ndarray, events: list[str], start: int, rm: RewardMachine,
                            epsilon: float = 0.1, gamma: float = 0.9, episodes: int = 20_000,
                            max_steps: int = 1000, seed: int = 0) -> float:
    """Mean ``return / length`` of the ε-greedy optimal policy (random tie-breaking)."""
    q = product_value_iteration(next_state, events, rm, gamma)
    k = rm.n_states + 1
    rng = np.random.default_rng(seed)
    n_a = next_state.shape[1]
    total = 0.0
    for _ in range(episodes):
        s, u, ret, length = start, rm.initial, 0.0, 0
        while True:
            row = q[s * k + u]
            a = int(rng.integers(n_a)) if rng.random() < epsilon else int(rng.choice(np.flatnonzero(row == row.max())))
            s = int(next_state[s, a])
            u, rew, d = rm.step(u, as_events(events[s]))
            ret += rew
            length += 1
            if d or length >= max_steps:
                break
        total += ret / length
    return total / episodes
