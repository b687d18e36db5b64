"""The bonus must reach PPO's advantages through GAE (research notes §6.1, protocol B5-i).

SB3 computes GAE before ``on_rollout_end``; the callback must add the intrinsic reward
to ``rollout_buffer.rewards`` and recompute GAE.  We snapshot the buffer inside the
callback and compare with an independent numpy GAE.
"""

import numpy as np
import pytest
import torch
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.env_util import make_vec_env

from rewardkit.core.errors import ConfigError
from rewardkit.explore.counts import CountBonus
from rewardkit.explore.sb3 import IntrinsicRewardCallback
from xi_corridor import Corridor

torch.set_num_threads(1)


def numpy_gae(rewards, values, starts, last_values, last_dones, gamma, lam):
    """From-scratch GAE (Schulman et al. 2016) in SB3's episode-start convention."""
    T, n = rewards.shape
    adv = np.zeros((T, n))
    running = np.zeros(n)
    for t in range(T - 1, -1, -1):
        if t == T - 1:
            nonterminal, v_next = 1.0 - last_dones.astype(float), last_values
        else:
            nonterminal, v_next = 1.0 - starts[t + 1], values[t + 1]
        delta = rewards[t] + gamma * v_next * nonterminal - values[t]
        running = delta + gamma * lam * nonterminal * running
        adv[t] = running
    return adv


class Snapshot(IntrinsicRewardCallback):
    """Records the buffer right after the callback's GAE recomputation."""

    snaps: list

    def _on_rollout_end(self):
        super()._on_rollout_end()
        rb = self.model.rollout_buffer
        self.snaps.append(dict(
            rewards=rb.rewards.astype(np.float64).copy(), values=rb.values.astype(np.float64).copy(),
            starts=rb.episode_starts.astype(np.float64).copy(), adv=rb.advantages.copy(),
            returns=rb.returns.copy(),
            last_values=self.locals["values"].detach().numpy().ravel().astype(np.float64),
            last_dones=np.asarray(self.locals["dones"]).copy(), **{k: v.copy() for k, v in self.last_rollout.items()
                                                                  if isinstance(v, np.ndarray)}))


@pytest.mark.parametrize("algo", [PPO, A2C])
def test_advantages_equal_numpy_gae_on_extrinsic_plus_intrinsic(algo):
    venv = make_vec_env(lambda: Corridor(8, 12), n_envs=3, seed=0)  # short episodes: many boundaries
    cb = Snapshot(CountBonus(mode="product", key_fn="obs_hash"), coef=0.5)
    cb.snaps = []
    kw = dict(n_steps=40, gamma=0.97, gae_lambda=0.9, seed=0)
    if algo is PPO:
        kw.update(batch_size=60, n_epochs=1)
    model = algo("MlpPolicy", venv, **kw)
    model.learn(3 * 40 * 3, callback=cb)
    assert len(cb.snaps) == 3
    for s in cb.snaps:
        assert s["starts"][1:].sum() > 0, "the rollout must cross episode boundaries"
        # the buffer now holds r_ext + r_int
        np.testing.assert_allclose(s["rewards"], s["extrinsic"] + s["intrinsic"], atol=1e-6)
        assert np.abs(s["intrinsic"]).sum() > 0
        want = numpy_gae(s["rewards"], s["values"], s["starts"], s["last_values"], s["last_dones"],
                         kw["gamma"], kw["gae_lambda"])
        assert np.max(np.abs(s["adv"] - want)) < 1e-6
        np.testing.assert_allclose(s["returns"], want + s["values"], atol=1e-6)
        # ... and differ from the extrinsic-only advantages SB3 had computed before the callback
        ext_only = numpy_gae(s["extrinsic"].astype(np.float64), s["values"], s["starts"], s["last_values"],
                             s["last_dones"], kw["gamma"], kw["gae_lambda"])
        assert np.max(np.abs(s["advantages_before"] - ext_only)) < 1e-6
        assert np.max(np.abs(s["adv"] - ext_only)) > 1e-2


def test_terminal_observation_is_next_obs_at_episode_end():
    venv = make_vec_env(lambda: Corridor(4, 6), n_envs=2, seed=1)
    cb = IntrinsicRewardCallback(CountBonus(mode="global", key_fn="obs_hash"), coef=0.1)
    PPO("MlpPolicy", venv, n_steps=30, batch_size=60, n_epochs=1, seed=1).learn(60, callback=cb)
    b = cb.last_rollout["batch"]
    done = b["terminated"] | b["truncated"]
    assert done.any() and b["truncated"].any()
    t, e = np.argwhere(done)[0]
    # the stored next obs of a finished episode is never the reset obs (cell 0)
    reached = np.argmax(b["next_obs"][t, e])
    assert b["next_obs"][t, e].sum() == 1.0
    if b["terminated"][t, e]:
        assert reached == 3
    # and elsewhere next_obs[t] == obs[t+1]
    ok = ~done[:-1]
    np.testing.assert_array_equal(b["next_obs"][:-1][ok], b["obs"][1:][ok])


def test_callback_rejects_bad_config_and_off_policy():
    with pytest.raises(ConfigError, match="bonus"):
        IntrinsicRewardCallback(object())
    with pytest.raises(ConfigError, match="normalize"):
        IntrinsicRewardCallback(CountBonus(), normalize="minmax")
    model = DQN("MlpPolicy", make_vec_env(lambda: Corridor(4, 6), n_envs=1), learning_starts=10)
    with pytest.raises(ConfigError, match="rollout buffer"):
        model.learn(20, callback=IntrinsicRewardCallback(CountBonus()))


def test_per_term_logging_reaches_the_sb3_logger(tmp_path):
    from stable_baselines3.common.logger import configure

    from rewardkit.explore.combine import Sum

    bonus = Sum({"glob": CountBonus(mode="global", key_fn="obs_hash"),
                 "first": CountBonus(mode="first_visit", key_fn="obs_hash")}, name="mix")
    venv = make_vec_env(lambda: Corridor(8, 12), n_envs=2, seed=0)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=1, seed=0)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(128, callback=IntrinsicRewardCallback(bonus, coef=0.1, normalize="return"))
    import csv
    rows = list(csv.DictReader(open(tmp_path / "progress.csv")))
    assert len(rows) == 2
    last = rows[-1]
    raw, scaled, share = (float(last[f"rk/mix/{k}"]) for k in ("raw_mean", "scaled_mean", "share"))
    assert raw > 0 and scaled > 0 and 0 < share <= 1
    parts = [float(last[f"rk/mix/{m}/share_of_bonus"]) for m in ("glob", "first")]
    assert abs(sum(parts) - 1) < 1e-6 and min(parts) > 0
    assert float(last["rk/mix/glob/raw_mean"]) > 0


def test_env_rewards_exclude_sb3_timeout_bootstrap():
    venv = make_vec_env(lambda: Corridor(30, 5), n_envs=2, seed=0)  # every episode is truncated, reward 0
    cb = IntrinsicRewardCallback(CountBonus(mode="global", key_fn="obs_hash"), coef=0.1)
    PPO("MlpPolicy", venv, n_steps=20, batch_size=40, n_epochs=1, seed=0).learn(40, callback=cb)
    lr = cb.last_rollout
    trunc = lr["batch"]["truncated"]
    assert trunc.any()
    assert (lr["env_rewards"] == 0).all()  # the corridor pays nothing here
    assert np.abs(lr["extrinsic"][trunc]).max() > 0  # SB3 added gamma * V(terminal) to the buffer
