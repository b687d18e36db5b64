"""Environment wrappers that add an exploration bonus, plus coverage metrics.

Three places where a bonus can be added to the reward, with the episode boundary
semantics of each:

* :class:`BonusWrapper` – a single ``gymnasium.Env``.  Several copies can share one
  bonus module (global counts shared by all sub-envs of a vector env): each copy
  takes its own ``env_index``.
* :class:`BonusVectorWrapper` – a ``gymnasium.vector.VectorEnv``.  With the default
  ``AutoresetMode.NEXT_STEP`` the step after an episode end returns the *reset*
  observation with reward 0 and ignores the action; that pseudo-transition
  ``(terminal obs -> reset obs)`` is masked (bonus 0, never shown to the module).
  With ``SAME_STEP`` the true final observation is read from ``info["final_obs"]``.
* :class:`BonusVecEnvWrapper` – an SB3 ``VecEnv``: SB3 resets in the same step and
  stores the true last observation in ``info["terminal_observation"]``, which is
  used as ``next_obs`` of that transition.

In every case the reward returned is :math:`r_t + \\beta\\, b_t` and the episode's
intrinsic return :math:`\\sum_t \\beta b_t` and its share
:math:`\\sum|\\beta b| / (\\sum|\\beta b| + \\sum|r|)` are reported in the info of the
step that ends the episode (``"rk/intrinsic_return"``, ``"rk/intrinsic_share"``).
Put ``Monitor`` / ``RecordEpisodeStatistics`` *inside* the bonus wrapper (SB3's
``make_vec_env(..., wrapper_class=BonusWrapper)`` does) so logged returns stay extrinsic.

Learned bonuses (RND, ICM, E3B's encoder …) are trained every ``update_every``
transitions on the transitions collected since the last update (set
``update_every=0`` to train them elsewhere, e.g. with
:class:`rewardkit.explore.sb3.IntrinsicRewardCallback`).

Coverage: :class:`~rewardkit.explore.coverage.CoverageTracker` counts visited cells and
:func:`~rewardkit.explore.coverage.visitation_heatmap_png` renders them (both re-exported here).
"""

from __future__ import annotations

import hashlib
import weakref
from typing import Any, Callable, Mapping, Sequence

import gymnasium as gym
import numpy as np

from ..core.errors import ConfigError
from ..core.vecstep import copy_obs, sb3_done_flags, with_final_obs
from .base import IntrinsicBonus, check_key_info
from .coverage import CoverageTracker, visitation_heatmap_png

__all__ = ["BonusWrapper", "BonusVectorWrapper", "BonusVecEnvWrapper", "AgentPositionInfo",
           "CoverageTracker", "visitation_heatmap_png", "INTRINSIC_RETURN", "INTRINSIC_SHARE"]

INTRINSIC_RETURN = "rk/intrinsic_return"
INTRINSIC_SHARE = "rk/intrinsic_share"

_NEXT_INDEX: "weakref.WeakKeyDictionary[IntrinsicBonus, int]" = weakref.WeakKeyDictionary()


def _check_bonus(bonus: Any) -> IntrinsicBonus:
    if not isinstance(bonus, IntrinsicBonus):
        raise ConfigError("bonus", f"is a {type(bonus).__name__}", "an IntrinsicBonus instance")
    return bonus


def _check_coef(coef: Any) -> float | Callable[[int], float]:
    if callable(coef):
        return coef
    try:
        return float(coef)
    except (TypeError, ValueError):
        raise ConfigError("coef", f"got {coef!r}", "a number or a callable step -> number") from None


def _rows(x: Any, idx: Any) -> Any:
    if isinstance(x, Mapping):
        return {k: _rows(v, idx) for k, v in x.items()}
    return np.asarray(x)[idx]


def _stack(xs: Sequence[Any]) -> Any:
    if isinstance(xs[0], Mapping):
        return {k: _stack([x[k] for x in xs]) for k in xs[0]}
    return np.concatenate([np.asarray(x) for x in xs], axis=0)


def _key(v: Any) -> Any:
    return tuple(np.asarray(v).reshape(-1).tolist()) if np.ndim(v) else v


