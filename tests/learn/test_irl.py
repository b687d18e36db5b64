"""Tabular MCE IRL recovers a reward whose optimal policy matches the expert's."""

import numpy as np
import pytest

from rewardkit.core.errors import ConfigError
from rewardkit.learn import empirical_occupancy, mce_irl, soft_value_iteration
from rewardkit.tabular import TabularMDP


def _normalised_return(mdp, pi):
    uniform = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    _, _, pi_star = mdp.value_iteration()
    j_rand, j_star = mdp.expected_return(uniform), mdp.expected_return(pi_star)
    return (mdp.expected_return(pi) - j_rand) / (j_star - j_rand)


@pytest.mark.parametrize("seed", [0, 1])
def test_mce_irl_recovers_expert_actions_and_return(seed):
    mdp = TabularMDP.random(16, 4, gamma=0.9, seed=seed, state_reward=True, branching=3)
    _, _, pi_E = mdp.value_iteration()
    res = mce_irl(mdp, np.eye(16), mdp.occupancy(pi_E), iters=200, lr=0.3)
    _, _, pi_L = mdp.value_iteration(R=res.reward)
    assert _normalised_return(mdp, pi_L) > 0.99
    visited = mdp.state_occupancy(pi_E) > 0.05
    V, Q, _ = mdp.value_iteration()
    gap = V - Q[np.arange(16), pi_L.argmax(axis=1)]   # true suboptimality of the learned greedy action
    assert (gap[visited] < 1e-8).mean() >= 0.9        # the expert's optimal action set is recovered ...
    assert gap[visited].max() < 0.1 * np.ptp(V)       # ... and any miss is a near-tie
    # the feature-matching gradient shrinks as the soft policy approaches the expert
    assert res.grad_norms[-1] < 0.25 * res.grad_norms[0]
    # an unlearned (zero) reward does not do this well
    assert _normalised_return(mdp, mce_irl(mdp, np.eye(16), mdp.occupancy(pi_E), iters=0).policy) < 0.9


def test_mce_irl_from_sampled_demonstrations():
    mdp = TabularMDP.random(12, 3, gamma=0.9, seed=4, state_reward=True, branching=3)
    _, _, pi_E = mdp.value_iteration()
    rng = np.random.default_rng(0)
    trajs = []
    for _ in range(30):
        s, traj = mdp.sample_initial(rng), []
        for _ in range(40):
            a = int(pi_E[s].argmax())
            traj.append((s, a))
            s = mdp.sample_next(s, a, rng)
        trajs.append(traj)
    d_hat = empirical_occupancy(mdp, trajs)
    res = mce_irl(mdp, np.eye(12), d_hat, iters=200, lr=0.1, l2=1e-3)
    _, _, pi_L = mdp.value_iteration(R=res.reward)
    assert _normalised_return(mdp, pi_L) > 0.95


def test_soft_value_iteration_satisfies_soft_bellman_and_approaches_hard_vi():
    mdp = TabularMDP.random(10, 3, gamma=0.8, seed=2, n_terminal=1)
    V, Q, pi = soft_value_iteration(mdp, mdp.R)
    live = ~mdp.terminal
    np.testing.assert_allclose(V[live], np.log(np.exp(Q[live]).sum(1)), atol=1e-8)
    np.testing.assert_allclose(pi.sum(1), 1.0)
    assert V[mdp.terminal].tolist() == [0.0]
    V_cold, _, _ = soft_value_iteration(mdp, mdp.R, temperature=1e-3)
    V_star, _, _ = mdp.value_iteration()
    np.testing.assert_allclose(V_cold, V_star, atol=0.02)


def test_irl_bad_input():
    mdp = TabularMDP.random(4, 2, gamma=0.9, seed=0)
    with pytest.raises(ConfigError, match="features"):
        mce_irl(mdp, np.eye(3), np.zeros((4, 2)))
    with pytest.raises(ConfigError, match="expert_occupancy"):
        mce_irl(mdp, np.eye(4), np.zeros((4, 3)))
    with pytest.raises(ConfigError, match=r"trajectories\[0\]\[1\]"):
        empirical_occupancy(mdp, [[(0, 1), (9, 0)]])
