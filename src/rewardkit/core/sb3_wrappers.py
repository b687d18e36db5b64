"""Stable-Baselines3's form of the one wrapper family: a ``VecEnvWrapper`` that applies a rewardkit reward.

Importing this module imports Stable-Baselines3 (an optional extra).  Users import
:class:`VecRewardWrapper` from :mod:`rewardkit.integrations.sb3`; it lives in ``core``
so capability packages can build on it (:class:`rewardkit.explore.wrappers.BonusVecEnvWrapper`).

SB3 ``VecEnv`` semantics are handled exactly (see :mod:`rewardkit.core.wrappers` for
the info keys, shared by every form):

* SB3 resets a sub-env in the same step it ends, so the observation returned for a
  done env is the *reset* observation; the true ``s'`` is
  ``infos[i]["terminal_observation"]`` and that is what the terms see (missing:
  :class:`~rewardkit.core.errors.BatchError`).
* SB3 folds ``terminated`` and ``truncated`` into ``dones``; truncation is recovered
  from ``infos[i]["TimeLimit.truncated"]``, so terms receive both flags separately
  (``terminated = done and not truncated``).
* Per-step term values are in ``infos[i]["rk/terms"]``; at episode end ``infos[i]``
  holds ``rk/env_return``, ``rk/return``, ``rk/length`` and ``rk/return/<term>``.
  Wrap with ``VecMonitor(venv, info_keywords=monitor_keywords(reward))`` (outside)
  and SB3 records them in ``info["episode"]`` and ``model.ep_info_buffer``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from .extras import missing_extra

try:
    from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "rl") from None

from .term import RewardTerm
from .vecstep import (ENV_REWARD, STEP_TERMS, EpisodeExtra, StepScorer, as_reward, monitor_keywords, sb3_done_flags,
                      sb3_final_obs)

__all__ = ["VecRewardWrapper", "monitor_keywords"]


class VecRewardWrapper(VecEnvWrapper):
    """Apply a rewardkit reward to all sub-envs of an SB3 ``VecEnv`` in one batch.

    Example:
        >>> import gymnasium as gym
        >>> from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor
        >>> from rewardkit.core import build_reward
        >>> r = build_reward({"terms": [{"type": "env_reward", "name": "task"},
        ...                             {"type": "alive", "weight": 0.1}]})
        >>> venv = VecMonitor(VecRewardWrapper(DummyVecEnv([lambda: gym.make("CartPole-v1")] * 2), r),
        ...                   info_keywords=monitor_keywords(r))
        >>> _ = venv.reset()
        >>> _, rew, _, infos = venv.step([0, 1])
        >>> [round(x, 2) for x in rew.tolist()], sorted(infos[0]["rk/terms"])
        ([1.1, 1.1], ['alive', 'task'])
    """

    def __init__(self, venv: VecEnv, reward: Any):
        super().__init__(venv)
        self.reward_fn: RewardTerm = as_reward(reward)
        self.scorer = StepScorer(self.reward_fn, self.num_envs, extras=self._episode_extras())
        self._actions: Any = None

    def _episode_extras(self) -> list[EpisodeExtra]:
        """Extra episode-end info producers (subclasses add theirs)."""
        return []

    def reset(self) -> Any:
        obs = self.venv.reset()
        self.scorer.reset(obs)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)
        self.venv.step_async(actions)

    def step_wait(self) -> tuple[Any, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        if self.scorer.obs is None:
            raise RuntimeError(f"{type(self).__name__}.step called before reset(); call venv.reset() first")
        obs, env_r, dones, infos = self.venv.step_wait()
        dones = np.asarray(dones, dtype=bool)
        terminated, truncated = sb3_done_flags(dones, infos)
        next_obs = sb3_final_obs(obs, dones, infos)
        original = np.array([float(inf.get(ENV_REWARD, r)) for inf, r in zip(infos, np.asarray(env_r), strict=True)])
        res = self.scorer.step(self._actions, next_obs, obs, env_r, terminated, truncated, list(infos),
                               original=original)
        for i, inf in enumerate(infos):
            inf[ENV_REWARD] = float(original[i])
            inf[STEP_TERMS] = {k: float(v[i]) for k, v in res.terms.items()}
            if i in res.episodes:
                inf.update(res.episodes[i])
        return obs, res.total.astype(np.float32), dones, infos