class _Core:
    """Shared bookkeeping: score rows, accumulate episode statistics, train learned bonuses."""

    def __init__(self, bonus: IntrinsicBonus, coef: Any, key_info: str | None, update_every: int):
        self.bonus = _check_bonus(bonus)
        self.coef = _check_coef(coef)
        self.key_info = check_key_info(self.bonus, key_info)
        self.update_every = int(update_every)
        self.ep_int: np.ndarray = np.zeros(0)
        self.ep_abs_int: np.ndarray = np.zeros(0)
        self.ep_abs_ext: np.ndarray = np.zeros(0)
        self._buf: list[tuple[Any, Any, Any, np.ndarray, np.ndarray]] = []
        self._buffered = 0
        self.last_losses: dict[str, float] = {}

    def grow(self, n: int) -> None:
        if self.ep_int.shape[0] < n:
            pad = n - self.ep_int.shape[0]
            self.ep_int = np.concatenate([self.ep_int, np.zeros(pad)])
            self.ep_abs_int = np.concatenate([self.ep_abs_int, np.zeros(pad)])
            self.ep_abs_ext = np.concatenate([self.ep_abs_ext, np.zeros(pad)])

    def current_coef(self) -> float:
        c = self.coef
        return float(c(self.bonus.global_step)) if callable(c) else float(c)

    def score(self, obs: Any, action: Any, next_obs: Any, term: np.ndarray, trunc: np.ndarray,
              env_index: np.ndarray, keys: list | None, ext: np.ndarray) -> np.ndarray:
        """Return :math:`\\beta b` for the rows; update episode accumulators; maybe train."""
        self.grow(int(env_index.max()) + 1 if env_index.size else 0)
        coef = self.current_coef()
        if keys is not None:
            raw = self.bonus.observe(obs, action, next_obs, term, trunc, env_index, keys=keys)  # type: ignore[call-arg]
        else:
            raw = self.bonus.observe(obs, action, next_obs, term, trunc, env_index)
        r_int = coef * np.asarray(raw, dtype=np.float64)
        self.ep_int[env_index] += r_int
        self.ep_abs_int[env_index] += np.abs(r_int)
        self.ep_abs_ext[env_index] += np.abs(np.asarray(ext, dtype=np.float64))
        if self.update_every > 0 and self.bonus.learned:
            self._buf.append((obs, np.asarray(action), next_obs, term, trunc))
            self._buffered += int(env_index.shape[0])
            if self._buffered >= self.update_every:
                self.train()
        return r_int

    def train(self) -> None:
        if not self._buf:
            return
        obs = _stack([b[0] for b in self._buf])
        act = np.concatenate([b[1].reshape(b[1].shape[0], *b[1].shape[1:]) for b in self._buf], axis=0)
        nxt = _stack([b[2] for b in self._buf])
        term = np.concatenate([b[3] for b in self._buf])
        trunc = np.concatenate([b[4] for b in self._buf])
        add_env_axis = (lambda x: {k: v[:, None] for k, v in x.items()}) if isinstance(obs, Mapping) \
            else (lambda x: x[:, None])
        batch = {"obs": add_env_axis(obs), "actions": act[:, None], "next_obs": add_env_axis(nxt),
                 "terminated": term[:, None], "truncated": trunc[:, None]}
        self.last_losses = dict(self.bonus.update(batch) or {})
        self._buf, self._buffered = [], 0

    def finish(self, e: int) -> dict[str, float]:
        """Episode statistics of sub-env ``e``, then zero its accumulators."""
        tot = self.ep_abs_int[e] + self.ep_abs_ext[e]
        out = {INTRINSIC_RETURN: float(self.ep_int[e]),
               INTRINSIC_SHARE: float(self.ep_abs_int[e] / tot) if tot > 0 else 0.0}
        self.ep_int[e] = self.ep_abs_int[e] = self.ep_abs_ext[e] = 0.0
        return out


