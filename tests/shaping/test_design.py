"""Invariance certificate, informativeness metrics and the EXPRD LP (anchors from notes §14.2)."""

from __future__ import annotations

import doctest
import itertools
import importlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rewardkit.shaping import (DesignInfeasible, ExprdProblem, PolicyInvarianceError, assert_policy_invariant, exprd_design,
                               informativeness_h, informativeness_l, invariance_slack, pbrs_reward)
from rewardkit.tabular import TabularMDP, chain_with_distractor, four_rooms

# I_H of EXPRD's greedy design for B = 0..5 on the 7x7 four-room grid (reference code, cvxpy+ECOS; notes §14.2)
ANCHOR_IH = [-0.15573, -0.09970, -0.09245, -0.08418, -0.07756, -0.07094]
ANCHOR_PICKS = [48, 0, 15, 9, 19, 37]


def _mdp_with_ties(seed: int, S: int = 6, A: int = 3) -> TabularMDP:
    """A random MDP whose last action duplicates action 0, so co-optimal ties exist."""
    base = TabularMDP.random(S, A - 1, gamma=0.9, seed=seed, n_terminal=1, branching=3)
    T = np.concatenate([base.T, base.T[:, :1]], axis=1)
    R = np.concatenate([base.R, base.R[:, :1]], axis=1)
    return TabularMDP(T, R, base.gamma, base.mu0, base.terminal)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 5000), noise=st.sampled_from([0.0, 0.05, 0.5, 3.0]))
def test_exact_certificate_agrees_with_enumerating_every_co_optimal_combination(seed, noise):
    mdp = _mdp_with_ties(seed)
    rng = np.random.default_rng(seed)
    phi = rng.normal(size=mdp.n_states)
    R = pbrs_reward(mdp, phi) + noise * rng.normal(size=mdp.R.shape)
    exact = invariance_slack(R, mdp, margin=0.0, method="exact")
    brute = invariance_slack(R, mdp, margin=0.0, method="enumerate")
    assert (exact.slack >= -1e-7) == (brute.slack >= -1e-7)
    if brute.slack >= -1e-7:
        assert exact.slack == pytest.approx(brute.slack, abs=1e-7)
    if noise == 0.0:   # pure potential shaping keeps every combination optimal
        assert brute.slack >= -1e-7


def test_certificate_names_the_failing_state_and_checks_the_margin():
    mdp, layout = four_rooms()
    R = mdp.R.copy()
    R[layout.start, 2] = 0.3          # small bribe for 'down' at the start: not globally better, but
    with pytest.raises(PolicyInvarianceError, match=f"state {layout.start}") as e:
        assert_policy_invariant(R, mdp, margin="gap")   # ... it eats the original action gap
    assert e.value.report.state == layout.start and e.value.report.kind == "margin"
    assert assert_policy_invariant(R, mdp, margin=0.0) >= -1e-9   # still optimal without a margin
    # an explicit deterministic target policy (S,) is accepted
    _, _, pi = mdp.value_iteration()
    assert assert_policy_invariant(mdp.R, mdp, target_policy=pi.argmax(1), margin=0.0) >= -1e-9


def test_informativeness_h_anchors_and_pbrs_maximum():
    mdp, _ = four_rooms()
    assert informativeness_h(mdp.R, mdp) == pytest.approx(ANCHOR_IH[0], abs=1e-4)
    V, _, _ = mdp.value_iteration()
    assert informativeness_h(pbrs_reward(mdp, V), mdp) == pytest.approx(0.0, abs=1e-9)
    # a potential that is not V* is invariant but less informative than V*
    assert informativeness_h(pbrs_reward(mdp, 0.5 * V), mdp) < -1e-3


def test_informativeness_l_is_linear_and_prefers_the_optimal_advantage():
    mdp, _ = four_rooms()
    rng = np.random.default_rng(0)
    learner = rng.dirichlet(np.ones(4), size=mdp.n_states)
    R1, R2 = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    lhs = informativeness_l(2 * R1 + R2, mdp, learner)
    assert lhs == pytest.approx(2 * informativeness_l(R1, mdp, learner) + informativeness_l(R2, mdp, learner))
    V, _, _ = mdp.value_iteration()
    assert informativeness_l(pbrs_reward(mdp, V), mdp, learner) > informativeness_l(mdp.R, mdp, learner)
    # a deterministic learner gets zero first-order signal from any reward
    assert informativeness_l(R1, mdp, learner.argmax(1)) == pytest.approx(0.0, abs=1e-12)


