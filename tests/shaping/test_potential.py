"""PBRS: the term's arithmetic, terminal vs truncated handling, policy invariance (property test)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rewardkit.core import ComposedReward, TransitionBatch, build_reward
from rewardkit.core.errors import BatchError, ConfigError
from rewardkit.shaping import PotentialShaping, as_potential, pbrs_reward
from rewardkit.tabular import TabularEnv, TabularMDP, four_rooms


def _batch(obs, nxt, terminated=None, truncated=None):
    n = len(obs)
    return TransitionBatch.from_arrays(np.asarray(obs), np.zeros(n, dtype=int), np.asarray(nxt), np.zeros(n),
                                       terminated=terminated, truncated=truncated)


def test_terminated_zeroes_next_potential_but_truncated_keeps_it():
    term = PotentialShaping([1.0, 2.0, 4.0], gamma=0.5)
    b = _batch([0, 0, 0], [2, 2, 2], terminated=[False, True, False], truncated=[False, False, True])
    assert term(b).tolist() == [0.5 * 4 - 1, 0.0 - 1, 0.5 * 4 - 1]


def test_potential_forms_and_errors():
    obs = np.array([[0.0, 0.0], [3.0, 4.0]])
    nxt = np.array([[3.0, 4.0], [3.0, 4.0]])
    b = TransitionBatch.from_arrays(obs, np.zeros(2), nxt, np.zeros(2))
    by_name = PotentialShaping({"type": "negative_distance", "goal": [3.0, 4.0]}, gamma=1.0)
    by_fn = PotentialShaping(lambda o: -np.linalg.norm(np.asarray(o) - [3.0, 4.0], axis=1), gamma=1.0)
    assert by_name(b).tolist() == by_fn(b).tolist() == [5.0, 0.0]
    assert PotentialShaping("zero", gamma=0.9)(b).tolist() == [0.0, 0.0]
    with pytest.raises(ConfigError, match="gamma"):
        PotentialShaping([0.0], gamma=1.5)
    with pytest.raises(ConfigError, match="potential"):
        as_potential("no_such_potential")
    with pytest.raises(ConfigError, match="potential"):
        as_potential(3.0)
    with pytest.raises(BatchError, match="obs"):
        PotentialShaping([0.0, 1.0], gamma=0.9)(_batch([0], [5]))
    with pytest.raises(BatchError, match="potential"):
        PotentialShaping(lambda o: np.zeros(7), gamma=0.9)(_batch([0], [1]))


def test_registered_term_builds_from_config_and_composes():
    r = build_reward({"terms": [{"type": "env_reward"},
                                {"type": "potential_shaping", "name": "pbrs",
                                 "params": {"potential": [0.0, 1.0, 2.0], "gamma": 0.9}}]})
    assert isinstance(r, ComposedReward)
    out = r.evaluate(TransitionBatch.from_arrays(np.array([0, 1]), np.zeros(2), np.array([1, 2]), np.array([1.0, 0.0])))
    assert np.allclose(out.total, [1.0 + 0.9, 0.9 * 2 - 1])
    assert np.allclose(out.terms["pbrs"], [0.9, 0.8])


def _expected_shaped_reward(mdp: TabularMDP, term: PotentialShaping) -> np.ndarray:
    """E_{s'}[R(s,a) + F(s,a,s')] computed by calling the *term* on every (s, a, s')."""
    S, A = mdp.n_states, mdp.n_actions
    s, a, s2 = np.meshgrid(np.arange(S), np.arange(A), np.arange(S), indexing="ij")
    b = TransitionBatch.from_arrays(s.ravel(), a.ravel(), s2.ravel(), np.zeros(s.size),
                                    terminated=mdp.terminal[s2.ravel()])
    F = term(b).reshape(S, A, S)
    return mdp.R + (mdp.T * F).sum(axis=2)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_states=st.integers(3, 9), n_actions=st.integers(2, 4),
       n_terminal=st.integers(0, 2), gamma=st.sampled_from([0.5, 0.9, 0.99]),
       scale=st.floats(0.1, 20.0))
