"""Environment wrappers that add an exploration bonus, plus coverage metrics.

The exploration wrappers are the reward wrappers of :mod:`rewardkit.core.wrappers`
(the ones :mod:`rewardkit.integrations` exports) with the reward
``env_reward + BonusTerm(bonus, coef)``: one wrapper family, one final-observation
policy, the same info keys.

* :class:`BonusWrapper` - a single ``gymnasium.Env``
  (a :class:`~rewardkit.core.wrappers.RewardWrapper`).  Several copies can share one
  bonus module (global counts shared by all sub-envs of a vector env): each copy
  takes its own ``env_index``.
* :class:`BonusVectorWrapper` - a ``gymnasium.vector.VectorEnv``
  (a :class:`~rewardkit.core.wrappers.VectorRewardWrapper`).  With the default
  ``AutoresetMode.NEXT_STEP`` the step after an episode end returns the *reset*
  observation with reward 0 and ignores the action; that pseudo-transition
  ``(terminal obs -> reset obs)`` is masked (bonus 0, never shown to the module).
  With ``SAME_STEP`` the true final observation is read from ``info["final_obs"]``.
* :class:`BonusVecEnvWrapper` - an SB3 ``VecEnv``
  (a :class:`~rewardkit.core.sb3_wrappers.VecRewardWrapper`): SB3 resets in the same
  step and stores the true last observation in ``info["terminal_observation"]``, which
  is used as ``next_obs`` of that transition.

Final observation (the policy of every rewardkit wrapper, see :mod:`rewardkit.core.vecstep`):
where the env layout carries it in the info (``final_obs``, ``terminal_observation``)
and it is missing at an episode end, the step raises
:class:`~rewardkit.core.errors.BatchError` naming the field.

In every case the reward returned is :math:`r_t + \\beta\\, b_t`.  Besides the keys
every reward wrapper writes (``rk/terms``, and at an episode end ``rk/env_return``,
``rk/return/<term>`` …; the bonus term is named after the bonus), the info of the step
that ends an episode holds its intrinsic return :math:`\\sum_t \\beta b_t` and share
:math:`\\sum|\\beta b| / (\\sum|\\beta b| + \\sum|r|)` (``"rk/intrinsic_return"``,
``"rk/intrinsic_share"``).  Put ``Monitor`` / ``RecordEpisodeStatistics`` *inside* the
bonus wrapper (SB3's ``make_vec_env(..., wrapper_class=BonusWrapper)`` does) so logged
returns stay extrinsic.

Learned bonuses (RND, ICM, E3B's encoder …) are trained every ``update_every``
transitions on the transitions collected since the last update (set
``update_every=0`` to train them elsewhere, e.g. with
:class:`rewardkit.explore.sb3.IntrinsicRewardCallback`); the bonus term
(``wrapper.bonus_term``) does it and keeps ``last_losses``.

Coverage: :class:`~rewardkit.explore.coverage.CoverageTracker` counts visited cells and
:func:`~rewardkit.explore.coverage.visitation_heatmap_png` renders them (both re-exported here).
"""

from __future__ import annotations

import hashlib
import weakref
from typing import Any

from rewardkit.core.extras import missing_extra

try:
    import gymnasium as gym
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "env") from None
import numpy as np

from ..core.builtin import EnvReward
from ..core.compose import ComposedReward
from ..core.vecstep import EpisodeStats
from ..core.wrappers import RewardWrapper, VectorRewardWrapper
from .base import BonusTerm, IntrinsicBonus
from .coverage import CoverageTracker, visitation_heatmap_png

__all__ = [
    "INTRINSIC_RETURN",
    "INTRINSIC_SHARE",
    "AgentPositionInfo",
    "BonusVecEnvWrapper",
    "BonusVectorWrapper",
    "BonusWrapper",
    "CoverageTracker",
    "bonus_reward",
    "visitation_heatmap_png",
]

INTRINSIC_RETURN = "rk/intrinsic_return"
INTRINSIC_SHARE = "rk/intrinsic_share"

_NEXT_INDEX: weakref.WeakKeyDictionary[IntrinsicBonus, int] = weakref.WeakKeyDictionary()


