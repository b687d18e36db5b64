"""Normalisation statistics: exact running moments, return statistic along time, freezing."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardkit.core import FunctionTerm, Normalized, RewardNormalizer, RunningMeanStd, TransitionBatch

finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


@given(st.lists(st.lists(finite, min_size=1, max_size=10), min_size=1, max_size=10))
def test_running_moments_equal_batch_moments(chunks):
    rms = RunningMeanStd()
    for c in chunks:
        rms.update(np.array(c))
    allv = np.concatenate([np.array(c) for c in chunks])
    np.testing.assert_allclose(rms.mean, allv.mean(), atol=1e-7)
    np.testing.assert_allclose(rms.var, allv.var(), rtol=1e-6, atol=1e-6)
    assert rms.count == len(allv)


@settings(max_examples=50)
@given(st.integers(1, 4), st.integers(2, 30), st.floats(0.0, 1.0), st.integers(0, 10_000))
def test_return_statistic_accumulates_along_time_per_env(n_envs, steps, gamma, seed):
    rng = np.random.default_rng(seed)
    rewards = rng.normal(size=(steps, n_envs))
    dones = rng.random((steps, n_envs)) < 0.2
    norm = RewardNormalizer("return", gamma=gamma)
    for t in range(steps):
        norm(rewards[t], done=dones[t], env_index=np.arange(n_envs))
    # reference: explicit per-env discounted return, restarted after a done
    ret = np.zeros(n_envs)
    seen = []
    for t in range(steps):
        ret = ret * gamma + rewards[t]
        seen.append(ret.copy())
        ret[dones[t]] = 0.0
    ref = np.concatenate(seen)
    np.testing.assert_allclose(norm.rms.var, ref.var(), rtol=1e-6, atol=1e-9)


def test_return_statistic_with_time_major_flat_batch_matches_stepwise():
    rng = np.random.default_rng(0)
    r = rng.normal(size=(5, 3))
    d = np.zeros((5, 3), bool)
    d[2, 1] = True
    a = RewardNormalizer("return", gamma=0.9)
    for t in range(5):
        a(r[t], d[t], np.arange(3))
    b = RewardNormalizer("return", gamma=0.9)
    b(r.reshape(-1), d.reshape(-1), np.tile(np.arange(3), 5))
    np.testing.assert_allclose(a.rms.var, b.rms.var)


def test_reward_statistic_centred_and_uncentred():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    c = RewardNormalizer("reward", center=True)(v)
    np.testing.assert_allclose(c.mean(), 0.0, atol=1e-9)
    u = RewardNormalizer("reward", center=False)(v)
    np.testing.assert_allclose(u, v / np.sqrt(v.var() + 1e-8))


def test_frozen_normalizer_does_not_update():
    t = Normalized(FunctionTerm("x", lambda b: b.reward), statistic="reward", center=True)
    def mk(r):
        return TransitionBatch.from_arrays(np.zeros(len(r)), np.zeros(len(r)), np.zeros(len(r)), r)
    t(mk([1.0, 3.0]))
    before = (float(t.normalizer.rms.mean), float(t.normalizer.rms.var))
    t.frozen = True
    out = t(mk([100.0]))
    assert (float(t.normalizer.rms.mean), float(t.normalizer.rms.var)) == before
    np.testing.assert_allclose(out, (100.0 - 2.0) / np.sqrt(1.0 + 1e-8))


def test_state_dict_roundtrip():
    n = RewardNormalizer("return", gamma=0.5)
    n(np.array([1.0, 2.0]), np.array([False, True]), np.arange(2))
    m = RewardNormalizer("return", gamma=0.5)
    m.load_state_dict(n.state_dict())
    x = np.array([0.3, -0.2])
    np.testing.assert_allclose(n(x, None, np.arange(2)), m(x, None, np.arange(2)))


@given(st.lists(st.tuples(st.integers(0, 3), finite, st.booleans()), min_size=1, max_size=40), st.floats(0.0, 1.0))
def test_return_statistic_with_repeated_env_indices_keeps_time_order(items, gamma):
    idx = np.array([i for i, _, _ in items])
    v = np.array([x for _, x, _ in items])
    d = np.array([b for _, _, b in items])
    norm = RewardNormalizer("return", gamma=gamma)
    norm(np.zeros(4), env_index=np.arange(4))  # start the accumulators at zero for 4 envs
    norm(v, done=d, env_index=idx)
    acc, want = np.zeros(4), []
    for i, x, b in items:  # reference: item by item, in the given order
        acc[i] = acc[i] * gamma + x
        want.append(acc[i])
        if b:
            acc[i] = 0.0
    np.testing.assert_allclose(norm.running_returns, acc, atol=1e-9)
    ref = np.concatenate([np.zeros(4), want])
    np.testing.assert_allclose(norm.rms.var, ref.var(), rtol=1e-6, atol=1e-9)


def test_update_from_moments_is_pure_and_matches_concatenation():
    from rewardkit.core import update_from_moments

    a, b = np.array([1.0, 5.0, 2.0]), np.array([7.0, -1.0])
    mean, var = np.array(a.mean()), np.array(a.var())
    m, v, n = update_from_moments(mean, var, 3.0, b.mean(), b.var(), 2.0)
    both = np.concatenate([a, b])
    assert (float(m), n) == (both.mean(), 5.0) and abs(float(v) - both.var()) < 1e-12
    assert float(mean) == a.mean()  # inputs untouched
    assert update_from_moments(mean, var, 3.0, 0.0, 0.0, 0.0) == (mean, var, 3.0)
