"""Episode-boundary semantics of the bonus wrappers (research notes §5.1, §6.1).

Each wrapper must show the bonus module exactly the real transitions – never
gymnasium's NEXT_STEP pseudo-transition (terminal obs -> reset obs), and with the
true final observation as ``next_obs`` at an episode end.  We replay the same action
sequence on plain single envs, count the true next observations by hand and compare.
"""

from collections import Counter

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv
from stable_baselines3.common.monitor import Monitor

from rewardkit.core.errors import ConfigError
from rewardkit.explore.counts import CountBonus, obs_hash
from rewardkit.explore.wrappers import (INTRINSIC_RETURN, INTRINSIC_SHARE, AgentPositionInfo, BonusVecEnvWrapper,
                                        BonusVectorWrapper, BonusWrapper, CoverageTracker, visitation_heatmap_png)
from xi_corridor import Corridor

N_ENVS, STEPS = 3, 40


def _actions():
    return np.random.default_rng(0).integers(0, 2, size=(STEPS, N_ENVS))


def _true_counts():
    """Counts of the true s_{t+1} of every real transition, from single envs."""
    envs = [Corridor(3, 4) for _ in range(N_ENVS)]
    for e in envs:
        e.reset()
    c: Counter = Counter()
    n_real = 0
    for acts in _actions():
        for env, a in zip(envs, acts, strict=False):
            o, _r, term, trunc, _ = env.step(a)
            c[int(obs_hash(o[None])[0])] += 1
            n_real += 1
            if term or trunc:
                env.reset()
    return c, n_real


@pytest.mark.parametrize("mode", [gym.vector.AutoresetMode.NEXT_STEP, gym.vector.AutoresetMode.SAME_STEP])
def test_vector_wrapper_sees_exactly_the_real_transitions(mode):
    want, n_real = _true_counts()
    bonus = CountBonus(mode="global", key_fn="obs_hash")
    venv = BonusVectorWrapper(gym.vector.SyncVectorEnv([lambda: Corridor(3, 4)] * N_ENVS, autoreset_mode=mode),
                              bonus, coef=1.0)
    venv.reset(seed=0)
    ends = pseudo = 0
    rows_before = np.zeros(N_ENVS, dtype=bool)  # NEXT_STEP: the step after a done is the reset pseudo-step
    for acts in _actions():
        pseudo += int(rows_before.sum())
        _, r, term, trunc, infos = venv.step(acts)
        if mode == gym.vector.AutoresetMode.NEXT_STEP:
            assert (r[rows_before] == 0.0).all()  # pseudo-transitions pay nothing
        done = term | trunc
        rows_before = done.copy() if mode == gym.vector.AutoresetMode.NEXT_STEP else np.zeros(N_ENVS, dtype=bool)
        if done.any():
            ends += int(done.sum())
            assert infos["_" + INTRINSIC_RETURN][done].all()
            assert (infos[INTRINSIC_RETURN][done] > 0).all()
            assert ((0 < infos[INTRINSIC_SHARE][done]) & (infos[INTRINSIC_SHARE][done] <= 1)).all()
    got = Counter(bonus.global_counts)
    real_seen = bonus.global_step
    if mode == gym.vector.AutoresetMode.SAME_STEP:
        assert got == want and real_seen == n_real
    else:  # NEXT_STEP spends one vector step per episode end on the reset: those rows are masked
        assert pseudo > 0 and real_seen == STEPS * N_ENVS - pseudo == sum(got.values())
        # the same env, stepped by hand with NEXT_STEP's schedule, gives the same counts
        envs = [Corridor(3, 4) for _ in range(N_ENVS)]
        for e in envs:
            e.reset()
        c, wait = Counter(), [False] * N_ENVS
        for acts in _actions():
            for i, (env, a) in enumerate(zip(envs, acts, strict=False)):
                if wait[i]:
                    env.reset()
                    wait[i] = False
                    continue
                o, _, term, trunc, _ = env.step(a)
                c[int(obs_hash(o[None])[0])] += 1
                wait[i] = term or trunc
        assert got == c


