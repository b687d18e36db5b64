"""Reward terms shared by the integration tests."""

from __future__ import annotations

import numpy as np

from rewardkit.core import RewardTerm


class EpisodeStep(RewardTerm):
    """The step count of each env's current episode (per-env state that ``reset(mask)`` must clear)."""

    batch_kind = "transition"

    def __init__(self, n_envs: int = 2):
        super().__init__("t")
        self.n_envs = n_envs
        self.t = np.zeros(n_envs)

    def compute(self, b):
        self.t[b.env_index] += 1
        return self.t[b.env_index].copy()

    def reset(self, mask=None):
        self.t[np.ones(self.n_envs, bool) if mask is None else np.asarray(mask, bool)] = 0
