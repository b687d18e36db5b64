"""EPIC and STARC: invariances, what separates them, and their link to regret."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardkit.audit import epic_distance, add_potential_shaping, starc_distance, val_canonical
from rewardkit.tabular import TabularMDP

seeds = st.integers(0, 10_000)


def random_problem(seed, n_s=6, n_a=3):
    rng = np.random.default_rng(seed)
    T = rng.dirichlet(np.ones(n_s) * 0.5, size=(n_s, n_a))
    return rng, T, rng.normal(size=(n_s, n_a, n_s))


@settings(max_examples=40)
@given(seeds, st.floats(0.1, 10.0), st.floats(-5, 5), st.floats(0.0, 0.99))
def test_both_ignore_potential_shaping_and_positive_scaling(seed, scale, shift, gamma):
    rng, T, R = random_problem(seed)
    R2 = scale * add_potential_shaping(R, 5 * rng.normal(size=R.shape[0]), gamma)
    assert epic_distance(R, R2 + shift, gamma) < 1e-6
    assert starc_distance(R, R2, T, gamma) < 1e-6


@settings(max_examples=40)
@given(seeds)
def test_starc_ignores_s_prime_redistribution_epic_does_not(seed):
    rng, T, R = random_problem(seed)
    noise = rng.normal(size=R.shape)
    redistribution = noise - np.einsum("sax,sax->sa", T, noise)[:, :, None]  # zero mean under T(s, a, .)
    assert np.allclose(np.einsum("sax,sax->sa", T, redistribution), 0)
    assert starc_distance(R, R + redistribution, T, 0.9) < 1e-6
    assert epic_distance(R, R + redistribution, 0.9) > 0.05


def test_val_uses_the_exact_value_of_the_policy():
    _rng, T, R = random_problem(7)
    mdp = TabularMDP(T, np.einsum("sax,sax->sa", T, R), 0.9, np.full(6, 1 / 6))
    pi = np.full((6, 3), 1 / 3)
    v = mdp.policy_evaluation(pi)
    c = val_canonical(R, T, 0.9, pi)
    np.testing.assert_allclose(c, mdp.R - v[:, None] + 0.9 * (T @ v), atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(seeds)
def test_zero_starc_distance_means_the_same_optimal_policies(seed):
    rng, T, R = random_problem(seed)
    gamma = 0.9
    R2 = 3.0 * add_potential_shaping(R, rng.normal(size=6), gamma)
    mu = np.full(6, 1 / 6)
    def rr(X):
        return np.einsum("sax,sax->sa", T, X)
    a1 = TabularMDP(T, rr(R), gamma, mu).optimal_actions(1e-8)
    a2 = TabularMDP(T, rr(R2), gamma, mu).optimal_actions(1e-8)
    assert starc_distance(R, R2, T, gamma) < 1e-6
    assert (a1 == a2).all()


def test_shaping_fools_a_naive_distance_but_not_epic_or_starc():
    rng, T, R = random_problem(11)
    shaped = add_potential_shaping(R, 20 * rng.normal(size=6), 0.9)
    def z(X):
        return (X - X.mean()) / np.linalg.norm(X - X.mean())
    naive = np.linalg.norm(z(R) - z(shaped))
    assert naive > 0.5
    assert epic_distance(R, shaped, 0.9) < 1e-6 and starc_distance(R, shaped, T, 0.9) < 1e-6
    assert starc_distance(R, rng.normal(size=R.shape), T, 0.9) > 0.5
