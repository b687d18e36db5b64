"""Stable-Baselines3 integration: a ``VecEnvWrapper`` that applies a rewardkit reward.

SB3 ``VecEnv`` semantics are handled exactly:

* SB3 resets a sub-env in the same step it ends, so the observation returned for a
  done env is the *reset* observation; the true ``s'`` is
  ``infos[i]["terminal_observation"]`` and that is what the terms see.
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
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from rewardkit.core import RewardTerm, TransitionBatch
from rewardkit.core.vecstep import copy_obs, sb3_done_flags, with_final_obs

from ._episode import ENV_REWARD, STEP_TERMS, EpisodeAccumulator, as_reward, evaluate, monitor_keywords, term_names

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
        self._acc = EpisodeAccumulator(self.num_envs, term_names(self.reward_fn))
        self._obs: Any = None
        self._actions: Any = None

    def reset(self):
        obs = self.venv.reset()
        self._obs = copy_obs(obs)
        every = np.ones(self.num_envs, dtype=bool)
        self._acc.clear(every)
        self.reward_fn.reset(every)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)
        self.venv.step_async(actions)

    def step_wait(self):
        if self._obs is None:
            raise RuntimeError("VecRewardWrapper.step called before reset(); call venv.reset() first")
        obs, env_r, dones, infos = self.venv.step_wait()
        env_r = np.asarray(env_r, dtype=np.float64)
        dones = np.asarray(dones, dtype=bool)
        terminated, truncated = sb3_done_flags(dones, infos)
        ended = np.flatnonzero(dones)
        next_obs = with_final_obs(obs, ended, [infos[i].get("terminal_observation") for i in ended])
        original = np.array([float(inf.get(ENV_REWARD, r)) for inf, r in zip(infos, env_r)])
        batch = TransitionBatch(self._obs, self._actions, next_obs, env_r, terminated, truncated,
                                list(infos), np.arange(self.num_envs))
        res = evaluate(self.reward_fn, batch)
        self._acc.add(np.arange(self.num_envs), original, res)
        for i, inf in enumerate(infos):
            inf[ENV_REWARD] = float(original[i])
            inf[STEP_TERMS] = {k: float(v[i]) for k, v in res.terms.items()}
            if dones[i]:
                inf.update(self._acc.episode_info(i))
        if dones.any():
            self._acc.clear(dones)
            self.reward_fn.reset(dones)
        self._obs = copy_obs(obs)
        return obs, res.total.astype(np.float32), dones, infos
