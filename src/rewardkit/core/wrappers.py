"""Gymnasium wrappers that apply a rewardkit reward: the one wrapper family.

* :class:`RewardWrapper` - a single :class:`gymnasium.Env`;
* :class:`VectorRewardWrapper` - a :class:`gymnasium.vector.VectorEnv` (``NEXT_STEP``,
  ``SAME_STEP`` and ``DISABLED`` autoreset modes);
* SB3's ``VecEnv`` form is :class:`rewardkit.core.sb3_wrappers.VecRewardWrapper`.

They live in ``core`` so capability packages can build on them (the exploration
wrappers of :mod:`rewardkit.explore.wrappers` are these wrappers with a bonus term);
users import them from :mod:`rewardkit.integrations.gymnasium` /
:mod:`rewardkit.integrations.sb3`.  All of them are thin shells around
:class:`~rewardkit.core.vecstep.StepScorer`.

Semantics (the same for every form):

* The reward returned to the agent is the composed total :math:`r(b)` of the
  transition ``(s, a, s', r_env, terminated, truncated, info)``.
* ``info["rk/env_reward"]`` holds the *original* environment reward of the step.
  If it is already present (an inner rewardkit wrapper wrote it) it is kept, so the
  original return does not depend on how many reward wrappers are stacked or in
  which order.
* ``info["rk/terms"]`` holds each term's value for the step.
* When an episode ends (``terminated or truncated``) ``info`` also holds
  ``rk/env_return`` (original return), ``rk/return`` (composed return),
  ``rk/length`` and ``rk/return/<term>`` for every term.  Put SB3's ``Monitor``
  *outside* the wrapper with ``info_keywords=monitor_keywords(reward)`` and these
  land in ``info["episode"]`` and in the Monitor CSV without extra code.
* ``terminated`` and ``truncated`` pass through unchanged and reach the terms
  separately: a term such as potential-based shaping sets :math:`\\Phi(s')=0`
  only on termination, never on truncation (a time limit is not an absorbing
  state).  Stateful terms are ``reset`` for an env when its episode ends and on ``reset()``.
* **Final observation.**  At an episode end the terms see the true final
  observation.  Single env: the observation ``step`` returned.  Gymnasium vector env:
  ``NEXT_STEP`` and ``DISABLED`` return it in ``obs``; ``SAME_STEP`` in
  ``info["final_obs"]`` (count keys and other info from ``info["final_info"]``).  SB3:
  ``info["terminal_observation"]``.  Where the layout puts it in the info and it is
  missing, the step raises :class:`~rewardkit.core.errors.BatchError` naming the field
  (see :mod:`rewardkit.core.vecstep`) - it never falls back to the reset observation.
* Gymnasium's ``NEXT_STEP`` pseudo-transition (the step after a done: reset
  observation, reward 0, action ignored) is not shown to the terms and pays 0.

Gymnasium citizenship: :class:`RewardWrapper` inherits
:class:`gymnasium.utils.RecordConstructorArgs`, so ``gym.make(env.spec)`` rebuilds
the wrapped env.  Gymnasium hands the recorded arguments over as they are, so the
rebuilt wrapper holds the *same* reward object (as if one reward were passed to two
wrappers); for independent state build a fresh reward (e.g. from its config) and wrap
again.  The wrappers pass Gymnasium's and SB3's ``check_env``.  A *stateful* reward
(running normalisation, global counts, a learned bonus) changes between two episodes
with the same seed by design - it is learning - so Gymnasium's step-determinism check
(same seed, same action, same reward) fails for it and only for it; with its state
frozen (``Normalized(..., frozen=True)``, an episodic instead of a global count) it
passes.  ``tests/integrations/test_citizenship.py`` shows both.
"""

from __future__ import annotations

from typing import Any

from .extras import missing_extra

try:
    import gymnasium as gym
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "env") from None
import numpy as np

from .term import RewardTerm
from .vecstep import (ENV_REWARD, STEP_TERMS, EpisodeExtra, StepScorer, as_reward, gym_final_obs, monitor_keywords,
                      stack_obs, vector_info_rows)

__all__ = ["RewardWrapper", "VectorRewardWrapper", "monitor_keywords"]


class RewardWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Replace a Gymnasium env's reward with a rewardkit reward.

    Args:
        env: the environment.
        reward: a :class:`~rewardkit.core.RewardTerm` or
            :class:`~rewardkit.core.ComposedReward` over transition batches.
        env_index: the ``env_index`` the reward sees (default 0).  Several single-env
            copies (e.g. inside SB3's ``DummyVecEnv``) can share one stateful reward
            when each copy has its own index.

    Example:
        >>> import gymnasium as gym
        >>> from rewardkit.core import build_reward
        >>> r = build_reward({"terms": [{"type": "env_reward", "name": "task"},
        ...                             {"type": "constant", "name": "step_cost", "params": {"value": -0.01}}]})
        >>> env = RewardWrapper(gym.make("CartPole-v1"), r)
        >>> _ = env.reset(seed=0)
        >>> _, rew, *_ , info = env.step(0)
        >>> round(rew, 2), info["rk/env_reward"], info["rk/terms"]["step_cost"]
        (0.99, 1.0, -0.01)
    """

    def __init__(self, env: gym.Env, reward: Any, env_index: int = 0):
        gym.utils.RecordConstructorArgs.__init__(self, reward=reward, env_index=env_index, _disable_deepcopy=True)
        gym.Wrapper.__init__(self, env)
        self.reward_fn: RewardTerm = as_reward(reward)
        self.env_index = int(env_index)
        self.scorer = StepScorer(self.reward_fn, 1, env_index=[self.env_index], extras=self._episode_extras())

    def _episode_extras(self) -> list[EpisodeExtra]:
        """Extra episode-end info producers (subclasses add theirs)."""
        return []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self.scorer.reset(stack_obs([obs]))
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self.scorer.obs is None:
            raise RuntimeError(f"{type(self).__name__}.step called before reset(); call env.reset() first")
        obs, env_r, terminated, truncated, info = self.env.step(action)
        info = dict(info)
        original = float(info.get(ENV_REWARD, env_r))
        info[ENV_REWARD] = original
        s1 = stack_obs([obs])
        res = self.scorer.step(np.asarray([action]), s1, s1, [float(env_r)], [terminated], [truncated], [info],
                               original=[original])
        info[STEP_TERMS] = {k: float(v[0]) for k, v in res.terms.items()}
        if 0 in res.episodes:
            info.update(res.episodes[0])
        return obs, float(res.total[0]), terminated, truncated, info


def _autoreset_mode(env: Any) -> gym.vector.AutoresetMode:
    mode = env.metadata.get("autoreset_mode", gym.vector.AutoresetMode.NEXT_STEP)
    return gym.vector.AutoresetMode(getattr(mode, "value", mode))


def _put(info: dict[str, Any], key: str, row: int, value: Any, n: int) -> None:
    """Write ``value`` for sub-env ``row`` in Gymnasium's vector-info layout (array + ``_key`` mask)."""
    if key not in info:
        info[key] = np.zeros(n)
        info["_" + key] = np.zeros(n, dtype=bool)
    info[key][row] = value
    info["_" + key][row] = True


class VectorRewardWrapper(gym.vector.VectorWrapper):
    """Apply a rewardkit reward to every sub-env of a Gymnasium ``VectorEnv`` at once.

    In the default ``NEXT_STEP`` autoreset mode, the step after a done is a
    pseudo-transition (reset observation, reward 0): it is *not* shown to the terms
    and its reward stays 0.  In ``SAME_STEP`` mode the true final observation is
    read from ``info["final_obs"]`` (a :class:`~rewardkit.core.errors.BatchError` if it
    is missing) and that row's info from ``info["final_info"]``.  In ``DISABLED`` mode
    ``reset(options={"reset_mask": mask})`` starts new episodes in the masked rows only.

    Terms get each row's info (split from the vector info).  Episode-end keys
    (``rk/env_return`` …) are written in Gymnasium's vector-info layout: an array over
    envs plus a boolean mask under ``"_<key>"``; ``info["rk/terms"]`` is a dict of arrays.

    Example:
        >>> import gymnasium as gym
        >>> from rewardkit.core import Constant
        >>> envs = VectorRewardWrapper(gym.make_vec("CartPole-v1", num_envs=2), Constant(0.5, name="half"))
        >>> _ = envs.reset(seed=0)
        >>> _, r, *_ = envs.step(envs.action_space.sample())
        >>> r.tolist()
        [0.5, 0.5]
    """

    def __init__(self, env: gym.vector.VectorEnv, reward: Any):
        super().__init__(env)
        self.reward_fn: RewardTerm = as_reward(reward)
        self.n = env.num_envs
        self.autoreset_mode = _autoreset_mode(env)
        self.scorer = StepScorer(self.reward_fn, self.n, extras=self._episode_extras())
        self._pending_reset = np.zeros(self.n, dtype=bool)

    def _episode_extras(self) -> list[EpisodeExtra]:
        """Extra episode-end info producers (subclasses add theirs)."""
        return []

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        mask = None if not options or "reset_mask" not in options else np.array(options["reset_mask"], bool)
        obs, info = self.env.reset(seed=seed, options=options)  # (Gymnasium pops "reset_mask" from options)
        rows = None if mask is None else np.flatnonzero(mask)
        self.scorer.reset(obs, rows)
        self._pending_reset[slice(None) if rows is None else rows] = False
        return obs, info

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self.scorer.obs is None:
            raise RuntimeError(f"{type(self).__name__}.step called before reset(); call envs.reset() first")
        obs, env_r, terminated, truncated, info = self.env.step(actions)
        env_r = np.asarray(env_r, dtype=np.float64)
        terminated, truncated = np.asarray(terminated, bool), np.asarray(truncated, bool)
        done = terminated | truncated
        same_step = self.autoreset_mode == gym.vector.AutoresetMode.SAME_STEP
        rows = np.flatnonzero(~self._pending_reset)
        next_obs = gym_final_obs(obs, done, info) if same_step else obs
        info = dict(info)
        row_infos = vector_info_rows(info, self.n, rows)
        if same_step and done.any() and isinstance(info.get("final_info"), dict):
            finals = vector_info_rows(info["final_info"], self.n, rows)
            row_infos = [fin if done[i] else cur for i, cur, fin in zip(rows, row_infos, finals, strict=True)]
        original = np.asarray(info.get(ENV_REWARD, env_r), dtype=np.float64)
        res = self.scorer.step(actions, next_obs, obs, env_r, terminated, truncated, row_infos, rows, original)
        info[ENV_REWARD] = original
        real = np.zeros(self.n, dtype=bool)
        real[rows] = True
        info[STEP_TERMS] = {**res.terms, **{"_" + k: real for k in res.terms}}
        info["_" + STEP_TERMS] = real
        for i, ep in res.episodes.items():
            for k, v in ep.items():
                _put(info, k, i, v, self.n)
        if self.autoreset_mode == gym.vector.AutoresetMode.NEXT_STEP:
            self._pending_reset = done.copy()
        return obs, res.total, terminated, truncated, info