def bonus_reward(bonus: IntrinsicBonus, coef: Any = 1.0, key_info: str | None = None,
                 update_every: int = 0) -> ComposedReward:
    """The reward of every bonus wrapper: ``env_reward`` plus ``BonusTerm(bonus, coef)``, :math:`r + \\beta b`.

    Example:
        >>> from rewardkit.explore.counts import CountBonus
        >>> list(bonus_reward(CountBonus(mode="global", name="count")).terms)
        ['env_reward', 'count']
    """
    term = BonusTerm(bonus, coef, key_info=key_info, update_every=update_every)
    return ComposedReward([EnvReward(), term])


def _intrinsic_stats(name: str):
    def extra(stats: EpisodeStats, i: int) -> dict[str, float]:
        a_int, a_ext = stats.abs_terms[name][i], stats.abs_env[i]
        tot = a_int + a_ext
        return {INTRINSIC_RETURN: float(stats.terms[name][i]),
                INTRINSIC_SHARE: float(a_int / tot) if tot > 0 else 0.0}
    extra.abs_terms = (name,)  # type: ignore[attr-defined]  # StepScorer keeps |r| sums only for these
    return extra


class _BonusMixin:
    """What the three bonus wrappers add to their reward wrapper: the bonus term and its episode statistics."""

    reward_fn: ComposedReward

    @property
    def bonus_term(self) -> BonusTerm:
        return next(t for t in self.reward_fn.terms.values() if isinstance(t, BonusTerm))

    @property
    def bonus(self) -> IntrinsicBonus:
        return self.bonus_term.bonus

    def _episode_extras(self) -> list:
        return [_intrinsic_stats(self.bonus_term.name)]


# ----------------------------------------------------------------------- single env
class BonusWrapper(_BonusMixin, RewardWrapper):
    """Add :math:`\\beta\\, b(s_t, a_t, s_{t+1})` to a single env's reward (``RewardWrapper`` + :func:`bonus_reward`).

    Args:
        env: the env (put ``Monitor`` inside this wrapper to log extrinsic returns).
        bonus: the :class:`~rewardkit.explore.base.IntrinsicBonus`; may be shared by
            several wrapped copies.
        coef: :math:`\\beta` (float or ``coef(global_step)``).
        env_index: this copy's sub-env index in the shared bonus (default: the next
            free index of that bonus).
        key_info: read the count key from ``info[key_info]`` (see :class:`AgentPositionInfo`).
        update_every: train a learned bonus every this many transitions (0: never here).

    Example:
        >>> import gymnasium as gym
        >>> from rewardkit.explore.counts import CountBonus
        >>> env = BonusWrapper(gym.make("CartPole-v1"), CountBonus(mode="global"), coef=0.5)
        >>> _ = env.reset(seed=0)
        >>> _, r, *_ = env.step(0)
        >>> r  # extrinsic 1.0 + 0.5 * 1/sqrt(1)
        1.5
    """

    def __init__(self, env: gym.Env, bonus: IntrinsicBonus, coef: Any = 1.0, env_index: int | None = None,
                 key_info: str | None = None, update_every: int = 0):
        gym.utils.RecordConstructorArgs.__init__(self, bonus=bonus, coef=coef, env_index=env_index,
                                                 key_info=key_info, update_every=update_every,
                                                 _disable_deepcopy=True)
        reward = bonus_reward(bonus, coef, key_info, update_every)
        if env_index is None:
            env_index = _NEXT_INDEX.get(bonus, 0)
            _NEXT_INDEX[bonus] = env_index + 1
        super().__init__(env, reward, env_index=int(env_index))


# ----------------------------------------------------------------------- gymnasium vector env
class BonusVectorWrapper(_BonusMixin, VectorRewardWrapper):
    """Add a bonus inside a gymnasium ``VectorEnv``: a ``VectorRewardWrapper`` with :func:`bonus_reward`.

    Any autoreset mode (see the module docs); count keys of an ended ``SAME_STEP``
    episode come from ``info["final_info"]``.

    Example:
        >>> import gymnasium as gym
        >>> from rewardkit.explore.counts import CountBonus
        >>> envs = BonusVectorWrapper(gym.make_vec("CartPole-v1", num_envs=2), CountBonus(mode="global"), 0.1)
        >>> _ = envs.reset(seed=0)
        >>> _, r, *_ = envs.step(np.array([0, 1]))
        >>> r.round(2).tolist()
        [1.1, 1.1]
    """

    def __init__(self, env: gym.vector.VectorEnv, bonus: IntrinsicBonus, coef: Any = 1.0,
                 key_info: str | None = None, update_every: int = 0):
        super().__init__(env, bonus_reward(bonus, coef, key_info, update_every))


