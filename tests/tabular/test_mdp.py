"""Tests of the tabular substrate: planning identities, worlds, envs, Q-learning."""

from __future__ import annotations

import doctest
import importlib

import gymnasium as gym
import numpy as np
import pytest

from rewardkit.core.errors import ConfigError
from rewardkit.tabular import (QLearning, TabularEnv, TabularMDP, chain_with_distractor, episodes_to_fraction,
                               four_rooms, run_q_learning)


@pytest.mark.parametrize("seed", range(5))
def test_value_iteration_matches_policy_evaluation(seed):
    mdp = TabularMDP.random(12, 3, gamma=0.9, seed=seed, n_terminal=2, branching=4)
    V, Q, pi = mdp.value_iteration()
    assert np.allclose(mdp.policy_evaluation(pi), V, atol=1e-9)
    assert np.allclose(mdp.q_values(V), Q, atol=1e-9)
    # Bellman optimality: V = max_a Q, and no deterministic policy does better anywhere
    assert np.allclose(V, Q.max(axis=1), atol=1e-9)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        other = rng.integers(mdp.n_actions, size=mdp.n_states)
        assert np.all(mdp.policy_evaluation(other) <= V + 1e-9)
    assert np.all(V[mdp.terminal] == 0)


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.99])
def test_occupancy_sums_to_horizon(gamma):
    mdp = TabularMDP.random(10, 4, gamma=gamma, seed=3, n_terminal=1)
    pi = np.random.default_rng(0).dirichlet(np.ones(4), size=10)
    d = mdp.occupancy(pi)
    assert d.shape == (10, 4)
    assert d.sum() == pytest.approx(1.0 / (1.0 - gamma), rel=1e-9)
    # the occupancy measure integrates the reward: J = <d, R> (terminal rows carry 0 reward)
    assert (d * mdp.reward).sum() == pytest.approx(mdp.expected_return(pi), rel=1e-9)


def test_advantage_of_optimal_policy_is_nonpositive():
    mdp = TabularMDP.random(8, 3, seed=4)
    _, _, pi = mdp.value_iteration()
    adv = mdp.advantage(pi)
    assert adv.max() <= 1e-9
    assert np.allclose(adv[np.arange(8), pi.argmax(1)], 0.0, atol=1e-9)


def test_policy_formats_and_errors():
    mdp = TabularMDP.random(4, 2, seed=0)
    assert np.allclose(mdp.policy_evaluation([0, 1, 0, 1]), mdp.policy_evaluation(np.eye(2)[[0, 1, 0, 1]]))
    with pytest.raises(ConfigError, match="pi"):
        mdp.policy_evaluation([0, 1])
    with pytest.raises(ConfigError, match="T"):
        TabularMDP(np.ones((2, 2, 2)), np.zeros((2, 2)), 0.9, [1, 0])
    with pytest.raises(ConfigError, match="gamma"):
        TabularMDP(np.full((2, 1, 2), 0.5), np.zeros(2), 1.5, [1, 0])
    # a state reward (S,) is broadcast
    m2 = mdp.with_reward(np.arange(4.0))
    assert m2.R.shape == (4, 2) and np.all(m2.R[:, 0] == m2.R[:, 1])


def test_optimal_actions_mask_finds_ties():
    # two identical actions -> both optimal
    T = np.zeros((2, 2, 2))
    T[:, :, 1] = 1
    mdp = TabularMDP(T, np.array([[1.0, 1.0], [0.0, 0.0]]), 0.9, [1, 0], terminal=[False, True])
    assert mdp.optimal_actions()[0].tolist() == [True, True]


def test_four_rooms_layout_and_value():
    mdp, layout = four_rooms()
    assert mdp.n_states == 50 and layout.start == 8 and layout.goal_states == [48]
    assert sorted(layout.doorway_states) == [9, 15, 19, 37]
    V, _, _ = mdp.value_iteration()
    assert V[8] == pytest.approx(5.902, abs=1e-3)  # anchor, notes §14.2
    # walls: no direct move through the wall between (2,0) and (3,0)
    assert mdp.T[2, 3, 3] == 0.0
    # trap: left at (0,0) ends the episode with probability 0.9
    assert mdp.T[0, 1, 49] == pytest.approx(0.9)


