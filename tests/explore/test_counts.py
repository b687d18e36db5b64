"""Tests of the exact tabular count bonuses (rewardkit.explore.counts)."""

import gymnasium as gym
import minigrid  # noqa: F401  (registers the MiniGrid envs)
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minigrid.wrappers import FullyObsWrapper

from rewardkit.core import BatchError, ConfigError, TransitionBatch, build_reward
from rewardkit.explore import BonusTerm, CountBonus
from rewardkit.explore.counts import (minigrid_agent_state, minigrid_position,
                                      minigrid_position_carrying, minigrid_position_direction, obs_hash)

F = np.array([False])


def step(cb, key, env=0, done=False):
    return float(cb.observe(np.array([[-1]]), np.array([0]), np.array([[key]]), np.array([done]), F,
                            env_index=np.array([env]))[0])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=60))
def test_global_count_is_exactly_one_over_sqrt_n(keys):
    cb = CountBonus(mode="global", key_fn="explicit")
    seen: dict[int, int] = {}
    for k in keys:
        seen[k] = seen.get(k, 0) + 1
        assert step(cb, k) == 1.0 / np.sqrt(seen[k])
    assert cb.num_unique == len(seen)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.booleans()), min_size=1, max_size=60))
def test_episodic_count_resets_on_done(seq):
    cb = CountBonus(mode="episodic", key_fn="explicit")
    ep: dict[int, int] = {-1: 1}  # the initial observation [-1] is registered without a bonus
    for k, done in seq:
        ep[k] = ep.get(k, 0) + 1
        assert step(cb, k, done=done) == pytest.approx(1.0 / np.sqrt(ep[k]), abs=0)
        if done:
            ep = {-1: 1}


def test_first_visit_and_product():
    fv = CountBonus(mode="first_visit", key_fn="explicit")
    assert [step(fv, k) for k in (1, 2, 1, -1, 3)] == [1.0, 1.0, 0.0, 0.0, 1.0]
    pr = CountBonus(mode="product", key_fn="explicit")
    out = [step(pr, k) for k in (1, 1)]
    pr.reset()
    out += [step(pr, k) for k in (1, 1, 2)]
    np.testing.assert_allclose(out, [1.0, 0.0, 1 / np.sqrt(3), 0.0, 1.0])


def test_episodic_state_is_per_env_and_reset_only_where_done():
    cb = CountBonus(mode="first_visit", key_fn="explicit")
    obs = np.array([[0], [0]])
    a = np.zeros(2)
    nxt = np.array([[5], [5]])
    assert cb.observe(obs, a, nxt, [False, False], [False, False]).tolist() == [1.0, 1.0]
    # env 0 terminates (bonus computed first), env 1 goes on
    assert cb.observe(obs, a, nxt, [True, False], [False, False]).tolist() == [0.0, 0.0]
    assert cb.observe(obs, a, nxt, [False, False], [False, False]).tolist() == [1.0, 0.0]
    # truncation resets too
    cb.observe(obs, a, nxt, [False, False], [False, True])
    assert cb.observe(obs, a, nxt, [False, False], [False, False]).tolist() == [0.0, 1.0]
    # a subset of rows via env_index
    assert cb.observe(obs[:1], a[:1], np.array([[9]]), [False], [False], env_index=[1]).tolist() == [1.0]


def test_explicit_keys_override_key_fn():
    cb = CountBonus(mode="global")
    o = np.zeros((2, 3))
    assert cb.observe(o, [0, 0], o, [0, 0], [0, 0], keys=["a", "a"]).tolist() == [1.0, 1 / np.sqrt(2)]
    with pytest.raises(BatchError, match="keys"):
        cb.observe(o, [0, 0], o, [0, 0], [0, 0], keys=["a"])