# ----------------------------------------------------------------------- single env
class BonusWrapper(gym.Wrapper):
    """Add :math:`\\beta\\, b(s_t, a_t, s_{t+1})` to a single env's reward.

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
        super().__init__(env)
        self.core = _Core(bonus, coef, key_info, update_every)
        if env_index is None:
            env_index = _NEXT_INDEX.get(bonus, 0)
            _NEXT_INDEX[bonus] = env_index + 1
        self.env_index = int(env_index)
        self._idx = np.array([self.env_index])
        self._obs: Any = None

    @property
    def bonus(self) -> IntrinsicBonus:
        return self.core.bonus

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self.core.bonus.reset(self._idx)
        self.core.grow(self.env_index + 1)
        self.core.finish(self.env_index)
        self._obs = obs
        return obs, info

    def step(self, action: Any):
        nxt, r, term, trunc, info = self.env.step(action)
        keys = None
        if self.core.key_info is not None:
            if self.core.key_info not in info:
                raise ConfigError(f"info.{self.core.key_info}", "missing",
                                  "the env's info to carry the count key (wrap with AgentPositionInfo)")
            keys = [_key(info[self.core.key_info])]
        add = lambda x: {k: np.asarray(v)[None] for k, v in x.items()} if isinstance(x, Mapping) \
            else np.asarray(x)[None]  # noqa: E731
        r_int = self.core.score(add(self._obs), np.asarray([action]), add(nxt), np.array([term]),
                                np.array([trunc]), self._idx, keys, np.array([r]))
        self._obs = nxt
        if term or trunc:
            info = dict(info)
            info.update(self.core.finish(self.env_index))
        return nxt, float(r) + float(r_int[0]), term, trunc, info


# ----------------------------------------------------------------------- gymnasium vector env
class BonusVectorWrapper(gym.vector.VectorWrapper):
    """Add a bonus inside a gymnasium ``VectorEnv`` (any autoreset mode; see module docs).

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
        super().__init__(env)
        self.core = _Core(bonus, coef, key_info, update_every)
        mode = getattr(env, "autoreset_mode", None) or env.metadata.get("autoreset_mode")
        self.autoreset_mode = gym.vector.AutoresetMode(mode.value if hasattr(mode, "value") else
                                                        (mode or "NextStep"))
        self._obs: Any = None
        self._pseudo = np.zeros(self.num_envs, dtype=bool)

    @property
    def bonus(self) -> IntrinsicBonus:
        return self.core.bonus

    def reset(self, *, seed: Any = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        mask = None if not options or "reset_mask" not in options else np.asarray(options["reset_mask"], bool)
        if mask is None or self._obs is None:
            self._obs = obs
            self._pseudo[:] = False
            self.core.bonus.reset(np.arange(self.num_envs))
            self.core.grow(self.num_envs)
            for e in range(self.num_envs):
                self.core.finish(e)
        else:
            rows = np.flatnonzero(mask)
            if isinstance(obs, Mapping):
                for k in obs:
                    self._obs[k][rows] = obs[k][rows]
            else:
                self._obs = np.array(self._obs)
                self._obs[rows] = np.asarray(obs)[rows]
            self._pseudo[rows] = False
            self.core.bonus.reset(rows)
            for e in rows.tolist():
                self.core.finish(e)
        return obs, info

    def step(self, actions: Any):
        obs, rew, term, trunc, infos = self.env.step(actions)
        term = np.asarray(term, dtype=bool)
        trunc = np.asarray(trunc, dtype=bool)
        done = term | trunc
        n = self.num_envs
        valid = ~self._pseudo if self.autoreset_mode == gym.vector.AutoresetMode.NEXT_STEP else np.ones(n, bool)
        next_obs = obs
        if self.autoreset_mode == gym.vector.AutoresetMode.SAME_STEP and done.any():
            final = infos.get("final_obs")
            if final is None:
                raise ConfigError("infos.final_obs", "missing at an episode end",
                                  "a SAME_STEP vector env that reports the final observation")
            ended = np.flatnonzero(done)
            next_obs = with_final_obs(obs, ended, [final[e] for e in ended])
        rows = np.flatnonzero(valid)
        r_int = np.zeros(n)
        if rows.size:
            keys = None
            if self.core.key_info is not None:
                col = infos.get(self.core.key_info)
                if col is None:
                    raise ConfigError(f"infos.{self.core.key_info}", "missing",
                                      "each sub-env's info to carry the count key (wrap with AgentPositionInfo)")
                final = infos.get("final_info", {}).get(self.core.key_info) \
                    if self.autoreset_mode == gym.vector.AutoresetMode.SAME_STEP else None
                keys = [_key(final[e] if (final is not None and done[e]) else col[e]) for e in rows.tolist()]
            r_int[rows] = self.core.score(_rows(self._obs, rows), np.asarray(actions)[rows],
                                          _rows(next_obs, rows), term[rows], trunc[rows], rows, keys,
                                          np.asarray(rew)[rows])
        ended = np.flatnonzero(done & valid)
        if ended.size:
            infos = dict(infos)
            ret = np.zeros(n)
            share = np.zeros(n)
            for e in ended.tolist():
                st = self.core.finish(e)
                ret[e], share[e] = st[INTRINSIC_RETURN], st[INTRINSIC_SHARE]
            mask = np.zeros(n, dtype=bool)
            mask[ended] = True
            infos[INTRINSIC_RETURN], infos["_" + INTRINSIC_RETURN] = ret, mask
            infos[INTRINSIC_SHARE], infos["_" + INTRINSIC_SHARE] = share, mask.copy()
        if self.autoreset_mode == gym.vector.AutoresetMode.NEXT_STEP:
            self._pseudo = done.copy()
        self._obs = copy_obs(obs)
        return obs, np.asarray(rew, dtype=np.float64) + r_int, term, trunc, infos


# ----------------------------------------------------------------------- SB3 VecEnv
try:
    from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
except ImportError:  # pragma: no cover - SB3 is an optional extra
    VecEnvWrapper = object  # type: ignore[assignment,misc]
    VecEnv = object  # type: ignore[assignment,misc]


class BonusVecEnvWrapper(VecEnvWrapper):  # type: ignore[misc,valid-type]
    """Add a bonus to an SB3 ``VecEnv`` (true last obs from ``info["terminal_observation"]``).

    Works with every SB3 algorithm, on- and off-policy, because the bonus is part of
    the reward the algorithm sees (the maintainers' recommended route; the bonus then
    enters GAE as an ordinary reward with the extrinsic ``gamma``).

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
        super().__init__(venv)
        self.core = _Core(bonus, coef, key_info, update_every)
        self._obs: Any = None
        self._actions: Any = None

    @property
    def bonus(self) -> IntrinsicBonus:
        return self.core.bonus

    def reset(self):
        obs = self.venv.reset()
        self._obs = copy_obs(obs)
        self.core.bonus.reset(np.arange(self.num_envs))
        self.core.grow(self.num_envs)
        for e in range(self.num_envs):
            self.core.finish(e)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)
        self.venv.step_async(actions)

    def step_wait(self):
        obs, rew, dones, infos = self.venv.step_wait()
        dones = np.asarray(dones, dtype=bool)
        term, trunc = sb3_done_flags(dones, infos)
        ended = np.flatnonzero(dones)
        next_obs = with_final_obs(obs, ended, [infos[e].get("terminal_observation") for e in ended])
        keys = None
        if self.core.key_info is not None:
            try:
                keys = [_key(inf[self.core.key_info]) for inf in infos]
            except KeyError:
                raise ConfigError(f"info.{self.core.key_info}", "missing",
                                  "each sub-env's info to carry the count key (wrap with AgentPositionInfo)") from None
        idx = np.arange(self.num_envs)
        r_int = self.core.score(self._obs, self._actions, next_obs, term, trunc, idx, keys, np.asarray(rew))
        for e in np.flatnonzero(dones):
            infos[e].update(self.core.finish(int(e)))
        self._obs = copy_obs(obs)
        return obs, (np.asarray(rew, dtype=np.float64) + r_int).astype(np.float32), dones, infos


# ----------------------------------------------------------------------- MiniGrid keys
class AgentPositionInfo(gym.Wrapper):
    """Put MiniGrid's privileged agent state into ``info`` (count keys and coverage).

    ``info["agent_pos"] = (x, y)`` always; with ``direction=True`` also the facing
    direction, with ``carrying=True`` the type index of the carried object (0: none),
    with ``layout=True`` a hash of the grid encoding taken at reset (identifies the
    procedurally generated layout, i.e. the *context* of Henaff et al. 2023), with
    ``grid=True`` a hash of the grid encoding at every step (layout *and* object state:
    a picked-up key or an opened door changes it – the full privileged state).
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
        super().__init__(env)
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
