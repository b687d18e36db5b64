"""Gymnasium and SB3 citizenship of every rewardkit env wrapper (issue 10, item 7; issue 9, item 2).

* Gymnasium's ``check_env`` and SB3's ``check_env`` pass on every single-env wrapper,
  over real envs (CartPole, MiniGrid); ``gym.make(env.spec)`` rebuilds the wrapped env.
* A stateful reward (running normalisation, global counts) changes between two
  episodes with the same seed by design: Gymnasium's step-determinism check fails on
  it - and only that check - and passes once the state is frozen.
* One final-observation policy: where a vector layout carries the final observation
  in the info and it is missing, every wrapper raises a BatchError naming the field.
"""

import warnings

import gymnasium as gym
import minigrid  # noqa: F401
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper

from _integration_terms import EpisodeStep
from rewardkit.core import BatchError, Normalized, RewardTerm, build_reward
from rewardkit.core.builtin import Alive
from rewardkit.explore.counts import CountBonus
from rewardkit.explore.wrappers import AgentPositionInfo, BonusVecEnvWrapper, BonusVectorWrapper, BonusWrapper
from rewardkit.integrations.gymnasium import RewardWrapper, VectorRewardWrapper
from rewardkit.integrations.minigrid import DoorKeyShaping, FullGridObs, MiniGridStateInfo
from rewardkit.integrations.sb3 import VecRewardWrapper
from rewardkit.credit.redistribute import DelayedRewardWrapper
from rewardkit.credit.walk import CoinWalk  # noqa: F401  (registers rewardkit/CoinWalk-v0)
from rewardkit.spec.multi_objective import LinearRewardWrapper
from rewardkit.spec.office import OFFICE_T3
from rewardkit.spec.reward_machine import RewardMachine, RewardMachineWrapper
from rewardkit.tabular.envs import register_envs

register_envs()


