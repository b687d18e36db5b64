"""A 1-D sparse-reward corridor: the smallest env where exploration decides success.

The agent starts in cell 0 of ``length`` cells, moves left (action 0) or right
(action 1) and gets reward 1 only on reaching the last cell (which terminates the
episode); episodes are cut after ``horizon`` steps.  The observation is the one-hot
position.  A uniformly random policy reaches cell ``length - 1`` within ``horizon``
steps with probability about ``2 P(Z > (length - 1) / sqrt(horizon))`` – for
``length=25, horizon=50`` that is below 0.1 % per episode.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np


class Corridor(gym.Env):
    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, length: int = 25, horizon: int = 50):
        self.length = int(length)
        self.horizon = int(horizon)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (self.length,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.pos = 0
        self.t = 0

    def _obs(self) -> np.ndarray:
        o = np.zeros(self.length, dtype=np.float32)
        o[self.pos] = 1.0
        return o

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos, self.t = 0, 0
        return self._obs(), {"agent_pos": (self.pos, 0)}

    def step(self, action):
        self.t += 1
        self.pos = min(max(self.pos + (1 if int(action) == 1 else -1), 0), self.length - 1)
        terminated = self.pos == self.length - 1
        truncated = (not terminated) and self.t >= self.horizon
        return self._obs(), float(terminated), terminated, truncated, {"agent_pos": (self.pos, 0)}
