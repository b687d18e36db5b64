"""Off-policy replay relabels the intrinsic reward with the *current* bonus model (B5-iii)."""

import numpy as np
import pytest
import torch
from stable_baselines3 import DQN
from stable_baselines3.common.env_util import make_vec_env

from rewardkit.core.errors import ConfigError
from rewardkit.explore.counts import CountBonus
from rewardkit.explore.replay import IntrinsicReplayBuffer, relabel_bonus
from xi_corridor import Corridor

torch.set_num_threads(1)


def _dqn(bonus, coef=0.5, **kw):
    venv = make_vec_env(lambda: Corridor(6, 10), n_envs=2, seed=0)
    return DQN("MlpPolicy", venv, learning_starts=100, buffer_size=2000, seed=0, train_freq=4,
               replay_buffer_class=IntrinsicReplayBuffer,
               replay_buffer_kwargs=dict(bonus=bonus, coef=coef, **kw))


def test_relabelled_rewards_follow_the_current_count_table():
    bonus = CountBonus(mode="global", key_fn="obs_hash")
    model = _dqn(bonus)
    model.learn(300)
    rb = model.replay_buffer
    assert isinstance(rb, IntrinsicReplayBuffer)
    inds = np.arange(0, 40)
    envs = np.zeros(40, dtype=int)
    first = rb.samples_at(inds, envs).rewards.numpy().ravel()
    ext = rb.rewards[inds, envs]
    keys = bonus.keys(rb.next_observations[inds, envs])
    expect = ext + 0.5 / np.sqrt([bonus.count(k) for k in keys])
    np.testing.assert_allclose(first, expect, rtol=1e-5)
    # more experience -> higher counts -> the *same stored transitions* now get a smaller bonus
    model.learn(600, reset_num_timesteps=False)
    second = rb.samples_at(inds, envs).rewards.numpy().ravel()
    keys_now = bonus.keys(rb.next_observations[inds, envs])
    np.testing.assert_allclose(second, ext + 0.5 / np.sqrt([bonus.count(k) for k in keys_now]), rtol=1e-5)
    assert (second <= first + 1e-7).all() and (second < first - 1e-4).any()
    # what is stored stays extrinsic
    assert set(np.unique(rb.rewards[: rb.pos])) <= {0.0, 1.0}


def test_episodic_bonus_is_rejected_for_replay():
    with pytest.raises(ConfigError, match="episodic"):
        _dqn(CountBonus(mode="product"))
    with pytest.raises(ConfigError, match="episodic"):
        relabel_bonus(CountBonus(mode="first_visit"), np.zeros((1, 1)), np.zeros(1), np.zeros((1, 1)))
    with pytest.raises(ConfigError, match="bonus"):
        _dqn(None)


def test_relabelling_uses_the_current_rnd_predictor():
    from rewardkit.explore.rnd import RND

    rnd = RND(obs_shape=(6,), seed=0)
    model = _dqn(rnd, coef=1.0, update_on_sample=True)
    model.learn(300)
    rb = model.replay_buffer
    inds, envs = np.arange(0, 64), np.zeros(64, dtype=int)
    nxt = rb.next_observations[inds, envs]
    first = rb.samples_at(inds, envs)
    before = rb.last_relabel["intrinsic"].copy()
    for _ in range(30):  # train the predictor on exactly these states
        rnd.update({"obs": rb.observations[inds, envs], "next_obs": nxt})
    rb.update_on_sample = False
    second = rb.samples_at(inds, envs)
    after = rb.last_relabel["intrinsic"]
    np.testing.assert_allclose(after, rnd.raw_bonus(nxt), rtol=1e-5)  # the model as it is now
    assert after.mean() < before.mean() / 3
    ext = rb.rewards[inds, envs]
    np.testing.assert_allclose(second.rewards.numpy().ravel(), ext + after, rtol=1e-5)
    assert first.rewards.shape == second.rewards.shape
