"""core.seeding: local generators; every trainer that takes a seed leaves the caller's torch RNG alone."""

import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

from rewardkit.core import ConfigError, seeded


def test_seeded_is_reproducible_and_restores_the_callers_state():
    torch.manual_seed(123)
    before_seed, before_state = torch.initial_seed(), torch.get_rng_state().clone()
    with seeded(5) as rng:
        a, x = torch.rand(3), rng.random(3)
        assert torch.initial_seed() == 5
    assert torch.initial_seed() == before_seed and torch.equal(torch.get_rng_state(), before_state)
    with seeded(5) as rng:
        b, y = torch.rand(3), rng.random(3)
    assert torch.equal(a, b) and np.array_equal(x, y)
    with seeded(6) as rng:
        assert not torch.equal(a, torch.rand(3)) and not np.array_equal(x, rng.random(3))


def test_seeded_restores_even_if_the_block_raises():
    state = torch.get_rng_state().clone()
    with pytest.raises(RuntimeError), seeded(1):
        torch.rand(4)
        raise RuntimeError("boom")
    assert torch.equal(torch.get_rng_state(), state)


def test_numpy_only_and_bad_seed():
    state = torch.get_rng_state().clone()
    with seeded(3, torch=False) as rng:
        torch.rand(2)  # not forked: advances the global state
    assert isinstance(rng, np.random.Generator) and not torch.equal(torch.get_rng_state(), state)
    for bad in (-1, 1.5, "0", True):
        with pytest.raises(ConfigError, match="seed"):
            with seeded(bad):
                pass


# ------------------------------------------------------------------ the trainers
def run_barfi(seed):
    from rewardkit.shaping.barfi import BARFI
    from rewardkit.tabular import TabularEnv, barfi_gridworld

    w = barfi_gridworld(size=3)
    agent = BARFI(TabularEnv(w.mdp, max_steps=10), w.aux_fn("good"), variant="barfi", episodes_per_update=2,
                  seed=seed)
    agent.fit(n_updates=3)
    return np.concatenate([agent.policy_table().ravel(), agent.aux_weights()])


def run_rudder_lstm(seed):
    from rewardkit.credit.decomposition import RudderLSTM

    rng = np.random.default_rng(0)
    eps = [rng.normal(size=(6, 3)) for _ in range(8)]
    model = RudderLSTM(3, hidden=4, epochs=5, batch=4, seed=seed).fit(eps, [float(e[:, 0].sum()) for e in eps])
    return model.redistribute(eps[0])


def run_bt(seed):
    from rewardkit.learn.bt import fit_bt
    from rewardkit.learn.preferences import linear_preference_task

    pairs, _, _ = linear_preference_task(64, dim=4, seed=0)
    model = fit_bt(pairs, hidden=(8,), epochs=3, seed=seed)
    return np.concatenate([w.ravel() for w in model.weights])


def run_adversarial(seed):
    from rewardkit.learn import fit_discriminator

    rng = np.random.default_rng(0)
    eye = np.eye(4)
    data = {k: {"obs": eye[rng.integers(4, size=32)], "action": eye[:2][rng.integers(2, size=32)],
                "next_obs": eye[rng.integers(4, size=32)]} for k in ("expert", "policy")}
    model = fit_discriminator("airl", data["expert"], data["policy"], steps=10, seed=seed)
    return np.concatenate([w.ravel() for w in model.g.weights + model.h.weights])


def run_vpl(seed):
    from rewardkit.learn import fit_vpl, user_groups_task

    pairs, _, _, _ = user_groups_task(6, 20, dim=4, seed=0)
    model = fit_vpl(pairs, steps=5, seed=seed)
    return np.concatenate([model.A.ravel(), *(w.ravel() for w, _ in model.features)])


def run_ppo(seed):
    from rewardkit.explore.ppo import PPOConfig, train

    cfg = PPOConfig(num_envs=2, num_steps=16, total_timesteps=32, num_minibatches=2, update_epochs=1, hidden=8,
                    seed=seed)
    out = train(lambda: gym.make("CartPole-v1"), cfg)
    return torch.cat([p.detach().ravel() for p in out["agent"].parameters()]).numpy()


TRAINERS = {"shaping.BARFI": run_barfi, "credit.RudderLSTM": run_rudder_lstm, "learn.fit_bt": run_bt,
            "learn.fit_discriminator": run_adversarial, "learn.fit_vpl": run_vpl, "explore.ppo.train": run_ppo}


@pytest.mark.parametrize("name", sorted(TRAINERS))
def test_trainer_is_reproducible_and_leaves_the_callers_torch_rng_alone(name):
    run = TRAINERS[name]
    torch.manual_seed(2024)
    torch.rand(7)  # the caller's stream is somewhere in the middle
    seed0, state0 = torch.initial_seed(), torch.get_rng_state().clone()
    a = run(11)
    assert torch.initial_seed() == seed0, f"{name} re-seeded the caller's torch RNG"
    assert torch.equal(torch.get_rng_state(), state0), f"{name} moved the caller's torch RNG"
    torch.rand(5)  # a different caller state must not change the result
    b = run(11)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, run(12)), f"{name} ignores its seed"


def test_core_does_not_import_torch():
    import subprocess

    code = "import sys, rewardkit.core; from rewardkit.core import seeded; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