@pytest.fixture(scope="module")
def greedy5():
    mdp, layout = four_rooms()
    prob = ExprdProblem(mdp)
    return mdp, layout, prob, prob.greedy(5)


def test_exprd_greedy_picks_goal_trap_and_doorways(greedy5):
    _mdp, layout, _prob, g = greedy5
    assert g.support == ANCHOR_PICKS
    assert set(g.support[2:]) == set(layout.doorway_states)
    assert g.support[1] in layout.trap_states
    assert g.n_lps == 48 + 47 + 46 + 45 + 44 + 1


def test_exprd_informativeness_matches_reference_anchors(greedy5):
    mdp, _, prob, g = greedy5
    got = [d.informativeness for d in g.designs]
    assert np.allclose(got, ANCHOR_IH, atol=1e-4), got
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(got))        # greedy never loses informativeness
    for d in g.designs:
        assert d.objective == pytest.approx(-d.informativeness, abs=1e-7)
        # EXPRD guarantees its single target policy (with the original gap), not every co-optimal combination
        assert assert_policy_invariant(d.reward, mdp, margin="gap", tol=1e-5, all_combinations=False) >= -1e-5
    with pytest.raises(PolicyInvarianceError, match="state 0"):       # the trap's co-optimal 'up' loses
        assert_policy_invariant(g.designs[1].reward, mdp, margin=0.0, all_combinations=True)
        assert np.abs(d.reward).max() <= 10.0 + 1e-7
        assert set(np.flatnonzero(np.abs(d.reward).sum(1))) <= set(d.support)
    # the cached-operator I_H equals the from-scratch metric
    last = g.designs[-1]
    assert informativeness_h(last.reward, mdp, delta=prob.delta) == pytest.approx(last.informativeness, abs=1e-9)
    # the design's optimal policy is the original one
    assert np.array_equal(mdp.with_reward(g.designs[-1].reward).value_iteration()[2].argmax(1)[:49],
                          mdp.value_iteration()[2].argmax(1)[:49])


def test_exprd_lazy_greedy_reaches_the_same_support_with_fewer_lps(greedy5):
    _mdp, _, prob, g = greedy5
    lazy = prob.greedy(5, lazy=True)
    assert set(lazy.support) == set(g.support)
    assert lazy.n_lps < g.n_lps / 2
    assert lazy.designs[-1].informativeness == pytest.approx(g.designs[-1].informativeness, abs=1e-6)


def test_exprd_options_state_only_l1_and_all_states():
    mdp, layout = four_rooms()
    Z = [48, *layout.doorway_states]
    free = exprd_design(mdp, Z)
    # a state-only reward cannot tell 'right' (paid) from 'up' (unpaid) at the goal: infeasible, clearly reported
    with pytest.raises(DesignInfeasible, match="support"):
        exprd_design(mdp, Z, state_only=True)
    chain, cl = chain_with_distractor(n1=4, n2=4, distractor=0.0)
    Zc = [cl.goal_state, 2, 6]
    free_c = exprd_design(chain, Zc)
    state_only = exprd_design(chain, Zc, state_only=True)
    assert np.allclose(state_only.reward, state_only.reward[:, :1])
    assert state_only.informativeness <= free_c.informativeness + 1e-9
    assert assert_policy_invariant(state_only.reward, chain, margin="gap", tol=1e-5) >= -1e-5
    sparse = exprd_design(mdp, Z, c2=1e-3)
    assert np.abs(sparse.reward).sum() < np.abs(free.reward).sum()
    # all-state design reaches (near) the PBRS maximum I_H = 0
    full = exprd_design(mdp, [s for s in range(49)])
    assert full.informativeness == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("mod", ["rewardkit.shaping.potential", "rewardkit.shaping.informativeness",
                                 "rewardkit.shaping.expadard", "rewardkit.shaping.invariance", "rewardkit.shaping.exprd"])
