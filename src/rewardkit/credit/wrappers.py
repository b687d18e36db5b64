"""The Gymnasium side of :mod:`rewardkit.credit`: a wrapper that delays the reward to the episode's end."""

from __future__ import annotations

from typing import Any

from rewardkit.core.extras import missing_extra

try:
    import gymnasium as gym
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "env") from None

__all__ = ["DelayedRewardWrapper"]


class DelayedRewardWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Withhold the reward and pay the episode return at the last step.

    The immediate reward that was withheld stays visible in ``info["immediate_reward"]``
    for diagnostics.  Use it to benchmark credit assignment (RUDDER's delayed tasks,
    LaRe's episodic MuJoCo).

    Example:
        >>> import gymnasium as gym
        >>> env = DelayedRewardWrapper(gym.make("CartPole-v1", max_episode_steps=3))
        >>> _ = env.reset(seed=0)
        >>> [env.step(0)[1] for _ in range(3)]
        [0.0, 0.0, 3.0]
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        super().__init__(env)
        self._acc = 0.0

    def reset(self, **kwargs: Any):
        self._acc = 0.0
        return self.env.reset(**kwargs)

    def step(self, action: Any):
        obs, r, term, trunc, info = self.env.step(action)
        info = dict(info)
        info["immediate_reward"] = float(r)
        self._acc += float(r)
        out = self._acc if (term or trunc) else 0.0
        return obs, out, term, trunc, info