def test_sb3_vecenv_wrapper_uses_terminal_observation_and_keeps_monitor_extrinsic():
    want, n_real = _true_counts()
    bonus = CountBonus(mode="global", key_fn="obs_hash")
    venv = BonusVecEnvWrapper(make_vec_env(lambda: Corridor(3, 4), n_envs=N_ENVS), bonus, coef=0.25)
    venv.reset()
    monitor_returns, bonus_returns = [], []
    for acts in _actions():
        _, _r, dones, infos = venv.step(acts)
        for d, inf in zip(dones, infos, strict=False):
            if d:
                monitor_returns.append(inf["episode"]["r"])
                bonus_returns.append(inf[INTRINSIC_RETURN])
    assert Counter(bonus.global_counts) == want and bonus.global_step == n_real
    assert set(monitor_returns) <= {0.0, 1.0}  # Monitor sits inside: extrinsic only
    assert min(bonus_returns) > 0


def test_single_env_wrappers_share_one_bonus_with_distinct_indices():
    want, n_real = _true_counts()
    bonus = CountBonus(mode="product", key_fn="obs_hash")
    venv = DummyVecEnv([lambda: BonusWrapper(Monitor(Corridor(3, 4)), bonus, coef=1.0)] * N_ENVS)
    idx = sorted(venv.get_attr("env_index"))
    assert idx == list(range(N_ENVS))
    venv.reset()
    for acts in _actions():
        venv.step(acts)
    assert Counter(bonus.global_counts) == want and bonus.global_step == n_real


def test_count_keys_from_info_and_coverage():
    import minigrid  # noqa: F401
    env = BonusWrapper(AgentPositionInfo(gym.make("MiniGrid-Empty-5x5-v0")),
                       CountBonus(mode="product", key_fn="obs_hash"), coef=1.0, key_info="agent_pos")
    env.reset(seed=0)
    cov = CoverageTracker()
    rewards = []
    for a in [2, 2, 1, 2, 1, 1, 2]:  # forward, forward, right, forward, turn, turn, forward (back)
        _, r, _, _, info = env.step(a)
        cov.update([info["agent_pos"]])
        rewards.append(r)
    # turning in place revisits the cell -> 0; moving to a new cell -> 1/sqrt(1); first cells are new
    assert rewards[0] == 1.0 and rewards[2] == 0.0 and rewards[6] == 0.0
    assert cov.unique == 3  # (2,1), (3,1), (3,2)
    g = cov.grid()
    assert g.sum() == 7 and g[3, 2] == 3 and g[3, 1] == 3
    png = visitation_heatmap_png(g, title="Empty-5x5")
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    with pytest.raises(ConfigError, match="counts"):
        visitation_heatmap_png(np.zeros(3))
    with pytest.raises(ConfigError, match="agent_pos"):
        e = BonusWrapper(gym.make("CartPole-v1"), CountBonus(), key_info="agent_pos")
        e.reset(seed=0)
        e.step(0)


def test_wrappers_reject_bad_arguments():
    with pytest.raises(ConfigError, match="bonus"):
        BonusWrapper(gym.make("CartPole-v1"), "rnd")
    with pytest.raises(ConfigError, match="coef"):
        BonusWrapper(gym.make("CartPole-v1"), CountBonus(), coef="big")


def test_learned_bonus_is_trained_every_update_every_transitions():
    from rewardkit.explore.rnd import RND

    rnd = RND(obs_shape=(3,), seed=0)
    venv = BonusVecEnvWrapper(make_vec_env(lambda: Corridor(3, 4), n_envs=N_ENVS), rnd, coef=0.1, update_every=30)
    venv.reset()
    start = rnd.raw_bonus(np.eye(3, dtype=np.float32)).mean()
    for acts in _actions():
        venv.step(acts)
    assert "rnd_loss" in venv.bonus_term.last_losses
    assert rnd.raw_bonus(np.eye(3, dtype=np.float32)).mean() < start  # the predictor learned the 3 states
