"""TermReturnsCallback: per-term episode returns in SB3's logger and TensorBoard (issue 10, item 7)."""

import csv
import json

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rewardkit.core import build_reward
from rewardkit.integrations.sb3 import TermReturnsCallback, VecRewardWrapper, monitor_keywords

REWARD = {"terms": [{"type": "env_reward", "name": "task"}, {"type": "alive", "weight": 0.1}]}


def _monitor_rows(path):
    with open(path) as f:
        json.loads(f.readline()[1:])  # the "#{...}" header line
        return list(csv.DictReader(f))


def _scalars(logdir):
    runs = sorted(p for p in logdir.iterdir() if p.is_dir())
    acc = EventAccumulator(str(runs[-1]))
    acc.Reload()
    return acc, acc.Tags()["scalars"]


@pytest.mark.parametrize("algo", ["PPO", "DQN"])
def test_term_returns_reach_tensorboard_and_equal_the_monitor(tmp_path, algo):
    r = build_reward(REWARD)
    venv = VecMonitor(VecRewardWrapper(DummyVecEnv([lambda: gym.make("CartPole-v1")] * 2), r),
                      filename=str(tmp_path / "monitor.csv"), info_keywords=monitor_keywords(r))
    if algo == "PPO":
        model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=1, seed=0,
                    tensorboard_log=str(tmp_path / "tb"))
        model.learn(384, callback=TermReturnsCallback(), log_interval=1)
    else:  # off-policy: SB3 dumps inside collect_rollouts when an episode ends
        model = DQN("MlpPolicy", venv, learning_starts=50, seed=0, tensorboard_log=str(tmp_path / "tb"))
        model.learn(400, callback=TermReturnsCallback(), log_interval=1)
    rows = _monitor_rows(tmp_path / "monitor.csv")
    assert 5 < len(rows) < model._stats_window_size  # the buffer of the last dump holds every episode
    acc, tags = _scalars(tmp_path / "tb")
    assert {"rollout/rk/task", "rollout/rk/alive", "rollout/ep_env_rew_mean", "rollout/ep_rew_mean"} <= set(tags)
    # logged at every step SB3 logged ep_rew_mean (two episodes ending in one step give SB3 two dumps at
    # the same step; the callback's values go out with the first)
    steps = {e.step for e in acc.Scalars("rollout/ep_rew_mean")}
    for term in ("task", "alive"):
        assert {e.step for e in acc.Scalars(f"rollout/rk/{term}")} == steps
    # the last logged value is the mean over the Monitor's episodes, per term and for the env return
    for tag, col in (("rollout/rk/task", "rk/return/task"), ("rollout/rk/alive", "rk/return/alive"),
                     ("rollout/ep_env_rew_mean", "rk/env_return")):
        want = np.mean([float(row[col]) for row in rows])
        assert acc.Scalars(tag)[-1].value == pytest.approx(want, rel=1e-6)
    # and SB3's own ep_rew_mean agrees with the terms: r = task + 0.1 * alive per episode
    last = {t: acc.Scalars(f"rollout/rk/{t}")[-1].value for t in ("task", "alive")}
    assert acc.Scalars("rollout/ep_rew_mean")[-1].value == pytest.approx(last["task"] + 0.1 * last["alive"], rel=1e-4)
