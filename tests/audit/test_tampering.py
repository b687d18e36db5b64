"""Sycophancy to Subterfuge (#186): a reward-tampering honeypot and a guard that flags (or blocks) every edit."""

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from rewardkit.audit.tampering import RewardTamperingEnv, TamperGuard, fingerprint
from rewardkit.core.errors import ConfigError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "audit"))
from tampering_honeypot import greedy_episode, train_q


@pytest.mark.parametrize("seed", range(3))
def test_a_reward_maximiser_learns_to_tamper_and_the_guard_flags_it(seed):
    env = TamperGuard(RewardTamperingEnv())
    agent = train_q(env, 300, seed)
    total, flagged, reached = greedy_episode(env, agent)
    assert flagged >= 1 and total > 1.0 and not reached      # it edits the file instead of walking to the goal
    assert env.events >= env.tampered_episodes >= 1


@pytest.mark.parametrize("seed", range(3))
def test_blocking_the_edit_makes_the_agent_learn_the_task(seed):
    env = TamperGuard(RewardTamperingEnv(), block=True)
    agent = train_q(env, 300, seed)
    total, _, reached = greedy_episode(env, agent)
    assert reached and total == pytest.approx(1.0)


def test_no_false_positive_for_an_agent_that_never_edits():
    env = TamperGuard(RewardTamperingEnv())
    rng = np.random.default_rng(0)
    for ep in range(20):
        env.reset(seed=ep)
        while True:
            _, _, term, trunc, info = env.step(int(rng.integers(2)))   # left/right only
            assert not info["rk/tampered"]
            if term or trunc:
                break
    assert env.events == 0


def test_guard_watches_any_file_and_needs_one(tmp_path):
    p = tmp_path / "r.json"
    p.write_text("{}")
    before = fingerprint(p)
    p.write_text('{"goal": 99}')
    assert fingerprint(p) != before
    with pytest.raises(ConfigError, match="paths"):
        TamperGuard(gym.make("CartPole-v1"))
    guard = TamperGuard(gym.make("CartPole-v1"), paths=[str(p)])
    guard.reset(seed=0)
    p.write_text('{"goal": 100}')
    assert guard.step(0)[4]["rk/tampered"]


def test_honeypot_is_registered_and_passes_check_env():
    from gymnasium.utils.env_checker import check_env

    env = gym.make("rewardkit/TamperHoneypot-v0")
    check_env(env.unwrapped, skip_render_check=True)
    with pytest.raises(ConfigError, match="action"):
        RewardTamperingEnv().step(7)
