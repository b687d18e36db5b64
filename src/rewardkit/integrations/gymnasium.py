"""Gymnasium wrappers that apply a rewardkit reward to an environment.

* :class:`RewardWrapper` – a single :class:`gymnasium.Env`;
* :class:`VectorRewardWrapper` – a :class:`gymnasium.vector.VectorEnv` (both
  ``NEXT_STEP`` and ``SAME_STEP`` autoreset modes);
* SB3's ``VecEnv`` form lives in :mod:`rewardkit.integrations.sb3`.

Semantics (the same for every form):

* The reward returned to the agent is the composed total :math:`r(b)` of the
  transition ``(s, a, s', r_env, terminated, truncated, info)``.
* ``info["rk/env_reward"]`` holds the *original* environment reward of the step.
  If it is already present (an inner rewardkit wrapper wrote it) it is kept, so the
  original return does not depend on how many reward wrappers are stacked or in
  which order.
* ``info["rk/terms"]`` holds each term's value for the step.
* When an episode ends (``terminated or truncated``) ``info`` also holds
  ``rk/env_return`` (original return), ``rk/return`` (composed return),
  ``rk/length`` and ``rk/return/<term>`` for every term.  Put SB3's ``Monitor``
  *outside* the wrapper with ``info_keywords=monitor_keywords(reward)`` and these
  land in ``info["episode"]`` and in the Monitor CSV without extra code.
* ``terminated`` and ``truncated`` pass through unchanged and reach the terms
  separately: a term such as potential-based shaping sets :math:`\\Phi(s')=0`
  only on termination, never on truncation (a time limit is not an absorbing
  state).  Stateful terms are ``reset`` for an env when its episode ends.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from rewardkit.core import RewardTerm, TransitionBatch
from rewardkit.core.vecstep import copy_obs, with_final_obs

from ._episode import (ENV_REWARD, STEP_TERMS, EpisodeAccumulator, as_reward, evaluate, monitor_keywords,
                       stack_obs, take_obs, term_names)

__all__ = ["RewardWrapper", "VectorRewardWrapper", "monitor_keywords"]


class RewardWrapper(gym.Wrapper):
    """Replace a Gymnasium env's reward with a rewardkit reward.

    Args:
        env: the environment.
        reward: a :class:`~rewardkit.core.RewardTerm` or
            :class:`~rewardkit.core.ComposedReward` over transition batches.

    Example:
        >>> import gymnasium as gym
        >>> from rewardkit.core import build_reward
        >>> r = build_reward({"terms": [{"type": "env_reward", "name": "task"},
        ...                             {"type": "constant", "name": "step_cost", "params": {"value": -0.01}}]})
        >>> env = RewardWrapper(gym.make("CartPole-v1"), r)
        >>> _ = env.reset(seed=0)
        >>> _, rew, *_ , info = env.step(0)
        >>> round(rew, 2), info["rk/env_reward"], info["rk/terms"]["step_cost"]
        (0.99, 1.0, -0.01)
    """

    def __init__(self, env: gym.Env, reward: Any):
        super().__init__(env)
        self.reward_fn: RewardTerm = as_reward(reward)
        self._acc = EpisodeAccumulator(1, term_names(self.reward_fn))
        self._obs: Any = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._obs = copy_obs(obs)
        self._acc.clear(np.ones(1, dtype=bool))
        self.reward_fn.reset(np.ones(1, dtype=bool))
        return obs, info

    def step(self, action: Any):
        if self._obs is None:
            raise RuntimeError("RewardWrapper.step called before reset(); call env.reset() first")
        obs, env_r, terminated, truncated, info = self.env.step(action)
        info = dict(info)
        original = float(info.get(ENV_REWARD, env_r))
        info[ENV_REWARD] = original
        batch = TransitionBatch(stack_obs([self._obs]), np.asarray([action]), stack_obs([obs]),
                                np.asarray([float(env_r)]), np.asarray([terminated]), np.asarray([truncated]),
                                [info], np.zeros(1, dtype=np.int64))
        res = evaluate(self.reward_fn, batch)
        self._acc.add(np.zeros(1, dtype=np.int64), np.asarray([original]), res)
        info[STEP_TERMS] = {k: float(v[0]) for k, v in res.terms.items()}
        if terminated or truncated:
            info.update(self._acc.episode_info(0))
            self.reward_fn.reset(np.ones(1, dtype=bool))
        self._obs = copy_obs(obs)
        total: SupportsFloat = float(res.total[0])
        return obs, total, terminated, truncated, info


class VectorRewardWrapper(gym.vector.VectorWrapper):
    """Apply a rewardkit reward to every sub-env of a Gymnasium ``VectorEnv`` at once.

    In the default ``NEXT_STEP`` autoreset mode, the step after a done is a
    pseudo-transition (reset observation, reward 0): it is *not* shown to the terms
    and its reward stays 0.  In ``SAME_STEP`` mode the true final observation is
    read from ``info["final_obs"]``.

    Episode-end keys (``rk/env_return`` …) are written in Gymnasium's vector-info
    layout: an array over envs plus a boolean mask under ``"_<key>"``.

    Example:
        >>> import gymnasium as gym
        >>> from rewardkit.core import Constant
        >>> envs = VectorRewardWrapper(gym.make_vec("CartPole-v1", num_envs=2), Constant(0.5, name="half"))
        >>> _ = envs.reset(seed=0)
        >>> _, r, *_ = envs.step(envs.action_space.sample())
        >>> r.tolist()
        [0.5, 0.5]
    """

    def __init__(self, env: gym.vector.VectorEnv, reward: Any):
        super().__init__(env)
        self.reward_fn: RewardTerm = as_reward(reward)
        self.n = env.num_envs
        self._acc = EpisodeAccumulator(self.n, term_names(self.reward_fn))
        mode = env.metadata.get("autoreset_mode", gym.vector.AutoresetMode.NEXT_STEP)
        self.autoreset_mode = getattr(mode, "value", mode)
        self._obs: Any = None
        self._pending_reset = np.zeros(self.n, dtype=bool)

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._obs = copy_obs(obs)
        self._pending_reset[:] = False
        self._acc.clear(np.ones(self.n, dtype=bool))
        self.reward_fn.reset(np.ones(self.n, dtype=bool))
        return obs, info

    def step(self, actions: Any):
        if self._obs is None:
            raise RuntimeError("VectorRewardWrapper.step called before reset(); call envs.reset() first")
        obs, env_r, terminated, truncated, info = self.env.step(actions)
        env_r = np.asarray(env_r, dtype=np.float64)
        terminated, truncated = np.asarray(terminated, bool), np.asarray(truncated, bool)
        done = terminated | truncated
        real = ~self._pending_reset if self.autoreset_mode == "NextStep" else np.ones(self.n, dtype=bool)
        idx = np.flatnonzero(real)
        next_obs = obs
        if self.autoreset_mode == "SameStep" and done.any() and "final_obs" in info:
            ended = np.flatnonzero(done)
            next_obs = with_final_obs(obs, ended, [info["final_obs"][i] for i in ended])
        out = np.zeros(self.n)
        info = dict(info)
        original = np.asarray(info.get(ENV_REWARD, env_r), dtype=np.float64)
        if idx.size:
            acts = np.asarray(actions)
            batch = TransitionBatch(take_obs(self._obs, idx), acts[idx], take_obs(next_obs, idx), env_r[idx],
                                    terminated[idx], truncated[idx], [{} for _ in idx], idx)
            res = evaluate(self.reward_fn, batch)
            out[idx] = res.total
            self._acc.add(idx, original[idx], res)
        info[ENV_REWARD] = original
        ended = done & real
        if ended.any():
            for i in np.flatnonzero(ended):
                for k, v in self._acc.episode_info(int(i)).items():
                    if k not in info:
                        info[k] = np.zeros(self.n)
                        info["_" + k] = np.zeros(self.n, dtype=bool)
                    info[k][i] = v
                    info["_" + k][i] = True
            self._acc.clear(ended)
            self.reward_fn.reset(ended)
        self._pending_reset = done.copy() if self.autoreset_mode == "NextStep" else np.zeros(self.n, bool)
        self._obs = copy_obs(obs)
        return obs, out, terminated, truncated, info