def test_doctests(mod):
    res = doctest.testmod(importlib.import_module(mod), optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted > 0


def test_expadard_design_is_invariant_and_maximises_learner_informativeness():
    from rewardkit.shaping.expadard import expadard_design, four_room_region_features
    mdp, layout = four_rooms()
    rng = np.random.default_rng(0)
    learner = rng.dirichlet(np.ones(4), size=mdp.n_states)
    res = expadard_design(mdp, learner)
    V, _, _ = mdp.value_iteration()
    for other in (mdp.R, pbrs_reward(mdp, V), exprd_design(mdp, [48, *layout.doorway_states]).reward):
        assert res.informativeness >= informativeness_l(other, mdp, learner) - 1e-9
    assert res.informativeness == pytest.approx(informativeness_l(res.reward, mdp, learner))
    assert assert_policy_invariant(res.reward, mdp, margin="gap", all_combinations=False, tol=1e-5) > -1e-5
    feat = expadard_design(mdp, learner, features=four_room_region_features(layout))
    assert feat.weights.shape == (40,) and np.abs(feat.reward).max() <= 10 + 1e-7
    assert feat.informativeness <= res.informativeness + 1e-9      # structure costs informativeness
    assert assert_policy_invariant(feat.reward, mdp, margin="gap", all_combinations=False, tol=1e-5) > -1e-5
    unconstrained = expadard_design(mdp, learner, invariance=False)
    assert unconstrained.informativeness >= res.informativeness - 1e-9


def test_adaptive_teacher_speeds_up_reinforce_over_original_reward():
    from rewardkit.shaping.expadard import AdaptiveTeacher, run_adaptive_teaching
    mdp, _ = four_rooms()
    for seed in range(2):
        orig = run_adaptive_teaching(mdp, 300, None, lr=0.1, seed=seed, eval_every=100)
        ada = run_adaptive_teaching(mdp, 300, AdaptiveTeacher(mdp, update_every=5), lr=0.1, seed=seed,
                                    eval_every=100)
        assert ada["teacher_updates"] == 300 // 5 + 1
        assert orig["expected_return"][-1] < 0.1 * orig["optimal_return"]
        assert ada["expected_return"][-1] > 0.5 * ada["optimal_return"]


def test_exprd_l1_refinement_keeps_the_optimum_and_shrinks_the_reward():
    mdp, _layout = four_rooms()
    Z = ANCHOR_PICKS
    vertex = ExprdProblem(mdp).solve(Z)
    l1 = ExprdProblem(mdp, refine="l1").solve(Z)
    assert l1.informativeness == pytest.approx(vertex.informativeness, abs=1e-6)
    assert np.abs(l1.reward).sum() < 0.5 * np.abs(vertex.reward).sum()
    assert assert_policy_invariant(l1.reward, mdp, margin="gap", all_combinations=False, tol=1e-5) >= -1e-5
    # with the goal only, the minimal-norm optimal design is the original reward itself
    assert np.allclose(ExprdProblem(mdp, refine="l1").solve([48]).reward, mdp.R, atol=1e-6)


def test_exprd_all_co_optimal_combinations_design_passes_the_all_combinations_certificate():
    mdp = _mdp_with_ties(7, S=5, A=3)
    mask = mdp.optimal_actions()
    assert (mask.sum(axis=1)[~mdp.terminal] > 1).any()            # there are co-optimal ties
    prob = ExprdProblem(mdp, H=(1, 2, 4), r_max=5.0, all_combinations=True)
    assert len(prob.policies) == int(np.prod(mask.sum(axis=1)))
    live = [s for s in range(mdp.n_states) if not mdp.terminal[s]]
    res = prob.solve(live)
    assert assert_policy_invariant(res.reward, mdp, margin="gap", all_combinations=True, tol=1e-5) >= -1e-5
    assert res.informativeness >= informativeness_h(mdp.R, mdp, H=(1, 2, 4), delta=prob.delta,
                                                    all_combinations=True) - 1e-9
