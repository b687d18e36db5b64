"""ORPO (#197): chi^2 occupancy regularisation against reward hacking of a correlated proxy, solved exactly."""

import sys
from pathlib import Path

import numpy as np
import pytest

from rewardkit.audit.orpo import (action_kl_policy, occupancy, occupancy_divergence, occupancy_regularised_policy)
from rewardkit.core.errors import ConfigError
from rewardkit.tabular import TabularMDP

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "audit"))
from orpo_tabular import run_seed

LAMS = tuple(np.geomspace(0.1, 300, 9))


@pytest.mark.parametrize("seed", range(3))
def test_chi2_occupancy_beats_action_kl_at_matched_proxy_gain(seed):
    r = run_seed(seed, LAMS)
    assert r.unregularised_true < r.base_true               # optimising the proxy hacks it
    assert r.best_true(r.chi2) >= r.best_true(r.action_kl) - 1e-9
    # some chi2 solution gains proxy return without losing true return
    assert any(p > r.base_proxy + 1e-6 and t >= r.base_true - 1e-2 for p, t in r.chi2)


@pytest.mark.parametrize("divergence", ["chi2", "kl", "tv"])
def test_the_solution_is_a_valid_policy_and_optimal_for_the_regularised_objective(divergence):
    mdp = TabularMDP.random(5, 2, gamma=0.8, seed=3)
    base = np.full((5, 2), 0.5)
    lam = 0.5
    pi = occupancy_regularised_policy(mdp, mdp.R, base, lam, divergence)
    assert np.allclose(pi.sum(axis=1), 1.0) and np.all(pi >= 0)
    db = occupancy(mdp, base)

    def objective(p):
        return mdp.expected_return(p, mdp.R) - lam * occupancy_divergence(occupancy(mdp, p), db, divergence)

    rng = np.random.default_rng(0)
    for _ in range(30):   # no random nearby policy does better
        q = np.clip(pi + rng.normal(scale=0.05, size=pi.shape), 1e-6, None)
        q /= q.sum(axis=1, keepdims=True)
        assert objective(pi) >= objective(q) - 1e-6


def test_divergences_and_bad_input():
    assert occupancy_divergence([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert occupancy_divergence([1.0, 0.0], [0.5, 0.5], "kl") == pytest.approx(np.log(2))
    mdp = TabularMDP.random(3, 2, gamma=0.8, seed=0)
    with pytest.raises(ConfigError, match="divergence"):
        occupancy_regularised_policy(mdp, mdp.R, np.full((3, 2), 0.5), 1.0, "hellinger")
    with pytest.raises(ConfigError, match="base_policy"):
        action_kl_policy(mdp, mdp.R, np.array([[1.0, 0.0]] * 3), 1.0)
