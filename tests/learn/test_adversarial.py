"""GAIL / AIRL rewards on a tiny chain: the learned reward makes the expert's action optimal."""

import numpy as np
import pytest

from rewardkit.core import TransitionBatch, build_reward
from rewardkit.core.errors import BatchError, ConfigError
from rewardkit.learn import AdversarialReward, AdversarialRewardTerm, fit_discriminator
from rewardkit.tabular import TabularMDP

S, A, LEFT, RIGHT = 6, 2, 0, 1


def chain():
    T = np.zeros((S, A, S))
    for s in range(S):
        T[s, LEFT, max(s - 1, 0)] = 1.0
        T[s, RIGHT, min(s + 1, S - 1)] = 1.0
    mu0 = np.zeros(S)
    mu0[0] = 1.0
    return TabularMDP(T, np.zeros(S), 0.9, mu0)


def rollouts(mdp, policy, n, length, rng):
    obs, act, nxt = [], [], []
    for _ in range(n):
        s = 0
        for _ in range(length):
            a = policy(s, rng)
            s2 = mdp.sample_next(s, a, rng)
            obs.append(s), act.append(a), nxt.append(s2)
            s = s2
    eye_s, eye_a = np.eye(S), np.eye(A)
    return {"obs": eye_s[obs], "action": eye_a[act], "next_obs": eye_s[nxt],
            "log_pi": np.full(len(obs), np.log(0.5))}


@pytest.fixture(scope="module")
def data():
    mdp = chain()
    rng = np.random.default_rng(0)
    expert = rollouts(mdp, lambda s, r: RIGHT, 20, 8, rng)
    policy = rollouts(mdp, lambda s, r: int(r.integers(A)), 20, 8, rng)
    return mdp, expert, policy


def _tabular_reward(model, use="train"):
    """R(s, a) = the learned reward of the deterministic transition (s, a, s')."""
    R = np.zeros((S, A))
    for s in range(S):
        for a in range(A):
            s2 = min(s + 1, S - 1) if a == RIGHT else max(s - 1, 0)
            R[s, a] = model.reward(np.eye(S)[[s]], np.eye(A)[[a]], np.eye(S)[[s2]], np.array([False]),
                                   np.array([np.log(0.5)]), **({} if model.kind == "gail" else {"use": use}))[0]
    return R


def test_gail_reward_makes_expert_action_optimal(data):
    mdp, expert, policy = data
    gail = fit_discriminator("gail", expert, policy, steps=300, seed=0)
    R = _tabular_reward(gail)
    assert np.all(R >= 0)  # -log(1 - D) is non-negative
    _, _, pi = mdp.value_iteration(R=R)
    assert pi[: S - 1].argmax(1).tolist() == [RIGHT] * (S - 1)
    untrained = fit_discriminator("gail", expert, policy, steps=0, seed=0)
    assert not np.allclose(_tabular_reward(untrained), R, atol=0.1)
    e = gail.reward(expert["obs"], expert["action"]).mean()
    p = gail.reward(policy["obs"], policy["action"]).mean()
    assert e > p + 0.3


@pytest.fixture(scope="module")
def airl(data):
    _, expert, policy = data
    return fit_discriminator("airl", expert, policy, gamma=0.9, steps=400, seed=0)


@pytest.mark.parametrize("use", ["train", "test"])
def test_airl_reward_makes_expert_action_optimal(data, airl, use):
    mdp, _expert, _policy = data
    R = _tabular_reward(airl, use)
    _, _, pi = mdp.value_iteration(R=R)
    assert pi[: S - 1].argmax(1).tolist() == [RIGHT] * (S - 1)
    if use == "test":  # the state-only g is higher where the expert goes (towards the goal)
        g = airl.g(np.eye(S))
        assert g[S - 1] > g[0]


def test_airl_structure_and_term(data, tmp_path):
    _, expert, policy = data
    airl = fit_discriminator("airl", expert, policy, gamma=0.9, steps=50, seed=1)
    s, a, s2 = expert["obs"][:5], expert["action"][:5], expert["next_obs"][:5]
    done = np.array([False, True, False, False, True])
    f = airl.f(s, a, s2, done)
    np.testing.assert_allclose(f, airl.g(s) + 0.9 * (~done) * airl.h(s2) - airl.h(s))
    np.testing.assert_allclose(airl.reward(s, a, s2, done, np.full(5, -1.0)), f + 1.0)
    airl.save(tmp_path / "airl.npz")
    reward = build_reward({"terms": [{"type": "airl_reward", "params": {"path": str(tmp_path / "airl.npz"),
                                                                       "n_actions": 2}}]})
    batch = TransitionBatch.from_arrays(s, a.argmax(1), s2, np.zeros(5), terminated=done,
                                        info=[{"log_pi": -1.0}] * 5)
    np.testing.assert_allclose(reward(batch), f + 1.0)
    term_test = AdversarialRewardTerm(AdversarialReward.load(tmp_path / "airl.npz"), use="test", n_actions=2)
    np.testing.assert_allclose(term_test(batch), airl.g(s))
    bad = TransitionBatch.from_arrays(s, a.argmax(1), s2, np.zeros(5), info=[{"log_pi": "x"}] * 5)
    with pytest.raises(BatchError, match=r"info\.log_pi"):
        reward(bad)
    with pytest.raises(ConfigError, match="AIRL"):
        build_reward({"terms": [{"type": "gail_reward", "params": {"path": str(tmp_path / "airl.npz")}}]})


def test_discriminator_bad_input(data):
    _, expert, policy = data
    with pytest.raises(BatchError, match=r"policy\.next_obs"):
        fit_discriminator("airl", expert, {"obs": policy["obs"], "action": policy["action"]}, steps=1)
    with pytest.raises(ConfigError, match="kind"):
        fit_discriminator("wgan", expert, policy, steps=1)
