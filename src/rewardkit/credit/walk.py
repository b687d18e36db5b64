"""The delayed-reward walk of the RUDDER tutorial, as a Gymnasium env.

Positions −6…6 (13 states), start at 0, actions left/right, 50 steps.  The agent earns
+1 every time it steps onto position +2 (the "coin"), but the sum is paid only at the
last step; ``info["immediate_reward"]`` keeps the undelayed reward for diagnostics.
Observation: ``Discrete(13)`` (position + 6).
"""

from __future__ import annotations

from typing import Any

from rewardkit.core.extras import missing_extra

try:
    import gymnasium as gym
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "env") from None

__all__ = ["CoinWalk"]


class CoinWalk(gym.Env):
    """Delayed-reward 1-D walk (Arjona-Medina et al. 2019, tutorial task).

    Example:
        >>> env = CoinWalk()
        >>> s, _ = env.reset(seed=0)
        >>> s, r, term, trunc, info = env.step(1); s, r, info["immediate_reward"]
        (7, 0.0, 0.0)
    """

    def __init__(self, length: int = 50, half_width: int = 6, coin: int = 2, delayed: bool = True):
        self.length, self.half, self.coin, self.delayed = length, half_width, coin, delayed
        self.observation_space = gym.spaces.Discrete(2 * half_width + 1)
        self.action_space = gym.spaces.Discrete(2)
        self.pos, self.t, self.acc = 0, 0, 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.pos, self.t, self.acc = 0, 0, 0.0
        return self.pos + self.half, {}

    def step(self, action: int):
        self.pos = min(self.half, max(-self.half, self.pos + (1 if int(action) == 1 else -1)))
        self.t += 1
        immediate = 1.0 if self.pos == self.coin else 0.0
        self.acc += immediate
        done = self.t >= self.length
        reward = (self.acc if done else 0.0) if self.delayed else immediate
        return self.pos + self.half, reward, False, done, {"immediate_reward": immediate}


if "rewardkit/CoinWalk-v0" not in gym.registry:  # gym.make("rewardkit/CoinWalk-v0") once rewardkit.credit is imported
    gym.register(id="rewardkit/CoinWalk-v0", entry_point="rewardkit.credit.walk:CoinWalk")
