"""Reward machines: safe parser, dynamics, product wrapper, RM shaping invariance, CRM learning."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewardkit.core import ConfigError, TransitionBatch
from rewardkit.spec.dnf import parse_dnf
from rewardkit.spec.office import OFFICE_T3, OfficeWorld, office_tables
from rewardkit.spec.reward_machine import RewardMachine, RewardMachineWrapper, RMShaping
from rewardkit.spec.rm_learning import rm_q_learning
from rewardkit.spec.rm_optimal import product_value_iteration

PROPS = ["a", "b", "c", "d"]
literal = st.tuples(st.booleans(), st.sampled_from(PROPS))
clause = st.lists(literal, min_size=1, max_size=3)
formula = st.lists(clause, min_size=1, max_size=3)


def render(f):
    return " | ".join("&".join(("!" if neg else "") + p for neg, p in c) for c in f)


def brute(f, events):
    return any(all((p not in events) if neg else (p in events) for neg, p in c) for c in f)


@given(formula, st.sets(st.sampled_from(PROPS)))
def test_dnf_parser_agrees_with_brute_force(f, events):
    assert parse_dnf(render(f)).holds(events) == brute(f, events)


@pytest.mark.parametrize("bad", ["a&&b", "__import__('os').system('x')", "a|", "a & b; c", "", "1a"])
def test_dnf_parser_rejects_non_dnf_text(bad):
    with pytest.raises(ConfigError):
        parse_dnf(bad, field="edge.when")


def test_text_and_mapping_forms_agree_and_falling_off_is_terminal():
    rm = RewardMachine.from_text(OFFICE_T3)
    assert rm.n_states == 4 and rm.terminal == 4
    # coffee then mail then office
    u = rm.initial
    for ev, expect_r in [("f", 0), ("", 0), ("e", 0), ("g", 1)]:
        u, r, done = rm.step(u, ev)
        assert r == expect_r
    assert done and u == rm.terminal
    # a plant ends the task with reward 0
    u, r, done = rm.step(rm.initial, "n")
    assert (u, r, done) == (rm.terminal, 0.0, True)
    m = RewardMachine.from_mapping({"initial": 0, "terminal": [1], "transitions": [
        {"from": 0, "to": 0, "when": "!a"}, {"from": 0, "to": 1, "when": "a", "reward": 2}]})
    assert m.step(0, "a") == (1, 2.0, True)


def test_bad_rm_file_names_the_line():
    with pytest.raises(ConfigError, match="line 4"):
        RewardMachine.from_text("0\n[1]\n(0,0,'!a',0)\n(0,1,'a',__import__('os'))\n")


def test_product_wrapper_and_counterfactual_experiences():
    rm = RewardMachine.from_text(OFFICE_T3)
    env = RewardMachineWrapper(OfficeWorld(), rm, counterfactual=True)
    obs, info = env.reset(seed=0)
    k = rm.n_states + 1
    assert obs == (2 * 9 + 1) * k + 0
    rng = np.random.default_rng(0)
    for _ in range(200):
        obs, _r, term, _trunc, info = env.step(int(rng.integers(4)))
        assert obs % k == info["rm_next_state"]
        for exp in info["crm"]:
            assert (exp.u_next, exp.reward, exp.done) == rm.step(exp.u, info["events"])
        if term:
            assert info["rm_next_state"] == rm.terminal
            break


def test_rm_shaping_keeps_the_optimal_policy_of_the_product_mdp():
    rm = RewardMachine.from_text(OFFICE_T3)
    nxt, ev = office_tables()
    q0 = product_value_iteration(nxt, ev, rm, 0.9)
    q1 = product_value_iteration(nxt, ev, rm, 0.9, potential=rm.potential(0.9))
    k = rm.n_states + 1
    rows = [s * k + u for s in range(108) for u in range(rm.n_states)]
    best0 = np.isclose(q0[rows], q0[rows].max(1, keepdims=True), atol=1e-9)
    best1 = np.isclose(q1[rows], q1[rows].max(1, keepdims=True), atol=1e-9)
    assert (best0 == best1).all()
    assert not np.allclose(q0, q1)  # the shaping did change the values
    # Q values differ exactly by the potential of the state: Q'(s,u,a) = Q(s,u,a) - Phi(u)
    phi = rm.potential(0.9)
    np.testing.assert_allclose(q1[rows], q0[rows] - np.repeat(phi[None, :rm.n_states], 108, 0).reshape(-1, 1), atol=1e-6)


def test_rm_shaping_term_zero_potential_on_termination_not_truncation():
    rm = RewardMachine.from_text(OFFICE_T3)
    term = RMShaping(rm, gamma=0.9, rs_gamma=0.9)
    info = [{"rm_state": 2, "rm_next_state": 2}] * 2
    b = TransitionBatch.from_arrays(np.zeros(2), np.zeros(2), np.zeros(2), [0, 0], terminated=[True, False],
                                    truncated=[False, True], info=info)
    v = term(b)
    phi = rm.potential(0.9)
    np.testing.assert_allclose(v, [-phi[2], 0.9 * phi[2] - phi[2]])


def test_crm_with_shaping_learns_faster_than_plain_q_learning():
    rm = RewardMachine.from_text(OFFICE_T3)
    at = {}
    for crm, rs in [(False, False), (True, True)]:
        vals = [rm_q_learning(OfficeWorld(), rm, 20_000, crm=crm, shaping=rs, seed=s, optimal_reward_per_step=0.0223)
                ["normalised_reward_per_step"][-1] for s in range(3)]
        at[(crm, rs)] = float(np.median(vals))
    assert at[(True, True)] > at[(False, False)] + 0.2, at
