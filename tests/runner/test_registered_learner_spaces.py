"""The env check of an experiment applies PPO's space rules to ppo only: a registered learner checks its own."""

from __future__ import annotations

import pytest

from rewardkit.core import ConfigError
from rewardkit.core.registry import LEARNERS
from rewardkit.runner.learners import register_learner
from rewardkit.runner.spec import parse_spec

NAME = "test_dict_obs_learner"


@pytest.fixture
def dict_obs_learner():
    register_learner(NAME, lambda config, reward, on_eval, on_progress: 0)
    yield NAME
    LEARNERS.unregister(NAME)


def _spec(learner):
    return {"env": {"id": "MiniGrid-Empty-5x5-v0"}, "learner": learner, "budget": {"steps": 16},
            "eval": {"every": 16, "episodes": 1}, "variants": {"v": {"reward": {"terms": [{"type": "env_reward"}]}}}}


def test_registered_learner_accepts_a_dict_observation_env(dict_obs_learner):
    spec = parse_spec(_spec({"type": dict_obs_learner}), check_env=True)  # builds the env once, no space rule
    assert spec.env["id"] == "MiniGrid-Empty-5x5-v0" and spec.learner["type"] == dict_obs_learner


def test_ppo_still_rejects_a_dict_observation_env():
    with pytest.raises(ConfigError, match=r"^env.wrappers: observation space is Dict"):
        parse_spec(_spec({"type": "ppo", "params": {"n_steps": 8, "batch_size": 8}}), check_env=True)
