"""GAE against SB3's RolloutBuffer, and SLIM's per-term normalised advantage combination."""

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.buffers import RolloutBuffer

from rewardkit.advantage import gae, multi_critic_advantage


def test_gae_matches_stable_baselines3_rollout_buffer():
    rng = np.random.default_rng(0)
    T, n, gamma, lam = 16, 3, 0.97, 0.9
    rewards = rng.normal(size=(T, n))
    values = rng.normal(size=(T, n))
    last_values = rng.normal(size=n)
    dones = rng.random((T, n)) < 0.15  # terminated at step t
    buf = RolloutBuffer(T, gym.spaces.Box(-1, 1, (1,)), gym.spaces.Discrete(2), n_envs=n, gamma=gamma,
                        gae_lambda=lam)
    starts = np.zeros((T, n), bool)
    starts[1:] = dones[:-1]
    for t in range(T):
        buf.add(np.zeros((n, 1)), np.zeros((n, 1)), rewards[t], starts[t], torch.as_tensor(values[t]),
                torch.zeros(n))
    buf.compute_returns_and_advantage(torch.as_tensor(last_values), dones[-1])
    adv, ret = gae(rewards, values, last_values, dones, gamma=gamma, lam=lam)
    np.testing.assert_allclose(adv, buf.advantages, atol=1e-5)
    np.testing.assert_allclose(ret, buf.returns, atol=1e-5)


def test_gae_bootstraps_through_truncation_but_not_termination():
    r = np.zeros((1, 2))
    adv, _ = gae(r, np.zeros((1, 2)), np.ones(2), terminated=np.array([[True, False]]),
                 truncated=np.array([[False, True]]), gamma=0.5, lam=1.0, next_values=np.array([[3.0, 3.0]]))
    assert adv.tolist() == [[0.0, 1.5]]


def test_multi_critic_balances_term_scales():
    rng = np.random.default_rng(1)
    small = rng.normal(size=100) * 0.01
    big = rng.normal(size=100) * 100
    combined = multi_critic_advantage({"small": small, "big": big})
    single = small + big  # one critic on the summed reward: the big term decides everything
    assert abs(np.corrcoef(single, small)[0, 1]) < 0.2
    assert np.corrcoef(combined, small)[0, 1] > 0.5
    assert np.corrcoef(combined, big)[0, 1] > 0.5