class TwoObjectives(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """A two-objective CartPole (pole reward, and -0.1 per step), for the MO scalariser."""

    def __init__(self, env):
        gym.utils.RecordConstructorArgs.__init__(self)
        super().__init__(env)

    def step(self, action):
        obs, r, term, trunc, info = self.env.step(action)
        return obs, np.array([r, -0.1]), term, trunc, info

TASK = {"terms": [{"type": "env_reward", "name": "task"}, {"type": "alive", "weight": 0.1}]}


def _grid(env_id="MiniGrid-DoorKey-5x5-v0"):
    return FullGridObs(gym.make(env_id))


WRAPPERS = {
    "RewardWrapper/CartPole": lambda: RewardWrapper(gym.make("CartPole-v1"), build_reward(TASK)),
    "RewardWrapper/DoorKey": lambda: RewardWrapper(
        MiniGridStateInfo(_grid()), build_reward({"terms": [{"type": "env_reward"}]}) + DoorKeyShaping()),
    "RewardWrapper/frozen-normalised": lambda: RewardWrapper(gym.make("CartPole-v1"),
                                                             Normalized(Alive(), statistic="return", frozen=True)),
    "MiniGridStateInfo": lambda: MiniGridStateInfo(_grid()),
    "FullGridObs": lambda: _grid("MiniGrid-Empty-5x5-v0"),
    "AgentPositionInfo": lambda: AgentPositionInfo(_grid(), direction=True, carrying=True, grid=True),
    "BonusWrapper/CartPole-episodic": lambda: BonusWrapper(gym.make("CartPole-v1"), CountBonus(mode="episodic"), 0.1),
    "BonusWrapper/MiniGrid-keys": lambda: BonusWrapper(AgentPositionInfo(_grid()), CountBonus(mode="episodic"),
                                                       0.1, key_info="agent_pos"),
    "LinearRewardWrapper/two-objective": lambda: LinearRewardWrapper(TwoObjectives(gym.make("CartPole-v1")),
                                                                     [1.0, 0.5]),
    "RewardMachineWrapper/Office": lambda: RewardMachineWrapper(gym.make("rewardkit/Office-v0"),
                                                                RewardMachine.from_text(OFFICE_T3)),
    "DelayedRewardWrapper/CartPole": lambda: DelayedRewardWrapper(gym.make("CartPole-v1")),
    "TabularEnv/Chain": lambda: gym.make("rewardkit/Chain-v0"),
    "OfficeWorld": lambda: gym.make("rewardkit/Office-v0"),
    "CoinWalk": lambda: gym.make("rewardkit/CoinWalk-v0"),
}


@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_gymnasium_check_env_passes(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the env is wrapped" advice, not a failure
        gym_check_env(WRAPPERS[name](), skip_render_check=True)


@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_sb3_check_env_passes(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MiniGrid grid "image" bounds advice, not a failure
        sb3_check_env(WRAPPERS[name]())


def _rollout(env, seed=5, steps=30):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(0)
    out = [np.asarray(obs, dtype=float).ravel()]
    for _ in range(steps):
        obs, r, term, trunc, _ = env.step(int(rng.integers(env.action_space.n)))
        out.append(np.r_[np.asarray(obs, dtype=float).ravel(), r, term, trunc])
        if term or trunc:
            obs, _ = env.reset()
    return np.concatenate(out)


@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_gym_make_spec_round_trips(name):
    env = WRAPPERS[name]()
    again = gym.make(env.spec)
    assert [type(w).__name__ for w in _stack(again)] == [type(w).__name__ for w in _stack(env)]
    np.testing.assert_allclose(_rollout(again), _rollout(WRAPPERS[name]()))
    # documented: Gymnasium passes the recorded reward (or bonus) object itself
    if isinstance(env, BonusWrapper):
        assert _find(again, BonusWrapper).bonus is env.bonus
    elif isinstance(env, RewardWrapper):
        assert _find(again, RewardWrapper).reward_fn is env.reward_fn


def _stack(env):
    out = []
    while isinstance(env, gym.Wrapper):
        out.append(env)
        env = env.env
    return out


def _find(env, cls):
    return next(w for w in _stack(env) if isinstance(w, cls))


STATEFUL = {
    "running return normalisation": (lambda frozen: RewardWrapper(
        gym.make("CartPole-v1"), Normalized(build_reward(TASK), statistic="return", frozen=frozen))),
    "global count bonus": (lambda frozen: BonusWrapper(gym.make("CartPole-v1"),
                                                       CountBonus(mode="global" if not frozen else "episodic"), 1.0)),
}


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_stateful_reward_fails_only_the_determinism_check(name):
    """Same seed, same action, second episode: a learning reward has moved on, so the rewards differ."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(AssertionError, match="Deterministic step rewards are not equivalent"):
            gym_check_env(STATEFUL[name](False), skip_render_check=True)
        gym_check_env(STATEFUL[name](True), skip_render_check=True)   # frozen / episodic state: passes
        sb3_check_env(STATEFUL[name](False))                           # SB3 does not check determinism


# ----------------------------------------------------------------- final-observation policy
class DropTerminalObs(VecEnvWrapper):
    """A real SB3 VecEnv wrapper that loses ``terminal_observation`` (as a hand-written VecEnv might)."""

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        obs, r, d, infos = self.venv.step_wait()
        for inf in infos:
            inf.pop("terminal_observation", None)
        return obs, r, d, infos


class DropFinalObs(gym.vector.VectorWrapper):
    """A real Gymnasium vector wrapper that loses ``final_obs`` in SAME_STEP mode."""

    def step(self, actions):
        obs, r, term, trunc, info = self.env.step(actions)
        info = {k: v for k, v in info.items() if k not in ("final_obs", "_final_obs")}
        return obs, r, term, trunc, info


def _sb3(short):
    venv = DummyVecEnv([lambda: gym.make("CartPole-v1", max_episode_steps=3)] * 2)
    return DropTerminalObs(venv) if short else venv


def _same_step(drop):
    envs = gym.make_vec("CartPole-v1", num_envs=2, max_episode_steps=3, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP})
    return DropFinalObs(envs) if drop else envs


FINAL_OBS = {
    "VecRewardWrapper": (lambda drop: VecRewardWrapper(_sb3(drop), build_reward(TASK)), "terminal_observation"),
    "BonusVecEnvWrapper": (lambda drop: BonusVecEnvWrapper(_sb3(drop), CountBonus(mode="global"), 0.1),
                           "terminal_observation"),
    "VectorRewardWrapper": (lambda drop: VectorRewardWrapper(_same_step(drop), build_reward(TASK)), "final_obs"),
    "BonusVectorWrapper": (lambda drop: BonusVectorWrapper(_same_step(drop), CountBonus(mode="global"), 0.1),
                           "final_obs"),
}


def _run(env, steps=4):
    if isinstance(env, VecEnvWrapper):
        env.reset()
        for _ in range(steps):
            env.step(np.zeros(2, dtype=np.int64))
    else:
        env.reset(seed=0)
        for _ in range(steps):
            env.step(np.zeros(2, dtype=np.int64))


@pytest.mark.parametrize("name", sorted(FINAL_OBS))
def test_missing_final_observation_raises_naming_the_field(name):
    make, field = FINAL_OBS[name]
    _run(make(False))  # the real layouts carry it: fine
    with pytest.raises(BatchError, match=field):
        _run(make(True))


class Recorder(RewardTerm):
    batch_kind = "transition"

    def __init__(self):
        super().__init__("rec")
        self.seen = []

    def compute(self, b):
        self.seen.append((np.array(b.next_obs, copy=True), b.env_index.copy(), [dict(i) for i in b.info]))
        return np.zeros(len(b))


def test_vector_terms_get_each_rows_info_and_the_final_info_at_an_episode_end():
    rec = Recorder()
    envs = VectorRewardWrapper(gym.vector.SyncVectorEnv([lambda: AgentPositionInfo(gym.make("MiniGrid-Empty-5x5-v0",
                                                                                              max_steps=2))] * 2,
                                                        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP), rec)
    envs.reset(seed=0)
    envs.step(np.array([2, 1]))  # forward; turn right
    _, _, term, trunc, info2 = envs.step(np.array([2, 2]))  # the time limit ends both episodes
    assert (term | trunc).all()
    assert [i["agent_pos"] for i in rec.seen[0][2]] == [(2, 1), (1, 1)]
    # at the episode end the terms see the final step's info, not the reset's
    assert [i["agent_pos"] for i in rec.seen[1][2]] == list(info2["final_info"]["agent_pos"])
    assert rec.seen[1][2][0]["agent_pos"] == (3, 1)


def test_disabled_autoreset_resets_only_the_masked_rows():
    envs = VectorRewardWrapper(gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1", max_episode_steps=2),
                                                         lambda: gym.make("CartPole-v1", max_episode_steps=4)],
                                                        autoreset_mode=gym.vector.AutoresetMode.DISABLED),
                               EpisodeStep())
    envs.reset(seed=0)
    seq = [envs.step(np.zeros(2, dtype=np.int64))[1].tolist() for _ in range(2)]  # env 0 ends (time limit)
    envs.reset(options={"reset_mask": np.array([True, False])})                 # only env 0 starts again
    for _ in range(2):
        _, r, term, trunc, info = envs.step(np.zeros(2, dtype=np.int64))
        seq.append(r.tolist())
    assert seq == [[1, 1], [2, 2], [1, 3], [2, 4]]
    assert (term | trunc).all() and info["rk/length"].tolist() == [2, 4]