def test_chain_distractor_optimal_ignores_distractor():
    mdp, layout = chain_with_distractor()
    assert mdp.R[25, 0] == 0.01 and mdp.R[60, 1] == 1.0
    _, _, pi = mdp.value_iteration()
    assert pi[layout.start].argmax() == 1
    assert np.allclose(mdp.T.sum(axis=2), 1.0)
    assert mdp.T[40, 1, 41] == pytest.approx(0.975)


def test_gymnasium_registration_and_tabular_env():
    env = gym.make("rewardkit/ChainDistractor-v0")
    obs, _ = env.reset(seed=0)
    assert obs == 40
    steps, truncated = 0, False
    while not truncated:
        obs, _r, terminated, truncated, _info = env.step(1)
        steps += 1
        assert not terminated
    assert steps == 40
    env = TabularEnv(four_rooms().mdp, max_steps=200)
    env.reset(seed=0)
    env.state = 0
    terminated = False
    for _ in range(100):
        _, _, terminated, truncated, _ = env.step(1)  # left at the trap
        if terminated:
            break
    assert terminated and not truncated


def test_q_learning_converges_on_tiny_mdp():
    # 3-state corridor: right twice reaches the goal (reward 1, terminal)
    T = np.zeros((4, 2, 4))
    for s in range(3):
        T[s, 0, max(s - 1, 0)] = 1.0
        T[s, 1, s + 1] = 1.0
    T[3, :, 3] = 1.0
    R = np.zeros((4, 2))
    R[2, 1] = 1.0
    mdp = TabularMDP(T, R, 0.9, [1, 0, 0, 0], terminal=[False, False, False, True])
    out = run_q_learning(mdp, 300, alpha=0.5, epsilon=0.2, tie_break="random", seed=0, max_steps=20)
    assert out["expected_return"][-1] == pytest.approx(out["optimal_return"])
    assert out["expected_return"][0] < out["optimal_return"]
    assert np.allclose(out["agent"].Q[:3].max(1), [0.81, 0.9, 1.0], atol=0.05)


def test_tie_break_first_is_deterministic_and_differs_from_random():
    a = QLearning(3, 4, 0.5, 0.9, 0.0, tie_break="first", seed=0)
    assert [a.act(0) for _ in range(10)] == [0] * 10
    b = QLearning(3, 4, 0.5, 0.9, 0.0, tie_break="random", seed=0)
    assert len({b.act(0) for _ in range(50)}) == 4
    mdp, _ = four_rooms()
    r1 = run_q_learning(mdp, 64, tie_break="first", seed=3, eval_every=16)
    r2 = run_q_learning(mdp, 64, tie_break="first", seed=3, eval_every=16)
    assert np.array_equal(r1["expected_return"], r2["expected_return"])
    assert np.array_equal(r1["agent"].Q, r2["agent"].Q)
    with pytest.raises(ConfigError, match="tie_break"):
        run_q_learning(mdp, 1, tie_break="uniform")
    with pytest.raises(TypeError):
        run_q_learning(mdp, 1)  # tie_break has no default


def test_q_learning_learns_faster_with_optimal_potential_shaping():
    mdp, _ = four_rooms()
    V, _, _ = mdp.value_iteration()
    R_pbrs = mdp.R + mdp.gamma * mdp.transitions @ V - V[:, None]
    plain = run_q_learning(mdp, 256, tie_break="first", seed=0, eval_every=16)
    shaped = run_q_learning(mdp, 256, R_pbrs, tie_break="first", seed=0, eval_every=16)
    assert episodes_to_fraction(shaped) is not None and episodes_to_fraction(shaped) <= 64
    assert episodes_to_fraction(plain) is None
    # callable reward gives the same run as the equivalent table
    shaped2 = run_q_learning(mdp, 256, lambda s, a, s2: R_pbrs[s, a], tie_break="first", seed=0, eval_every=16)
    assert np.allclose(shaped["expected_return"], shaped2["expected_return"])


@pytest.mark.parametrize("mod", ["rewardkit.tabular.mdp", "rewardkit.tabular.worlds", "rewardkit.tabular.envs",
                                 "rewardkit.tabular.qlearning"])
def test_doctests(mod):
    res = doctest.testmod(importlib.import_module(mod), optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted > 0


def test_run_q_learning_accepts_a_registered_gymnasium_env():
    env = gym.make("rewardkit/FourRooms-v0")
    out = run_q_learning(env, 4, tie_break="first", seed=0, eval_every=2)
    assert out["steps"].max() <= 50 and len(out["episode_return"]) == 4
