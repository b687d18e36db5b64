"""core.gae against SB3's RolloutBuffer, SLIM's per-term GAE, and its normalised advantage combination."""

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.buffers import RolloutBuffer

from rewardkit.advantage import multi_critic_advantage, per_term_gae
from rewardkit.core import bootstrap_values, gae


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
    adv = gae(rewards, values, bootstrap_values(values, last_values), gamma * (1.0 - dones), lam, episode_ends=dones)
    ret = adv + values
    np.testing.assert_allclose(adv, buf.advantages, atol=1e-5)
    np.testing.assert_allclose(ret, buf.returns, atol=1e-5)


def test_gae_bootstraps_through_truncation_but_not_termination():
    r = np.zeros((1, 2))
    term = np.array([[True, False]])
    trunc = np.array([[False, True]])
    adv = gae(r, np.zeros((1, 2)), np.array([[3.0, 3.0]]), 0.5 * (1.0 - term), 1.0, episode_ends=term | trunc)
    assert adv.tolist() == [[0.0, 1.5]]


def test_per_term_gae_is_core_gae_per_critic():
    rng = np.random.default_rng(2)
    T, n = 10, 2
    terms = ("goal", "energy")
    r = {k: rng.normal(size=(T, n)) for k in terms}
    v = {k: rng.normal(size=(T, n)) for k in terms}
    nv = {k: rng.normal(size=(T, n)) for k in terms}
    term = rng.random((T, n)) < 0.2
    ends = term | (rng.random((T, n)) < 0.1)
    out = per_term_gae(r, v, nv, 0.9 * (1.0 - term), 0.8, episode_ends=ends)
    for k in terms:
        np.testing.assert_array_equal(out[k], gae(r[k], v[k], nv[k], 0.9 * (1.0 - term), 0.8, ends))
    assert not np.allclose(out["goal"], out["energy"])


def test_multi_critic_balances_term_scales():
    rng = np.random.default_rng(1)
    small = rng.normal(size=100) * 0.01
    big = rng.normal(size=100) * 100
    combined = multi_critic_advantage({"small": small, "big": big})
    single = small + big  # one critic on the summed reward: the big term decides everything
    assert abs(np.corrcoef(single, small)[0, 1]) < 0.2
    assert np.corrcoef(combined, small)[0, 1] > 0.5
    assert np.corrcoef(combined, big)[0, 1] > 0.5
