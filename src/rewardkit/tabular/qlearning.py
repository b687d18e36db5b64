"""Tabular Q-learning as the reference learner for reward-design experiments.

Watkins & Dayan (1992), "Q-learning", Machine Learning 8:279-292:

.. math::
    Q(s,a) \\leftarrow Q(s,a) + \\alpha\\,[\\hat r + \\gamma\\,(1 - \\text{terminated})
    \\max_{a'} Q(s',a') - Q(s,a)]

with an :math:`\\varepsilon`-greedy behaviour policy.  The agent learns from a
*designed* reward :math:`\\hat R` while every curve is measured under the
*original* reward :math:`\\bar R`: that is what reward design is judged on.

**Tie-breaking is an explicit argument everywhere.**  With :math:`Q_0 = 0` most
actions tie early in learning, and the rule used to break those ties changes
results qualitatively: the EXPRD reference learner uses ``np.argmax`` (the first
maximiser, ``tie_break="first"``), under which plain Q-learning on the sparse
four-room reward barely learns in 4096 episodes; with uniform random tie-breaking
(``tie_break="random"``) it learns in ~900 episodes and EXPRD's sparse penalties
*slow it down* (see ``docs/shaping.md``).  Report the rule with every result.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

from ..core.errors import ConfigError
from .mdp import TabularMDP, greedy_policy

__all__ = ["QLearning", "episodes_to_fraction", "run_q_learning"]

_TIE_BREAKS = ("first", "random")


class QLearning:
    """A tabular epsilon-greedy Q-learner.

    Args:
        n_states, n_actions: table size.
        alpha: step size.
        gamma: discount (use the MDP's).
        epsilon: exploration rate: with probability ``epsilon`` act uniformly at random
            (the random draw may pick the greedy action, as in the EXPRD reference).
        tie_break: ``"first"`` (lowest-index maximiser, ``np.argmax``) or ``"random"``
            (uniform over maximisers).  No default: results depend on it.
        seed: seed of the agent's own generator.
        q_init: initial Q value.

    Example:
        >>> agent = QLearning(2, 2, alpha=0.5, gamma=0.9, epsilon=0.0, tie_break="first", seed=0)
        >>> agent.act(0)          # all ties -> action 0 under "first"
        0
        >>> _ = agent.update(0, 1, 1.0, 1, terminated=True)
        >>> agent.act(0), agent.Q[0].tolist()
        (1, [0.0, 0.5])
    """

    def __init__(self, n_states: int, n_actions: int, alpha: float, gamma: float, epsilon: float,
                 tie_break: str, seed: int | None = None, q_init: float = 0.0):
        if tie_break not in _TIE_BREAKS:
            raise ConfigError("tie_break", f"got {tie_break!r}", "'first' or 'random'")
        if not 0.0 < alpha <= 1.0:
            raise ConfigError("alpha", f"got {alpha}", "a step size in (0, 1]")
        if not 0.0 <= epsilon <= 1.0:
            raise ConfigError("epsilon", f"got {epsilon}", "a probability in [0, 1]")
        self.n_states, self.n_actions = int(n_states), int(n_actions)
        self.alpha, self.gamma, self.epsilon = float(alpha), float(gamma), float(epsilon)
        self.tie_break = tie_break
        self.rng = np.random.default_rng(seed)
        self.Q = np.full((self.n_states, self.n_actions), float(q_init))

    def greedy_action(self, s: int) -> int:
        """:math:`\\arg\\max_a Q(s,a)` with this agent's tie-breaking rule."""
        q = self.Q[s]
        if self.tie_break == "first":
            return int(np.argmax(q))
        best = np.flatnonzero(q == q.max())
        return int(best[0]) if best.size == 1 else int(self.rng.choice(best))

    def act(self, s: int) -> int:
        """Epsilon-greedy action."""
        if self.epsilon > 0.0 and self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.n_actions))
        return self.greedy_action(s)

    def update(self, s: int, a: int, r: float, s2: int, terminated: bool) -> float:
        """One Q-learning step; returns the TD error.  ``terminated`` stops bootstrapping."""
        target = r if terminated else r + self.gamma * self.Q[s2].max()
        td = target - self.Q[s, a]
        self.Q[s, a] += self.alpha * td
        return float(td)

    def greedy_policy(self) -> np.ndarray:
        """The greedy policy ``(S, A)``: one-hot for ``"first"``, uniform over ties for ``"random"``
        (the expected policy of a random tie-breaker)."""
        return greedy_policy(self.Q, self.tie_break)


def _reward_table(reward_fn: Any, mdp: TabularMDP) -> tuple[np.ndarray | None, Callable | None]:
    if reward_fn is None:
        return mdp.R, None
    if callable(reward_fn):
        return None, reward_fn
    R = np.asarray(reward_fn, dtype=np.float64)
    if R.shape == (mdp.n_states,):
        R = np.repeat(R[:, None], mdp.n_actions, axis=1)
    if R.shape != (mdp.n_states, mdp.n_actions):
        raise ConfigError("reward_fn", f"has shape {R.shape}",
                          f"an array ({mdp.n_states}, {mdp.n_actions}), a state reward ({mdp.n_states},) "
                          "or a callable (s, a, s2) -> float")
    return R, None


