"""ExploRS (Devidze et al. 2022): formulas against finite differences, the reward term, and the chain effect."""

from __future__ import annotations

import numpy as np
import pytest

from rewardkit.core import BatchError, ConfigError, TransitionBatch, build_reward
from rewardkit.shaping.explors import (
    Episode, ExploRSReward, ExploRSTeacher, explors_count_bonus, critic_gradient, discounted_return_to_go,
    first_crossing, lirpg_gradient, run_explors, selfrs_gradient, sors_gradient,
)
from rewardkit.tabular import chain_with_distractor


def _random_episodes(rng, S=5, A=3, n=4, L=6):
    logits = rng.normal(size=(S, A))
    pi = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    eps = []
    for _ in range(n):
        st = rng.integers(0, S, size=L)
        ac = rng.integers(0, A, size=L)
        rb = rng.normal(size=L)
        eps.append(Episode(st, ac, rb, rb.copy(), rng.integers(0, S, size=L), pi))
    return eps, logits, pi


def test_count_bonus_formula_and_terminal():
    assert np.allclose(explors_count_bonus([0, 5, 12], lam=2.0, b_max=0.5), 2.0 / np.sqrt(16.0 + np.array([0, 5, 12])))
    t = ExploRSTeacher(3, 2, 0.9, "explob", terminal=[False, False, True])
    assert t.shaped_reward(0, 0, 1, 0.5) == pytest.approx(1.5)
    assert t.shaped_reward(0, 0, 2, 0.5) == pytest.approx(0.5)      # no bonus for entering the terminal state
    for _ in range(3):
        t.observe(1)
    assert t.explore(1) == pytest.approx(0.5)
    assert ExploRSTeacher(3, 2, 0.9, "orig").shaped_reward(0, 0, 1, 0.25) == pytest.approx(0.25)


def test_selfrs_gradient_is_the_logit_gradient_of_pi_times_advantage():
    """grad[s, .] = d/d(logits) sum_t pi(a_t|s_t) (G_t - V(s_t)) (the reference's SelfRS direction)."""
    rng = np.random.default_rng(0)
    eps, logits, _ = _random_episodes(rng)
    gamma, V = 0.9, rng.normal(size=5)

    def objective(lg):
        p = np.exp(lg) / np.exp(lg).sum(1, keepdims=True)
        tot = 0.0
        for ep in eps:
            G = discounted_return_to_go(ep.r_bar, gamma)
            tot += float((p[ep.states, ep.actions] * (G - V[ep.states])).sum())
        return tot

    g = selfrs_gradient(eps, V, gamma, 5, 3)
    fd = np.zeros_like(logits)
    for s in range(5):
        for a in range(3):
            e = np.zeros_like(logits)
            e[s, a] = 1e-6
            fd[s, a] = (objective(logits + e) - objective(logits - e)) / 2e-6
    assert np.allclose(g, fd, atol=1e-6)


def test_critic_gradient_moves_v_towards_the_mean_return():
    rng = np.random.default_rng(1)
    eps, _, _ = _random_episodes(rng)
    V = np.zeros(5)
    for _ in range(3000):
        V += 0.5 * critic_gradient(eps, V, 0.9)
    for s in range(5):
        Gs = np.concatenate([discounted_return_to_go(ep.r_bar, 0.9)[ep.states == s] for ep in eps])
        if Gs.size:
            assert V[s] == pytest.approx(Gs.mean(), abs=1e-3)


def test_sors_gradient_is_the_bradley_terry_loglik_gradient():
    rng = np.random.default_rng(2)
    eps, _, _ = _random_episodes(rng, n=3)
    phi = rng.normal(scale=0.1, size=(5, 3))
    gamma = 0.9

    def loglik(ph):
        R = [float((ph * _psi(ep, gamma)).sum()) for ep in eps]
        G = [discounted_return_to_go(ep.r_bar, gamma)[0] for ep in eps]
        return sum(-np.log1p(np.exp(-(R[i] - R[j]))) for i in range(3) for j in range(3) if G[i] > G[j]) / 3.0

    g = sors_gradient(eps, phi, gamma, n_pairs=10, rng=rng)   # 3 pairs <= 10: no sampling
    fd = np.zeros_like(phi)
    for s in range(5):
        for a in range(3):
            e = np.zeros_like(phi)
            e[s, a] = 1e-6
            fd[s, a] = (loglik(phi + e) - loglik(phi - e)) / 2e-6
    assert np.allclose(g, fd, atol=1e-6)
    same = [Episode(e.states, e.actions, np.zeros(len(e)), e.r_hat, e.next_states, e.policy) for e in eps]
    assert sors_gradient(same, phi, gamma, 10, rng) is None        # no ranked pair -> no update


