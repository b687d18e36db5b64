"""Gymnasium / SB3 reward wrappers: info keys through Monitor, termination semantics, autoreset."""

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

from _integration_terms import EpisodeStep
from rewardkit.core import ComposedReward, Constant, RewardTerm, build_reward
from rewardkit.integrations.gymnasium import RewardWrapper, VectorRewardWrapper
from rewardkit.integrations.sb3 import VecRewardWrapper, monitor_keywords

REWARD = {"terms": [{"type": "env_reward", "name": "task"}, {"type": "alive", "weight": 0.1}]}


class Recorder(RewardTerm):
    batch_kind = "transition"

    def __init__(self):
        super().__init__("rec")
        self.seen = []

    def compute(self, b):
        self.seen.append((np.array(b.next_obs, copy=True), b.terminated.copy(), b.truncated.copy(), b.env_index.copy()))
        return np.zeros(len(b))


def test_monitor_records_original_and_term_returns():
    r = build_reward(REWARD)
    env = Monitor(RewardWrapper(gym.make("CartPole-v1"), r), info_keywords=monitor_keywords(r))
    env.reset(seed=3)
    ref = gym.make("CartPole-v1")
    ref.reset(seed=3)
    done, ref_ret, rng = False, 0.0, np.random.default_rng(0)
    while not done:
        a = int(rng.integers(2))
        _, _rew, term, trunc, info = env.step(a)
        _, rr, _rt, _rtr, _ = ref.step(a)
        ref_ret += rr
        done = term or trunc
    ep = info["episode"]
    assert ep["rk/env_return"] == ref_ret
    assert ep["rk/return/task"] == ref_ret
    assert np.isclose(ep["rk/return/alive"], ep["l"] - 1)  # alive is 0 on the terminating step
    assert np.isclose(ep["r"], ref_ret + 0.1 * (ep["l"] - 1), atol=1e-4)


def test_sb3_vecmonitor_and_ppo_pick_up_term_returns():
    r = build_reward(REWARD)
    venv = VecMonitor(VecRewardWrapper(DummyVecEnv([lambda: gym.make("CartPole-v1")] * 2), r),
                      info_keywords=monitor_keywords(r))
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=1, seed=0, verbose=0)
    model.learn(256)
    assert len(model.ep_info_buffer) > 0
    ep = model.ep_info_buffer[-1]
    for k in monitor_keywords(r):
        assert k in ep
    assert np.isclose(ep["r"], ep["rk/env_return"] + 0.1 * ep["rk/return/alive"], atol=1e-3)


def test_sb3_terms_see_terminal_observation_and_truncation_flag():
    rec = Recorder()
    def make():
        return gym.make("CartPole-v1", max_episode_steps=4)
    venv = VecRewardWrapper(DummyVecEnv([make]), rec)
    venv.reset()
    for _ in range(4):
        obs, _, dones, infos = venv.step(np.array([0]))
    assert dones[0]
    last_next, term, trunc, _ = rec.seen[-1]
    np.testing.assert_array_equal(last_next[0], infos[0]["terminal_observation"])
    assert not np.array_equal(last_next[0], obs[0])  # not the reset observation
    assert trunc[0] and not term[0]


def test_wrapper_order_does_not_change_original_return():
    r1 = build_reward({"terms": [{"type": "env_reward"}, {"type": "constant", "params": {"value": 5.0}}]})
    r2 = build_reward({"terms": [{"type": "env_reward"}, {"type": "alive", "weight": -3.0}]})

    def run(env):
        env.reset(seed=1)
        rng = np.random.default_rng(1)
        while True:
            _, _, t, tr, info = env.step(int(rng.integers(2)))
            if t or tr:
                return info["rk/env_return"]

    a = run(RewardWrapper(RewardWrapper(gym.make("CartPole-v1"), r1), r2))
    b = run(RewardWrapper(RewardWrapper(gym.make("CartPole-v1"), r2), r1))
    c = run(RewardWrapper(gym.make("CartPole-v1"), r1))
    assert a == b == c


def test_vector_next_step_autoreset_hides_pseudo_transition():
    rec = Recorder()
    envs = VectorRewardWrapper(gym.make_vec("CartPole-v1", num_envs=2, max_episode_steps=3,
                                            vectorization_mode="sync"), ComposedReward([rec, Constant(1.0, "one")]))
    envs.reset(seed=0)
    rewards, ended = [], None
    for t in range(5):
        _, r, _term, _trunc, info = envs.step(np.array([0, 1]))
        rewards.append(r.copy())
        if t == 2:
            ended = info
    # steps 0..2 are real, step 3 is the autoreset pseudo-step, step 4 is real again
    assert [r.tolist() for r in rewards] == [[1, 1], [1, 1], [1, 1], [0, 0], [1, 1]]
    assert [len(s[3]) for s in rec.seen] == [2, 2, 2, 2]
    assert ended["_rk/length"].all() and ended["rk/length"].tolist() == [3, 3]


def test_stateful_terms_are_reset_per_env_at_episode_end():
    venv = VecRewardWrapper(DummyVecEnv([lambda: gym.make("CartPole-v1", max_episode_steps=2),
                                         lambda: gym.make("CartPole-v1", max_episode_steps=3)]), EpisodeStep())
    venv.reset()
    seq = [venv.step(np.array([0, 0]))[1].tolist() for _ in range(4)]
    assert seq == [[1, 1], [2, 2], [1, 3], [2, 1]]