# ----------------------------------------------------------------------- SB3 VecEnv
try:
    from ..core.sb3_wrappers import VecRewardWrapper
except ImportError:  # pragma: no cover - SB3 is an optional extra
    VecRewardWrapper = object  # type: ignore[assignment,misc]


class BonusVecEnvWrapper(_BonusMixin, VecRewardWrapper):  # type: ignore[misc,valid-type]
    """Add a bonus to an SB3 ``VecEnv``: a ``VecRewardWrapper`` with :func:`bonus_reward`.

    The true last obs comes from ``info["terminal_observation"]``.  Works with every
    SB3 algorithm, on- and off-policy, because the bonus is part of the reward the
    algorithm sees (the maintainers' recommended route; the bonus then enters GAE as
    an ordinary reward with the extrinsic ``gamma``).

    Example:
        >>> from stable_baselines3.common.env_util import make_vec_env
        >>> from rewardkit.explore.counts import CountBonus
        >>> venv = BonusVecEnvWrapper(make_vec_env("CartPole-v1", n_envs=2, seed=0), CountBonus(mode="global"), 0.1)
        >>> _ = venv.reset()
        >>> _, r, _, _ = venv.step(np.array([0, 1]))
        >>> [round(float(v), 2) for v in r]
        [1.1, 1.1]
    """

    def __init__(self, venv: Any, bonus: IntrinsicBonus, coef: Any = 1.0, key_info: str | None = None,
                 update_every: int = 0):
        super().__init__(venv, bonus_reward(bonus, coef, key_info, update_every))


# ----------------------------------------------------------------------- MiniGrid keys
class AgentPositionInfo(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Put MiniGrid's privileged agent state into ``info`` (count keys and coverage).

    ``info["agent_pos"] = (x, y)`` always; with ``direction=True`` also the facing
    direction, with ``carrying=True`` the type index of the carried object (0: none),
    with ``layout=True`` a hash of the grid encoding taken at reset (identifies the
    procedurally generated layout, i.e. the *context* of Henaff et al. 2023), with
    ``grid=True`` a hash of the grid encoding at every step (layout *and* object state:
    a picked-up key or an opened door changes it - the full privileged state).
    Vector envs hide ``env.unwrapped``, so this is how counts reach privileged state.

    Example:
        >>> import gymnasium as gym, minigrid  # noqa: F401
        >>> env = AgentPositionInfo(gym.make("MiniGrid-Empty-5x5-v0"))
        >>> _, info = env.reset(seed=0)
        >>> info["agent_pos"]
        (1, 1)
    """

    def __init__(self, env: gym.Env, key: str = "agent_pos", direction: bool = False, carrying: bool = False,
                 layout: bool = False, grid: bool = False):
        gym.utils.RecordConstructorArgs.__init__(self, key=key, direction=direction, carrying=carrying,
                                                 layout=layout, grid=grid)
        gym.Wrapper.__init__(self, env)
        self.grid = grid
        self.key = key
        self.direction = direction
        self.carrying = carrying
        self.layout = layout
        self._layout_hash = 0

    def _state(self) -> tuple:
        u = self.env.unwrapped
        s = tuple(int(v) for v in u.agent_pos)
        if self.direction:
            s += (int(u.agent_dir),)
        if self.carrying:
            c = getattr(u, "carrying", None)
            from minigrid.core.constants import OBJECT_TO_IDX
            s += (0 if c is None else int(OBJECT_TO_IDX[c.type]),)
        if self.layout:
            s += (self._layout_hash,)
        if self.grid:
            s += (_grid_hash(self.env.unwrapped.grid),)
        return s

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        if self.layout:
            self._layout_hash = _grid_hash(self.env.unwrapped.grid)
        info = dict(info)
        info[self.key] = self._state()
        return obs, info

    def step(self, action: Any):
        obs, r, term, trunc, info = self.env.step(action)
        info = dict(info)
        info[self.key] = self._state()
        return obs, r, term, trunc, info


def _grid_hash(grid: Any) -> int:
    enc = np.ascontiguousarray(grid.encode())
    return int.from_bytes(hashlib.blake2b(enc.tobytes(), digest_size=6).digest(), "little")


# ----------------------------------------------------------------------- coverage
