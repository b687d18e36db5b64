"""DoorKey shaping: the offset makes the potential non-negative, and the shaping telescopes."""

import gymnasium as gym
import minigrid  # noqa: F401
import numpy as np

from rewardkit.integrations.gymnasium import RewardWrapper
from rewardkit.integrations.minigrid import DoorKeyShaping, MiniGridStateInfo, doorkey_potential


def test_shaped_return_telescopes_and_offset_potential_is_non_negative():
    gamma, offset = 0.99, 2.0
    term = DoorKeyShaping(gamma=gamma, offset=offset, name="shaping")
    env = RewardWrapper(MiniGridStateInfo(gym.make("MiniGrid-DoorKey-5x5-v0", max_steps=60)), term)
    rng = np.random.default_rng(0)
    for ep in range(5):
        _, info = env.reset(seed=ep)
        disc, t, phis = 0.0, 0, []
        while True:
            _, _r, term_, trunc, info = env.step(int(rng.integers(6)))
            disc += gamma**t * info["rk/terms"]["shaping"]
            phis.append(offset + doorkey_potential(info["minigrid/prev_state"])[0])
            t += 1
            if term_ or trunc:
                break
        phi0 = phis[0]
        phi_T = 0.0 if term_ else offset + doorkey_potential(info["minigrid/state"])[0]
        assert np.isclose(disc, gamma**t * phi_T - phi0)
        assert min(phis) >= 0.0  # no farmable (1 - gamma)|Phi| bonus
