"""Dynamic potentials (Devlin & Kudenko 2012), action advice (Wiewiora et al. 2003), expert advice
(Harutyunyan et al. 2015)."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

from rewardkit.core import TransitionBatch
from rewardkit.shaping.advice import (AdviceQLearning, LookBackAdvice, advice_potential, look_ahead_advice,
                                      look_back_advice)
from rewardkit.shaping.dynamic import DynamicPotentialShaping
from rewardkit.tabular import TabularEnv, TabularMDP, episodes_to_fraction, four_rooms, run_q_learning


def _rollout(mdp, steps, seed):
    env = TabularEnv(mdp, max_steps=steps)
    rng = np.random.default_rng(seed)
    s, _ = env.reset(seed=seed)
    out = []
    while True:
        a = int(rng.integers(mdp.n_actions))
        s2, _, term, trunc, _ = env.step(a)
        out.append((s, a, s2, term, trunc))
        s = s2
        if term or trunc:
            return out


def test_dynamic_potential_telescopes_even_when_the_potential_is_learned_between_steps():
    mdp, _ = four_rooms()
    table = np.zeros(mdp.n_states)
    rng = np.random.default_rng(0)

    def phi(obs, t):
        return table[np.asarray(obs)] + 0.1 * np.asarray(t)

    term = DynamicPotentialShaping(phi, gamma=mdp.gamma)
    kinds = set()
    for ep in range(30):
        traj = _rollout(mdp, 12, ep)
        phi0 = phi([traj[0][0]], [0])[0]
        total, paid = 0.0, 0.0
        for t, (s, a, s2, te, tr) in enumerate(traj):
            f = term(TransitionBatch.from_arrays([s], [a], [s2], [0.0], terminated=[te], truncated=[tr]))[0]
            total += mdp.gamma ** t * f
            paid = 0.0 if te else phi([s2], [t + 1])[0]             # the potential as it was when paid
            table[:] += rng.normal(scale=0.5, size=table.size)       # the potential keeps changing
        T = len(traj)
        assert total == pytest.approx(mdp.gamma ** T * paid - phi0, abs=1e-9)
        kinds.add("term" if te else "trunc")
    assert kinds == {"term", "trunc"}


def test_dynamic_potential_without_caching_would_not_telescope():
    """Negative control: recomputing Phi(s,t) with the *changed* potential breaks the identity."""
    mdp, _ = four_rooms()
    table = np.zeros(mdp.n_states)
    rng = np.random.default_rng(1)
    term = DynamicPotentialShaping(lambda obs, t: table[np.asarray(obs)], gamma=mdp.gamma)
    broken = []
    for ep in range(20):
        traj = _rollout(mdp, 200, ep)
        if not traj[-1][3]:
            continue
        phi0 = table[traj[0][0]]
        total = naive = 0.0
        for t, (s, a, s2, te, tr) in enumerate(traj):
            b = TransitionBatch.from_arrays([s], [a], [s2], [0.0], terminated=[te], truncated=[tr])
            total += mdp.gamma ** t * term(b)[0]
            naive += mdp.gamma ** t * ((0.0 if te else mdp.gamma * table[s2]) - table[s])
            table[:] += rng.normal(scale=0.5, size=table.size)
        assert total == pytest.approx(-phi0, abs=1e-9)
        broken.append(abs(naive + phi0) > 1e-3)
    assert broken and all(broken)


def test_look_ahead_and_look_back_formulas():
    phi = np.arange(6.0).reshape(3, 2)
    assert look_ahead_advice(phi, [0, 1], [1, 0], [2, 2], [0, 1], 0.5, [False, True]).tolist() == [
        0.5 * 4 - 1, -2.0]
    assert look_back_advice(phi, [0, 0], [0, 1], [2, 1], [1, 1], 0.5, [True, False]).tolist() == [5.0, 3 - 2.0]
    term = LookBackAdvice(phi, gamma=0.5)
    traj = [(0, 1, 1), (1, 0, 2), (2, 1, 0)]
    vals = [term(TransitionBatch.from_arrays([s], [a], [s2], [0.0]))[0] for s, a, s2 in traj]
    assert vals == [1.0, 2.0 - 1.0 / 0.5, 5.0 - 2.0 / 0.5]


def test_look_ahead_fixed_point_is_q_star_minus_phi():
    """The look-ahead Bellman operator  Q <- R - Phi + gamma E max_a' (Q + Phi)(s', a')  converges to Q* - Phi."""
    mdp = TabularMDP.random(7, 3, gamma=0.9, seed=2, n_terminal=1)
    phi = np.random.default_rng(0).normal(scale=5.0, size=(7, 3))
    phi[mdp.terminal] = 0.0
    _, Q_star, _ = mdp.value_iteration()
    Q = np.zeros((7, 3))
    for _ in range(2000):
        Q = mdp.reward - phi + mdp.gamma * mdp.transitions @ (Q + phi).max(axis=1)
        Q[mdp.terminal] = 0.0
    live = ~mdp.terminal
    assert np.allclose((Q + phi)[live], Q_star[live], atol=1e-8)
    # biased selection recovers pi*, unbiased selection on Q alone does not in general
    assert np.array_equal((Q + phi)[live].argmax(1), Q_star[live].argmax(1))


