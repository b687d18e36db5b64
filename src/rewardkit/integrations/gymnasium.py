"""Gymnasium wrappers that apply a rewardkit reward to an environment.

* :class:`RewardWrapper` - a single :class:`gymnasium.Env`;
* :class:`VectorRewardWrapper` - a :class:`gymnasium.vector.VectorEnv`;
* SB3's ``VecEnv`` form lives in :mod:`rewardkit.integrations.sb3`.

The classes are defined in :mod:`rewardkit.core.wrappers` (so the exploration wrappers
can build on them without depending on ``integrations``); their docstring states the
semantics shared by every form: info keys, termination vs truncation, the
final-observation policy, and ``check_env`` / ``gym.make(env.spec)`` support.

Example:
    >>> import gymnasium as gym
    >>> from rewardkit.core import Constant
    >>> env = RewardWrapper(gym.make("CartPole-v1"), Constant(0.5, name="half"))
    >>> _ = env.reset(seed=0)
    >>> env.step(0)[1]
    0.5
"""

from __future__ import annotations

from rewardkit.core.wrappers import RewardWrapper, VectorRewardWrapper, monitor_keywords

__all__ = ["RewardWrapper", "VectorRewardWrapper", "monitor_keywords"]
