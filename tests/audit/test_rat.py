"""RAT (#23): a bounded targeted attack steers a CartPole victim into the intention policy's behaviour."""

import sys
from pathlib import Path

import numpy as np
import pytest

from rewardkit.audit.rat import LinearVictim, fit_preference_reward, targeted_perturbation
from rewardkit.core.errors import ConfigError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "audit"))
from rat_cartpole import run


def test_targeted_attack_induces_the_target_behaviour_more_than_a_reward_minimising_one():
    r = run(epsilon=0.05, episodes=6)
    assert r["targeted (RAT)"][0] > r["reward-minimising"][0] + 0.3
    assert r["targeted (RAT)"][0] > r["no attack"][0] + 0.3


def test_perturbation_respects_the_budget_and_flips_the_victim_when_it_can():
    v = LinearVictim(np.array([0.0, 0.0, 1.0, 1.0]))
    obs = np.array([0.0, 0.0, 0.02, 0.03])           # logit 0.05 > 0: the victim pushes right
    d = targeted_perturbation(v, obs, target_action=0, epsilon=0.05)
    assert np.abs(d).max() <= 0.05 and v.act(obs) == 1 and v.act(obs + d) == 0
    with pytest.raises(ConfigError):
        targeted_perturbation(v, obs, 0, -1.0)


def test_preference_reward_recovers_the_teacher_direction():
    rng = np.random.default_rng(0)
    segs_a = [rng.normal(size=(5, 2)) for _ in range(300)]
    segs_b = [rng.normal(size=(5, 2)) for _ in range(300)]
    labels = [float(a[:, 0].sum() > b[:, 0].sum()) for a, b in zip(segs_a, segs_b, strict=True)]
    theta = fit_preference_reward(segs_a, segs_b, labels, lambda o: np.atleast_2d(o))
    assert theta[0] > 5 * abs(theta[1])
