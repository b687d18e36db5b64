"""Tabular Q-learning on a reward machine's product MDP, with CRM and RM shaping.

The learner of Toro Icarte et al. (JAIR 2022), written top to bottom:

* **QL** – Q-learning on product states :math:`(s, u)` with the RM reward;
* **QL+RS** – the same on :math:`r + \\gamma\\Phi(u') - \\Phi(u)`, :math:`\\Phi = -V_{RM}`;
* **CRM** – every real step updates :math:`Q((s,u),a)` for *every* non-terminal
  :math:`u`, with that state's counterfactual RM transition;
* **CRM+RS** – both.

The env must have ``Discrete`` observations and put its events in ``info["events"]``
(or pass ``labeling``).  Exploration is ε-greedy with the tie-breaking rule given
explicitly (results depend on it).  A truncated episode (time limit) bootstraps;
only RM/env termination stops bootstrapping.

Metric: the paper's "normalised reward per step" – each episode's
``return / length`` divided by the optimal policy's value of the same quantity,
averaged over the last ``window`` episodes, read every ``log_every`` steps.
"""

from __future__ import annotations

from collections import deque
from typing import Any
from collections.abc import Callable

import numpy as np

from rewardkit.core.potential import potential_difference
from rewardkit.tabular.qlearning import QLearning

from .dnf import as_events
from .reward_machine import RewardMachine

__all__ = ["rm_q_learning"]


def rm_q_learning(env: Any, rm: RewardMachine, total_steps: int, *, crm: bool = False, shaping: bool = False,
                  alpha: float = 0.5, gamma: float = 0.9, rs_gamma: float = 0.9, epsilon: float = 0.1,
                  q_init: float = 2.0, tie_break: str = "random", seed: int = 0,
                  optimal_reward_per_step: float = 1.0, window: int = 100, log_every: int = 1000,
                  labeling: Callable[..., Any] | None = None) -> dict[str, np.ndarray]:
    """Train and return ``{"steps", "normalised_reward_per_step", "episodes"}``.

    Example:
        >>> from rewardkit.spec.office import OfficeWorld, OFFICE_T3
        >>> out = rm_q_learning(OfficeWorld(), RewardMachine.from_text(OFFICE_T3), 2000, crm=True, seed=0)
        >>> out["steps"][:2].tolist()
        [1000, 2000]
    """
    n_s = int(env.observation_space.n)
    k = rm.n_states + 1
    agent = QLearning(n_s * k, int(env.action_space.n), alpha, gamma, epsilon, tie_break, seed=seed, q_init=q_init)
    phi = rm.potential(rs_gamma) if shaping else np.zeros(k)
    # the shaping of every RM transition, F[u, u', terminated] (a table: the loop below is the hot path)
    shaping_table = potential_difference(phi[:, None, None], phi[None, :, None], gamma, np.array([False, True]))
    # counterfactual transitions depend only on (u, events): cache them
    cache: dict[tuple[int, frozenset[str]], tuple[int, float, bool]] = {}

    def rm_step(u: int, ev: frozenset[str]) -> tuple[int, float, bool]:
        key = (u, ev)
        if key not in cache:
            cache[key] = rm.step(u, ev)
        return cache[key]

    steps, curve, episodes = [], [], 0
    recent: deque[float] = deque(maxlen=window)
    t = 0
    next_log = log_every
    episode = 0
    while t < total_steps:
        s, info = env.reset(seed=seed * 100_003 + episode)
        episode += 1
        u = rm.initial
        ep_ret, ep_len = 0.0, 0
        while True:
            a = agent.act(s * k + u)
            s2, _, env_term, trunc, info = env.step(a)
            ev = as_events(labeling(env, s, a, s2, info) if labeling else info.get("events", ""))
            u2, r, rm_done = rm_step(u, ev)
            done = rm_done or bool(env_term)
            sources = range(rm.n_states) if crm else (u,)
            for uc in sources:
                uc2, rc, dc = (u2, r, rm_done) if uc == u else rm_step(uc, ev)
                term_c = dc or bool(env_term)
                shaped = rc + (shaping_table[uc, uc2, int(term_c)] if shaping else 0.0)
                agent.update(s * k + uc, a, shaped, s2 * k + uc2, term_c)
            ep_ret += r
            ep_len += 1
            t += 1
            s, u = s2, u2
            if t >= next_log:  # read the metric as it stands before this episode ends
                steps.append(next_log)
                curve.append(float(np.mean(recent)) if recent else 0.0)
                next_log += log_every
            if done or trunc or t >= total_steps:
                break
        recent.append((ep_ret / ep_len) / optimal_reward_per_step)
        episodes += 1
    return {"steps": np.array(steps), "normalised_reward_per_step": np.array(curve), "episodes": np.array(episodes)}