def test_pbrs_preserves_optimal_policy_set(seed, n_states, n_actions, n_terminal, gamma, scale):
    mdp = TabularMDP.random(n_states, n_actions, gamma=gamma, seed=seed, n_terminal=n_terminal, branching=3)
    phi = np.random.default_rng(seed + 1).uniform(-scale, scale, size=n_states)  # non-zero on terminals too
    shaped = mdp.with_reward(_expected_shaped_reward(mdp, PotentialShaping(phi, gamma=gamma)))
    assert np.array_equal(mdp.optimal_actions(tol=1e-7), shaped.optimal_actions(tol=1e-7))
    # Ng et al.: Q'* = Q* - Phi on live states
    _, Q, _ = mdp.value_iteration()
    _, Q2, _ = shaped.value_iteration()
    live = ~mdp.terminal
    assert np.allclose(Q2[live], (Q - phi[:, None])[live], atol=1e-6 * (1 + scale))
    # the term's expectation equals the closed form used by the design code
    assert np.allclose(shaped.R[live], pbrs_reward(mdp, phi)[live], atol=1e-9 * (1 + scale))


def _quit_or_walk_task():
    """start(0): 'quit' ends at once (reward 0); 'walk' reaches state 1, whose actions end with reward 1."""
    T = np.zeros((3, 2, 3))
    T[0, 0, 2] = 1.0          # quit -> terminal
    T[0, 1, 1] = 1.0          # walk -> state 1
    T[1, :, 2] = 1.0          # state 1 -> terminal
    T[2, :, 2] = 1.0
    R = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    return TabularMDP(T, R, 0.9, [1.0, 0.0, 0.0], terminal=[False, False, True])


def test_negative_control_nonzero_terminal_potential_flips_policy():
    mdp = _quit_or_walk_task()
    phi = np.array([0.0, 0.0, 20.0])               # a large potential on the absorbing state
    assert mdp.optimal_actions()[0].tolist() == [False, True]             # walk
    good = PotentialShaping(phi, gamma=0.9)
    bad = PotentialShaping(phi, gamma=0.9, zero_terminal=False)
    R_good = _expected_shaped_reward(mdp, good)
    R_bad = _expected_shaped_reward(mdp, bad)
    assert mdp.with_reward(R_good).optimal_actions()[0].tolist() == [False, True]
    # quit now earns 0.9*20 = 18 > walk's 0.9*(1 + 0.9*20) = 17.1: the policy flips
    assert mdp.with_reward(R_bad).optimal_actions()[0].tolist() == [True, False]


def test_truncated_episode_telescopes_to_final_potential():
    """Sum_t gamma^t F_t = gamma^T Phi(s_T) - Phi(s_0) when truncated, and -Phi(s_0) when terminated."""
    mdp, _ = four_rooms()
    phi = np.random.default_rng(0).normal(size=mdp.n_states)
    term = PotentialShaping(phi, gamma=mdp.gamma)
    rng = np.random.default_rng(1)
    seen = {"terminated": 0, "truncated": 0}
    for ep in range(40):
        env = TabularEnv(mdp, max_steps=15)
        s, _ = env.reset(seed=ep)
        s0, total, t = s, 0.0, 0
        while True:
            a = int(rng.integers(4)) if ep % 2 else 1
            s2, _, terminated, truncated, _ = env.step(a)
            f = term(TransitionBatch.from_arrays(np.array([s]), np.array([a]), np.array([s2]), np.zeros(1),
                                                 terminated=[terminated], truncated=[truncated]))[0]
            total += mdp.gamma ** t * f
            t += 1
            s = s2
            if terminated or truncated:
                break
        final = 0.0 if terminated else mdp.gamma ** t * phi[s]
        seen["terminated" if terminated else "truncated"] += 1
        assert total == pytest.approx(final - phi[s0], abs=1e-9)
    assert seen["terminated"] > 0 and seen["truncated"] > 0