def test_state_dict_round_trip_is_exact():
    rng = np.random.default_rng(0)
    a = CountBonus(mode="product", key_fn="explicit")
    for _ in range(50):
        a.observe(rng.integers(0, 5, (3, 1)), np.zeros(3), rng.integers(0, 5, (3, 1)),
                  rng.random(3) < 0.1, np.zeros(3, bool))
    state = a.state_dict()
    b = CountBonus(mode="product", key_fn="explicit")
    b.load_state_dict(state)
    for _ in range(20):
        o, n = rng.integers(0, 5, (3, 1)), rng.integers(0, 5, (3, 1))
        d = rng.random(3) < 0.2
        assert a.observe(o, np.zeros(3), n, d, d * 0).tolist() == b.observe(o, np.zeros(3), n, d, d * 0).tolist()
    # the saved state is a copy: later updates of `a` do not leak into it
    c = CountBonus(mode="product", key_fn="explicit")
    c.load_state_dict(state)
    assert c.global_counts != a.global_counts


def test_obs_hash_distinguishes_and_is_stable():
    x = np.arange(24, dtype=np.float32).reshape(2, 12)
    h1, h2 = obs_hash(x), obs_hash(x.copy())
    assert h1.tolist() == h2.tolist() and h1[0] != h1[1]
    y = x.copy()
    y[1, 5] += 1
    assert obs_hash(y)[1] != h1[1]


def test_minigrid_keys_match_the_privileged_state():
    env = FullyObsWrapper(gym.make("MiniGrid-DoorKey-5x5-v0"))
    obs, _ = env.reset(seed=3)
    rng = np.random.default_rng(0)
    picked = False
    keys_before = minigrid_position_carrying(obs["image"][None])
    for _ in range(200):
        st_ = minigrid_agent_state(obs["image"][None])[0]
        u = env.unwrapped
        assert st_.tolist() == [int(u.agent_pos[0]), int(u.agent_pos[1]), int(u.agent_dir)]
        if u.carrying is not None and not picked:
            picked = True
            pos_now = minigrid_position(obs["image"][None])
            assert pos_now.shape == (1,)
            # the key object left the grid, so the carrying key differs from the start's
            assert minigrid_position_carrying(obs["image"][None])[0] != keys_before[0]
        obs, _r, term, trunc, _ = env.step(int(rng.integers(0, 6)))
        if term or trunc:
            obs, _ = env.reset()
    k_dir = minigrid_position_direction(obs["image"][None])
    assert k_dir.shape == (1,)
    with pytest.raises(BatchError, match="FullyObsWrapper"):
        minigrid_position(np.zeros((1, 7, 7, 3), dtype=np.uint8))


def test_minigrid_carrying_key_changes_when_the_key_is_picked_up():
    env = FullyObsWrapper(gym.make("MiniGrid-DoorKey-5x5-v0"))
    obs, _ = env.reset(seed=0)
    u = env.unwrapped
    before = minigrid_position_carrying(obs["image"][None])[0]
    pos_before = minigrid_position(obs["image"][None])[0]
    # place the key into the agent's hands without moving it (as picking it up does)
    kx, ky = next((x, y) for x in range(u.width) for y in range(u.height)
                  if u.grid.get(x, y) is not None and u.grid.get(x, y).type == "key")
    u.carrying = u.grid.get(kx, ky)
    u.grid.set(kx, ky, None)
    after_img = env.observation(u.gen_obs())["image"][None]
    assert minigrid_position(after_img)[0] == pos_before
    assert minigrid_position_carrying(after_img)[0] != before


def test_bonus_term_and_registry():
    r = build_reward({"terms": [{"type": "count_bonus", "name": "cnt",
                                 "params": {"mode": "global", "key": "explicit", "coef": 0.1}}]})
    b = TransitionBatch.from_arrays(np.zeros((2, 1)), [0, 0], np.array([[3], [3]]), [0.0, 0.0])
    np.testing.assert_allclose(r(b), [0.1, 0.1 / np.sqrt(2)])
    with pytest.raises(ConfigError, match="mode"):
        build_reward({"terms": [{"type": "count_bonus", "params": {"mode": "lifelong"}}]})
    with pytest.raises(ConfigError, match="key"):
        build_reward({"terms": [{"type": "count_bonus", "params": {"key": "pos"}}]})
    # keys read from info
    term = BonusTerm(CountBonus(mode="global", info_key="cell"))
    b2 = TransitionBatch.from_arrays(np.zeros((2, 1)), [0, 0], np.zeros((2, 1)), [0.0, 0.0],
                                     info=[{"cell": (1, 2)}, {"cell": (1, 2)}])
    np.testing.assert_allclose(term(b2), [1.0, 1 / np.sqrt(2)])
    with pytest.raises(BatchError, match="cell"):
        term(TransitionBatch.from_arrays(np.zeros((1, 1)), [0], np.zeros((1, 1)), [0.0]))