def _psi(ep, gamma):
    psi = np.zeros((5, 3))
    np.add.at(psi, (ep.states, ep.actions), gamma ** np.arange(len(ep)))
    return psi


def test_lirpg_gradient_uses_visitation_difference():
    pi = np.array([[0.25, 0.75], [0.5, 0.5]])
    ep = Episode(np.array([0]), np.array([0]), np.array([2.0]), np.zeros(1), np.array([1]), pi)
    # rollouts visit only their first (s, a): n_Q(s,a)=1, n_V(s,a)=1[b == a]
    rollout = lambda s, a: (np.array([s]), np.array([a]))  # noqa: E731
    rng = np.random.default_rng(0)
    grads = [lirpg_gradient([ep], np.zeros(2), 0.9, 2, 2, rollout, rng)[0, 0] for _ in range(400)]
    # E = pi(a|s) * G * (1 - pi(a|s)) = 0.25 * 2 * 0.75
    assert np.mean(grads) == pytest.approx(0.25 * 2.0 * 0.75, abs=0.03)
    assert set(np.round(grads, 6)) <= {0.0, 0.5}


def test_selfrs_update_is_clipped_and_validates():
    rng = np.random.default_rng(3)
    eps, _, _ = _random_episodes(rng)
    t = ExploRSTeacher(5, 3, 0.9, "selfrs", eta_phi=10.0, clip=0.01)
    t.update(eps)
    assert np.abs(t.phi).max() == pytest.approx(0.01)
    with pytest.raises(ConfigError, match="variant"):
        ExploRSTeacher(5, 3, 0.9, "bogus")
    with pytest.raises(ConfigError, match="rollout"):
        ExploRSTeacher(5, 3, 0.9, "lirpg")
    with pytest.raises(ConfigError, match="tie_break"):
        run_explors(chain_with_distractor(distractor=0.0).mdp, "orig", 1, tie_break="lowest")


def test_explors_term_registered_counts_and_errors():
    b = TransitionBatch.from_arrays(obs=np.array([0, 0, 1]), action=np.array([1, 0, 1]),
                                    next_obs=np.array([1, 1, 3]), reward=np.array([0.0, 0.0, 1.0]),
                                    terminated=[False, False, True])
    r = build_reward({"terms": [{"type": "env_reward"},
                                {"type": "explors", "params": {"n_states": 4, "n_actions": 2}}]})
    res = r.evaluate(b)
    assert res.terms["explors"].tolist() == [1.0, 1.0, 0.0]          # terminated -> no bonus
    res2 = r.evaluate(b)
    assert res2.terms["explors"][0] == pytest.approx(1 / np.sqrt(2.0))   # state 1 counted once by the first call
    term = ExploRSReward(4, 2, use_exploit=True, use_explore=False)
    term.teacher.phi[0, 1] = 0.3
    assert term(b).tolist() == [0.3, 0.0, 0.0]
    state = term.state_dict()
    term2 = ExploRSReward(4, 2, use_explore=False)
    term2.load_state_dict(state)
    assert term2(b).tolist() == [0.3, 0.0, 0.0]
    with pytest.raises(BatchError, match="obs"):
        term(TransitionBatch.from_arrays(np.array([0.5]), np.array([0]), np.array([1]), np.zeros(1)))
    with pytest.raises(BatchError, match="next_obs"):
        term(TransitionBatch.from_arrays(np.array([0]), np.array([0]), np.array([9]), np.zeros(1)))
    with pytest.raises(ConfigError, match="n_states"):
        ExploRSReward(0, 2)


