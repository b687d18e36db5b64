"""RND / RDD: decay on repeated states, obs normalisation, time-axis return filter (CleanRL #360)."""

import numpy as np
import pytest

from rewardkit.core import BatchError, ConfigError
from rewardkit.explore.nets import IntrinsicReturnScaler, ObsNormalizer, forward_filtered_returns
from rewardkit.explore.rdd import RDD
from rewardkit.explore.rnd import RND

RNG = np.random.default_rng(0)


def test_rnd_bonus_on_a_repeated_state_decays_more_than_10x():
    rnd = RND(obs_shape=(7, 7, 3), reward_norm=False, seed=0)
    rnd.warmup(RNG.integers(0, 11, (256, 7, 7, 3)))
    s = np.repeat(RNG.integers(0, 11, (1, 7, 7, 3)), 64, axis=0)
    novel = RNG.integers(0, 11, (64, 7, 7, 3))
    b0 = rnd.raw_bonus(s[:1])[0]
    for _ in range(100):
        rnd.update({"obs": s, "next_obs": s})
    assert rnd.raw_bonus(s[:1])[0] < b0 / 10
    assert rnd.raw_bonus(novel).mean() > 10 * rnd.raw_bonus(s[:1])[0]  # other states stay novel


def test_forward_filter_runs_along_time_per_env():
    # env 0 gets a reward every step, env 1 only at the first step; gamma 0.5
    r = np.array([[1.0, 4.0], [1.0, 0.0], [1.0, 0.0]])
    R, _last = forward_filtered_returns(r, 0.5)
    np.testing.assert_allclose(R, [[1.0, 4.0], [1.5, 2.0], [1.75, 1.0]])
    # the CleanRL #360 bug iterates the (T, n) array transposed, i.e. over envs
    buggy = []
    acc = np.zeros(3)
    for row in r.T:
        acc = acc * 0.5 + row
        buggy.append(acc.copy())
    assert not np.allclose(np.std(R), np.std(np.array(buggy)))
    s = IntrinsicReturnScaler(gamma=0.5)
    out = s.scale(r)
    assert s.rms.var == pytest.approx(np.var(R))  # statistics of the time-filtered returns
    np.testing.assert_allclose(out, r / np.sqrt(np.var(R) + 1e-8))


def test_per_step_and_rollout_scaling_agree():
    r = RNG.random((20, 3))
    a, b = IntrinsicReturnScaler(0.9), IntrinsicReturnScaler(0.9)
    a.scale(r)
    for t in range(20):
        b.scale(r[t])
    assert a.rms.mean == pytest.approx(b.rms.mean) and a.rms.var == pytest.approx(b.rms.var)
    np.testing.assert_allclose(a.ret, b.ret)


def test_obs_normalisation_clips_to_5():
    on = ObsNormalizer((2,))
    on.update(RNG.normal(size=(1000, 2)))
    out = on(np.array([[100.0, -100.0], [0.0, 0.0]]))
    assert out[0].tolist() == [5.0, -5.0] and abs(out[1]).max() < 0.2


def test_rnd_rollout_and_state_dict_round_trip_and_seed():
    obs = RNG.normal(size=(16, 4, 6)).astype(np.float32)
    batch = {"obs": obs[:-1], "next_obs": obs[1:], "terminated": np.zeros((15, 4), bool)}
    a, b = RND(obs_shape=(6,), seed=7), RND(obs_shape=(6,), seed=7)
    a.warmup(obs)
    b.warmup(obs)
    np.testing.assert_array_equal(a.compute(batch), b.compute(batch))  # same seed -> same bonus
    assert a.update(batch) == b.update(batch)
    c = RND(obs_shape=(6,), seed=8)
    c.warmup(obs)
    assert not np.allclose(c.compute(batch), RND(obs_shape=(6,), seed=7).compute(batch))
    d = RND(obs_shape=(6,), seed=99)
    d.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.compute(batch), d.compute(batch))
    assert a.update(batch) == d.update(batch)
    np.testing.assert_array_equal(a.compute(batch), d.compute(batch))


def test_update_proportion_masks_samples():
    obs = RNG.normal(size=(512, 3)).astype(np.float32)
    full, tiny = RND(obs_shape=(3,), seed=0, reward_norm=False), RND(obs_shape=(3,), seed=0, update_proportion=0.02,
                                                                     reward_norm=False)
    for m in (full, tiny):
        m.warmup(obs)
        for _ in range(20):
            m.update({"obs": obs, "next_obs": obs})
    assert full.raw_bonus(obs).mean() < tiny.raw_bonus(obs).mean()
    with pytest.raises(ConfigError, match="update_proportion"):
        RND(obs_shape=(3,), update_proportion=0.0)


def test_rnd_rejects_wrong_shapes():
    rnd = RND(obs_shape=(3,))
    with pytest.raises(BatchError, match="obs_shape"):
        rnd.observe(np.zeros((2, 4)), [0, 0], np.zeros((2, 4)), [0, 0], [0, 0])


def test_rdd_pseudo_count_term_decays_like_a_count():
    rdd = RDD(obs_shape=(3,), num_targets=1, reward_norm=False, seed=0)
    s = np.ones((16, 3), np.float32)
    rdd.warmup(RNG.normal(size=(64, 3)))
    counts = []
    for i in range(1, 201):
        rdd.update({"obs": s, "next_obs": s})
        if i in (5, 200):
            counts.append(rdd.pseudo_count(s[:1])[0])
    assert counts[1] > 5 * counts[0]          # the implied visit count grows with training
    novel = RNG.normal(size=(32, 3)) * 3
    assert np.median(rdd.pseudo_count(novel)) < counts[1]


def test_drnd_bonus_decays_on_repeated_state():
    d = RDD(obs_shape=(3,), num_targets=5, reward_norm=False, seed=1)
    s = np.ones((16, 3), np.float32)
    d.warmup(RNG.normal(size=(64, 3)))
    b0 = d.raw_bonus(s[:1])[0]
    for _ in range(200):
        d.update({"obs": s, "next_obs": s})
    assert d.raw_bonus(s[:1])[0] < b0 / 3


def test_obs_normalizer_merge_matches_core_running_mean_std():
    from rewardkit.core import RunningMeanStd

    on, ref = ObsNormalizer((3,)), RunningMeanStd((3,))
    for i in range(4):
        d = RNG.normal(size=(50, 3)) * (i + 1) + i
        on.update(d)
        ref.update(d)
    np.testing.assert_allclose(on.rms.mean, ref.mean, rtol=1e-5)
    np.testing.assert_allclose(on.rms.var, ref.var, rtol=1e-4)
    assert on.rms.count == ref.count == 200
