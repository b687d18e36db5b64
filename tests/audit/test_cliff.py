"""Policy Cliff (#8): at tied actions an epsilon reward change flips the argmax policy; the soft policy moves O(eps/tau)."""

import numpy as np
import pytest

from rewardkit.audit.cliff import policy_cliff, soft_policy_bound, tied_actions
from rewardkit.core.errors import ConfigError
from rewardkit.tabular import TabularMDP, soft_value_iteration


def _fork(tie: bool = True) -> TabularMDP:
    """State 0 chooses between two corridors (1 and 2) that each reach the goal 3; rewards equal if ``tie``."""
    S, A = 4, 2
    T = np.zeros((S, A, S))
    T[0, 0, 1] = T[0, 1, 2] = 1.0
    T[1, :, 3] = T[2, :, 3] = T[3, :, 3] = 1.0
    R = np.zeros((S, A))
    R[1, 0] = 1.0                  # in each corridor, action 0 is strictly better than action 1
    R[2, 0] = 1.0 if tie else 0.5
    return TabularMDP(T, R, 0.9, [1, 0, 0, 0], terminal=[False, False, False, True])


def test_tied_fork_is_a_cliff_and_soft_policy_stays_within_bound():
    rep = policy_cliff(_fork(), epsilon=1e-6, temperature=0.1)
    assert rep.degenerate[0]
    assert rep.argmax_tv == 1.0            # the whole action flips for a 1e-6 change
    assert 0 < rep.soft_tv <= rep.soft_bound < 2e-4
    assert rep.cliff


def test_unique_optimum_has_no_cliff():
    rep = policy_cliff(_fork(tie=False), epsilon=1e-6, temperature=0.1)
    assert not rep.degenerate[0]
    assert rep.argmax_tv == 0.0
    assert not rep.cliff


@pytest.mark.parametrize("seed", range(6))
def test_soft_change_is_linear_in_epsilon_and_bounded_on_random_mdps(seed):
    mdp = TabularMDP.random(6, 3, gamma=0.8, seed=seed)
    small = policy_cliff(mdp, epsilon=1e-5, temperature=0.2, seed=seed)
    big = policy_cliff(mdp, epsilon=1e-3, temperature=0.2, seed=seed)
    for rep in (small, big):
        assert rep.soft_tv <= rep.soft_bound + 1e-12
    assert big.soft_tv == pytest.approx(100 * small.soft_tv, rel=0.05)   # O(eps): 100x eps -> ~100x change


def test_higher_temperature_changes_less():
    mdp = _fork()
    cold, warm = policy_cliff(mdp, epsilon=1e-4, temperature=0.05), policy_cliff(mdp, epsilon=1e-4, temperature=0.5)
    assert warm.soft_tv < cold.soft_tv


def test_soft_policy_approaches_uniform_over_ties():
    _, _, pi = soft_value_iteration(_fork(), _fork().R, temperature=0.05)
    assert pi[0] == pytest.approx([0.5, 0.5])
    assert tied_actions(np.array([[0.0, 1e-12]])).all()


def test_bad_arguments():
    with pytest.raises(ConfigError, match="epsilon"):
        policy_cliff(_fork(), epsilon=0.0)
    with pytest.raises(ConfigError, match="temperature"):
        soft_policy_bound(0.1, 0.9, 0.0)


def test_starc_closed_form_equals_the_iterative_reference_method():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "audit"))
    from starc_epic_speed import val_canonical_iterative

    from rewardkit.audit.distances import val_canonical

    rng = np.random.default_rng(0)
    T = rng.dirichlet(np.ones(6), size=(6, 3))
    R = rng.normal(size=(6, 3, 6))
    assert np.max(np.abs(val_canonical(R, T, 0.95) - val_canonical_iterative(R, T, 0.95))) < 1e-8