def test_first_crossing_uses_trailing_moving_mean():
    assert first_crossing([0, 1, 2, 3, 4, 5], [0, 20, 0, 20, 20, 20], 12.0, window=3) == 3
    assert first_crossing([0, 1, 2, 3, 4, 5], [0, 20, 0, 20, 20, 20], 14.0, window=3) == 5
    assert first_crossing([0, 1], [0, 1], 5.0) is None


def test_distractor_traps_q_learning_but_not_the_count_bonus_or_explors():
    """E1 smoke (seed 0, reference protocol, tie_break=random): plain Q-learning locks onto the 0.01
    distractor (0.09); the count bonus and ExploRS escape it; ExploRS is not later than the bonus."""
    mdp, _ = chain_with_distractor()
    n = 2500
    orig = run_explors(mdp, "orig", n, tie_break="random", seed=0)
    expl = run_explors(mdp, "explors", n, tie_break="random", seed=0)
    explob = run_explors(mdp, "explob", n, tie_break="random", seed=0)
    late = orig["episode"] >= 500
    assert np.all(orig["eval_return"][late] <= 0.1)
    assert np.all(orig["eval_return"][late] >= 0.05)                 # it does collect the distractor
    c_rs = first_crossing(expl["episode"], expl["eval_return"], 9.0)
    c_b = first_crossing(explob["episode"], explob["eval_return"], 9.0)
    assert c_rs is not None and c_rs <= n
    assert c_b is None or c_rs <= c_b
    assert expl["eval_return"][-5:].mean() >= 9.0


def test_explors_term_learns_phi_with_the_selfrs_update():
    rng = np.random.default_rng(4)
    eps, _, _ = _random_episodes(rng)
    term = ExploRSReward(5, 3, gamma=0.9, eta_phi=0.5, clip=None)
    term.update(eps)
    assert np.allclose(term.teacher.phi, 0.5 * selfrs_gradient(eps, np.zeros(5), 0.9, 5, 3))
    b = TransitionBatch.from_arrays(obs=eps[0].states, action=eps[0].actions, next_obs=eps[0].next_states,
                                    reward=np.zeros(len(eps[0])), terminated=np.ones(len(eps[0]), dtype=bool))
    assert np.allclose(term(b), term.teacher.phi[eps[0].states, eps[0].actions])   # terminated: exploit part only


def test_explors_term_in_a_gymnasium_reward_wrapper():
    """The registered term inside rewardkit's Gymnasium wrapper on the registered chain env."""
    import gymnasium as gym

    import rewardkit.tabular  # noqa: F401  (registers rewardkit/ChainDistractor-v0)
    from rewardkit.integrations.gymnasium import RewardWrapper

    reward = build_reward({"terms": [{"type": "env_reward"},
                                     {"type": "explors", "params": {"n_states": 62, "n_actions": 2, "clip": 0.01}}]})
    env = RewardWrapper(gym.make("rewardkit/ChainDistractor-v0"), reward)
    obs, _ = env.reset(seed=0)
    term = reward.terms["explors"]
    seen: dict[int, int] = {}
    states, actions, rbar, nxt = [], [], [], []
    for _ in range(30):
        a = 0
        obs2, r, terminated, truncated, info = env.step(a)
        expected = 1.0 / np.sqrt(1.0 + seen.get(int(obs2), 0)) if not terminated else 0.0
        seen[int(obs)] = seen.get(int(obs), 0) + 1
        assert info["rk/terms"]["explors"] == pytest.approx(expected)
        assert r == pytest.approx(info["rk/env_reward"] + expected)
        states.append(int(obs)); actions.append(a); rbar.append(info["rk/env_reward"]); nxt.append(int(obs2))  # noqa: E702
        obs = obs2
        if terminated or truncated:
            break
    assert 25 in states and max(rbar) == pytest.approx(0.01)        # always-left passes the distractor (0.01 at 25)
    ep = Episode(np.array(states), np.array(actions), np.array(rbar), np.zeros(len(states)), np.array(nxt),
                 np.full((62, 2), 0.5))
    term.update([ep])
    assert 0 < np.abs(term.teacher.phi).max() <= 0.01                # SelfRS learned, clipped for a Q-learner