def test_look_ahead_agent_with_perfect_advice_is_optimal_at_once_and_misleading_advice_is_unlearned():
    mdp, _ = four_rooms()
    _, Q, _ = mdp.value_iteration()
    good = AdviceQLearning(50, 4, 0.5, mdp.gamma, 0.1, tie_break="first", seed=0, phi=Q)
    out = run_q_learning(mdp, 64, agent=good, tie_break="first", seed=0, eval_every=16)
    assert episodes_to_fraction(out) == 0 and out["expected_return"][-1] > 0.9 * out["optimal_return"]
    # invariance: on a tiny MDP even adversarial advice (-Q*) is overcome by learning
    T = np.zeros((4, 2, 4))
    for s in range(3):
        T[s, 0, max(s - 1, 0)] = 1.0
        T[s, 1, s + 1] = 1.0
    T[3, :, 3] = 1.0
    R = np.zeros((4, 2))
    R[2, 1] = 1.0
    tiny = TabularMDP(T, R, 0.9, [1, 0, 0, 0], terminal=[False, False, False, True])
    _, Qt, _ = tiny.value_iteration()
    bad = AdviceQLearning(4, 2, 0.5, 0.9, 0.3, tie_break="first", seed=0, phi=-Qt)
    out = run_q_learning(tiny, 400, agent=bad, tie_break="first", seed=0, max_steps=30, eval_every=50)
    assert out["expected_return"][0] < out["optimal_return"] - 0.1
    assert out["expected_return"][-1] == pytest.approx(out["optimal_return"])


def test_advice_potential_fixed_point_pays_the_advice_in_expectation():
    mdp = TabularMDP.random(6, 3, gamma=0.9, seed=5, n_terminal=1)
    rng = np.random.default_rng(3)
    advice = rng.normal(size=(6, 3))
    pi = rng.dirichlet(np.ones(3), size=6)
    phi = advice_potential(mdp, advice, pi)
    F = mdp.gamma * np.einsum("sat,tb,tb->sa", mdp.transitions, pi, phi) - phi
    live = ~mdp.terminal
    assert np.allclose(F[live], advice[live])


def test_expert_advice_speeds_up_early_learning():
    mdp, _ = four_rooms()
    advice = mdp.optimal_actions().astype(float)          # "+1 for what the expert would do"
    firsts, plain = [], []
    for seed in range(3):
        agent = AdviceQLearning(50, 4, 0.5, mdp.gamma, 0.1, tie_break="first", seed=seed, mode="advice",
                                advice=advice, beta=0.2)
        firsts.append(episodes_to_fraction(run_q_learning(mdp, 256, agent=agent, tie_break="first", seed=seed,
                                                          eval_every=16)))
        plain.append(episodes_to_fraction(run_q_learning(mdp, 256, tie_break="first", seed=seed, eval_every=16)))
    assert all(f is not None and f <= 128 for f in firsts), firsts
    assert all(p is None for p in plain)


@pytest.mark.parametrize("mod", ["rewardkit.shaping.dynamic", "rewardkit.shaping.advice"])
def test_doctests(mod):
    res = doctest.testmod(importlib.import_module(mod), optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted > 0