def run_q_learning(env_or_mdp: Any, episodes: int, reward_fn: Any = None, *, alpha: float = 0.5,
                   epsilon: float = 0.1, tie_break: str, seed: int = 0, max_steps: int | None = None,
                   eval_every: int = 1, gamma: float | None = None, q_init: float = 0.0,
                   agent: QLearning | None = None) -> dict[str, Any]:
    """Train Q-learning on a designed reward; measure everything on the original one.

    Args:
        env_or_mdp: a :class:`TabularMDP` or a :class:`~rewardkit.tabular.envs.TabularEnv`
            (its ``mdp`` and ``max_steps`` are used).
        episodes: number of training episodes.
        reward_fn: the designed reward :math:`\\hat R` the agent learns from: an array
            ``(S, A)`` / ``(S,)``, or a callable ``(s, a, s2) -> float``; ``None`` = original.
        alpha, epsilon: Q-learning step size and exploration.
        tie_break: ``"first"`` or ``"random"`` (required; see module docs).
        seed: seeds both the agent and the environment sampling.
        max_steps: episode length limit (default: the env's ``max_steps``, else 50).
        eval_every: evaluate the greedy policy exactly every this many episodes.
        gamma: discount used by the learner (default: the MDP's).
        agent: continue training this agent instead of a fresh one (any object with
            ``act``, ``update``, ``greedy_policy`` and optionally ``start_episode``).

    Returns:
        dict with ``episode`` (indices at which the greedy policy was evaluated, before
        that episode's updates), ``expected_return`` (:math:`\\mu_0^\\top V^{\\pi_{greedy}}_{\\bar R}`,
        exact), ``optimal_return`` (:math:`\\mu_0^\\top V^*_{\\bar R}`), ``episode_return``
        (undiscounted original-reward sum of each training episode), ``episode_shaped_return``,
        ``steps`` (length of each episode) and the trained ``agent``.

    Example:
        >>> from rewardkit.tabular import four_rooms
        >>> mdp, _ = four_rooms()
        >>> out = run_q_learning(mdp, 20, alpha=0.5, epsilon=0.1, tie_break="first", seed=0, eval_every=10)
        >>> out["episode"].tolist(), len(out["steps"])
        ([0, 10, 20], 20)
    """
    from .envs import TabularEnv

    if not isinstance(env_or_mdp, (TabularEnv, TabularMDP)) and isinstance(getattr(env_or_mdp, "unwrapped", None),
                                                                       TabularEnv):
        env_or_mdp = env_or_mdp.unwrapped      # gymnasium.make(...) wraps the env
    if isinstance(env_or_mdp, TabularEnv):
        mdp = env_or_mdp.mdp
        max_steps = env_or_mdp.max_steps if max_steps is None else max_steps
    elif isinstance(env_or_mdp, TabularMDP):
        mdp = env_or_mdp
    else:
        raise ConfigError("env_or_mdp", f"got {type(env_or_mdp).__name__}", "a TabularMDP or a TabularEnv")
    max_steps = 50 if max_steps is None else int(max_steps)
    if tie_break not in _TIE_BREAKS:
        raise ConfigError("tie_break", f"got {tie_break!r}", "'first' or 'random'")
    R_hat, fn = _reward_table(reward_fn, mdp)
    g = mdp.gamma if gamma is None else float(gamma)
    rng = np.random.default_rng(None if seed is None else seed + 7919)
    if agent is None:
        agent = QLearning(mdp.n_states, mdp.n_actions, alpha, g, epsilon, tie_break, seed=seed, q_init=q_init)
    _, _, pi_star = mdp.value_iteration()
    optimal = mdp.expected_return(pi_star)

    eval_eps, eval_ret, ep_ret, ep_shaped, ep_steps = [], [], [], [], []
    for ep in range(episodes + 1):
        if ep % eval_every == 0 or ep == episodes:
            eval_eps.append(ep)
            eval_ret.append(mdp.expected_return(agent.greedy_policy()))
        if ep == episodes:
            break
        s = mdp.sample_initial(rng)
        if hasattr(agent, "start_episode"):
            agent.start_episode()
        total = shaped = 0.0
        steps = 0
        for _ in range(max_steps):
            steps += 1
            a = agent.act(s)
            s2 = mdp.sample_next(s, a, rng)
            r_hat = float(R_hat[s, a]) if fn is None else float(fn(s, a, s2))
            terminated = bool(mdp.terminal[s2])
            agent.update(s, a, r_hat, s2, terminated)
            total += float(mdp.R[s, a])
            shaped += r_hat
            s = s2
            if terminated:
                break
        ep_ret.append(total)
        ep_shaped.append(shaped)
        ep_steps.append(steps)
    return {
        "episode": np.asarray(eval_eps),
        "expected_return": np.asarray(eval_ret),
        "optimal_return": optimal,
        "episode_return": np.asarray(ep_ret),
        "episode_shaped_return": np.asarray(ep_shaped),
        "steps": np.asarray(ep_steps),
        "agent": agent,
        "tie_break": tie_break,
    }


def episodes_to_fraction(curve: dict[str, Any], fraction: float = 0.9) -> int | None:
    """First evaluated episode where ``expected_return >= fraction * optimal_return`` (None if never).

    Example:
        >>> episodes_to_fraction({"episode": np.array([0, 10, 20]), "expected_return": np.array([0, .5, 1.]),
        ...                       "optimal_return": 1.0})
        20
    """
    ret = np.asarray(curve["expected_return"])
    hit = np.flatnonzero(ret >= fraction * float(curve["optimal_return"]) - 1e-12)
    return int(np.asarray(curve["episode"])[hit[0]]) if hit.size else None
