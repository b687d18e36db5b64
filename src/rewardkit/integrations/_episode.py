"""Per-env episode accumulators shared by the Gymnasium and SB3 reward wrappers."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from rewardkit.core import ComposedReward, RewardResult, RewardTerm, TransitionBatch, as_term

#: info keys written at the end of an episode
ENV_RETURN = "rk/env_return"
SHAPED_RETURN = "rk/return"
TERM_RETURN = "rk/return/{}"
LENGTH = "rk/length"
#: per-step info keys
ENV_REWARD = "rk/env_reward"
STEP_TERMS = "rk/terms"


def as_reward(reward: Any) -> RewardTerm:
    """Accept a RewardTerm, a ComposedReward or a callable."""
    return reward if isinstance(reward, RewardTerm) else as_term(reward)


def evaluate(reward: RewardTerm, batch: TransitionBatch) -> RewardResult:
    """Total and per-term values; a plain term is reported under its own name."""
    if isinstance(reward, ComposedReward):
        return reward.evaluate(batch)
    v = reward(batch)
    return RewardResult(v, {reward.name: v}, {reward.name: 1.0})


def term_names(reward: RewardTerm) -> list[str]:
    if isinstance(reward, ComposedReward):
        return list(reward.terms)
    return [reward.name]


def monitor_keywords(reward: Any) -> tuple[str, ...]:
    """The info keys to pass to SB3 ``Monitor``/``VecMonitor(info_keywords=...)``.

    Example:
        >>> from rewardkit.core import Constant
        >>> monitor_keywords(Constant(1.0, name="alive"))
        ('rk/env_return', 'rk/return', 'rk/length', 'rk/return/alive')
    """
    return (ENV_RETURN, SHAPED_RETURN, LENGTH) + tuple(TERM_RETURN.format(n) for n in term_names(as_reward(reward)))


class EpisodeAccumulator:
    """Running per-env sums of the env reward, the total and each term."""

    def __init__(self, n_envs: int, names: Sequence[str]):
        self.names = list(names)
        self.env_ret = np.zeros(n_envs)
        self.total = np.zeros(n_envs)
        self.length = np.zeros(n_envs, dtype=np.int64)
        self.terms = {k: np.zeros(n_envs) for k in self.names}

    def add(self, idx: np.ndarray, env_reward: np.ndarray, res: RewardResult) -> None:
        self.env_ret[idx] += env_reward
        self.total[idx] += res.total
        self.length[idx] += 1
        for k in self.names:
            if k in res.terms:
                self.terms[k][idx] += res.terms[k]

    def episode_info(self, i: int) -> dict[str, Any]:
        d: dict[str, Any] = {ENV_RETURN: float(self.env_ret[i]), SHAPED_RETURN: float(self.total[i]),
                             LENGTH: int(self.length[i])}
        d.update({TERM_RETURN.format(k): float(v[i]) for k, v in self.terms.items()})
        return d

    def clear(self, mask: np.ndarray) -> None:
        self.env_ret[mask] = 0.0
        self.total[mask] = 0.0
        self.length[mask] = 0
        for v in self.terms.values():
            v[mask] = 0.0


def stack_obs(items: Sequence[Any]) -> Any:
    """Stack per-env observations (arrays or dicts of arrays) along a new axis 0."""
    first = items[0]
    if isinstance(first, Mapping):
        return {k: np.stack([np.asarray(o[k]) for o in items]) for k in first}
    return np.stack([np.asarray(o) for o in items])


def take_obs(obs: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of a batched observation (array or dict of arrays)."""
    if isinstance(obs, Mapping):
        return {k: np.asarray(v)[idx] for k, v in obs.items()}
    return np.asarray(obs)[idx]
