"""Submodular marginal-gain rewards: telescoping, diminishing returns, per-env reset, real env."""

import itertools

import gymnasium as gym
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from rewardkit.core import TransitionBatch
from rewardkit.integrations.gymnasium import RewardWrapper
from rewardkit.spec.submodular import Coverage, MarginalGain, WeightedCoverage

cells = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=12)


@given(cells, cells, st.tuples(st.integers(0, 5), st.integers(0, 5)))
def test_coverage_has_diminishing_returns(a, extra, x):
    for f in (Coverage.grid(1), WeightedCoverage({(i, j): i + j for i in range(6) for j in range(6)})):
        small, big = f.empty(), f.empty()
        for c in a:
            f.gain(small, c)
            f.gain(big, c)
        for c in extra:
            f.gain(big, c)
        assert f.gain(small, x) >= f.gain(big, x)


@given(st.lists(st.integers(0, 20), min_size=1, max_size=40))
def test_marginal_gains_telescope_to_f_of_the_visited_set(traj):
    f = Coverage.grid(1)
    def key(o):
        return (int(o) % 5, int(o) // 5)
    mg = MarginalGain(f, key_fn=key)
    total = 0.0
    for s, s2 in itertools.pairwise(traj):
        total += float(mg(TransitionBatch.from_arrays(np.array([s]), np.zeros(1), np.array([s2]), [0.0]))[0])
    if len(traj) > 1:
        assert total == f.value(key(s) for s in traj)


def test_reset_is_per_env():
    mg = MarginalGain()
    b = TransitionBatch.from_arrays(np.array([0, 0]), np.zeros(2), np.array([1, 1]), [0, 0], env_index=[0, 1])
    assert mg(b).tolist() == [2.0, 2.0]
    assert mg(b).tolist() == [0.0, 0.0]
    mg.reset(np.array([True, False]))
    assert mg(b).tolist() == [2.0, 0.0]


def test_episode_return_is_the_number_of_unique_states_on_a_real_env():
    env = RewardWrapper(gym.make("FrozenLake-v1", is_slippery=False, map_name="8x8"), MarginalGain(name="cover"))
    obs, _ = env.reset(seed=0)
    seen, rng = {obs}, np.random.default_rng(0)
    while True:
        obs, _r, term, trunc, info = env.step(int(rng.integers(4)))
        seen.add(obs)
        if term or trunc:
            break
    assert info["rk/return/cover"] == len(seen)