@pytest.mark.parametrize("mode", ["episodic", "product"])
def test_time_flattened_batch_equals_step_by_step(mode):
    rng = np.random.default_rng(1)
    T, n = 12, 3
    keys = rng.integers(0, 4, (T + 1, n, 1))
    done = rng.random((T, n)) < 0.25
    a = CountBonus(mode=mode, key_fn="explicit")
    step = np.stack([a.observe(keys[t], np.zeros(n), keys[t + 1], done[t], np.zeros(n, bool)) for t in range(T)])
    b = CountBonus(mode=mode, key_fn="explicit")
    flat = TransitionBatch.from_arrays(keys[:-1].reshape(T * n, 1), np.zeros(T * n), keys[1:].reshape(T * n, 1),
                                       np.zeros(T * n), done.reshape(-1), None, env_index=np.tile(np.arange(n), T))
    np.testing.assert_array_equal(BonusTerm(b)(flat), step.reshape(-1))
    c = CountBonus(mode=mode, key_fn="explicit")  # explicit keys, also split per env
    got = c.observe(None, np.zeros(T * n), np.zeros((T * n, 1)), done.reshape(-1), np.zeros(T * n, bool),
                    env_index=np.tile(np.arange(n), T), keys=keys[1:].reshape(-1).tolist())
    ref = CountBonus(mode=mode, key_fn="explicit")
    exp = np.stack([ref.observe(None, np.zeros(n), np.zeros((n, 1)), done[t], np.zeros(n, bool),
                                keys=keys[t + 1].reshape(-1).tolist()) for t in range(T)])
    np.testing.assert_array_equal(got, exp.reshape(-1))


def test_sum_and_product_forward_explicit_keys_to_count_members():
    """combine.Sum / Product pass info-read count keys to the members that take them."""
    from rewardkit.explore.combine import Product, Sum
    keys = [[(1, 1), (2, 2)], [(1, 1), (3, 3)], [(1, 1), (2, 2)]]
    f = np.zeros(2, bool)
    obs = np.zeros((2, 1))
    s = Sum([CountBonus("global"), CountBonus("first_visit")])
    p = Product([CountBonus("global"), CountBonus("first_visit")])
    g, fv = CountBonus("global"), CountBonus("first_visit")
    for k in keys:
        want_g = g.observe(obs, [0, 0], obs, f, f, keys=k)
        want_f = fv.observe(obs, [0, 0], obs, f, f, keys=k)
        np.testing.assert_array_equal(s.observe(obs, [0, 0], obs, f, f, keys=k), want_g + want_f)
        np.testing.assert_array_equal(p.observe(obs, [0, 0], obs, f, f, keys=k), want_g * want_f)
    assert s.members["count_global"].count((1, 1)) == 3     # counted the keys, not the (all-zero) observations


def test_key_info_needs_a_bonus_that_counts_keys():
    from rewardkit.core import ConfigError
    from rewardkit.explore.combine import Sum
    from rewardkit.explore.rnd import RND
    from rewardkit.explore.sb3 import IntrinsicRewardCallback
    rnd = RND(obs_shape=(3,), seed=0)
    with pytest.raises(ConfigError, match=r"^key_info: .*RND does not count keys"):
        IntrinsicRewardCallback(rnd, key_info="agent_pos")
    assert Sum([CountBonus("global"), rnd]).takes_keys and not Sum([rnd]).takes_keys
    assert IntrinsicRewardCallback(Sum([CountBonus("global"), rnd]), key_info="agent_pos").key_info == "agent_pos"
