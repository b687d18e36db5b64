"""The framework-free protocol of an exploration bonus (intrinsic reward).

An :class:`IntrinsicBonus` scores transitions of a vector environment with ``n``
sub-environments.  It has two entry points that must not be mixed for the same
data (each one advances the module's state):

* :meth:`IntrinsicBonus.observe` – the **per-step** path used by env wrappers:
  process one vector-env step (arrays with leading dimension ``n``), update
  episodic state / counters / memories and return the bonus of that step, shape
  ``(n,)``.  Episodic state of a sub-env is reset *after* its bonus has been
  computed, wherever ``terminated | truncated``.
* :meth:`IntrinsicBonus.compute` – the **rollout** path (RLLTE/CleanRL style):
  score a whole rollout ``{"obs": (T, n, ...), "actions": (T, n, ...),
  "next_obs": (T, n, ...), "terminated": (T, n), "truncated": (T, n)}`` and
  return a ``(T, n)`` array.  The default implementation walks the rollout in time
  order through :meth:`observe`; learned, stateless modules (RND, ICM …) override
  it with one batched forward pass.

Learned parts are trained by :meth:`IntrinsicBonus.update` (same batch layout; a
no-op for counts).  :meth:`IntrinsicBonus.warmup` initialises observation
normalisation from data the user already has – constructors never step an env.
:meth:`IntrinsicBonus.state_dict` / :meth:`IntrinsicBonus.load_state_dict` round-trip
networks, optimisers, running statistics, episodic memories and counts exactly.

Episode-start convention.  A module with episodic state that sees a sub-env for the
first time in an episode first registers the episode's initial observation
``obs`` (e.g. adds :math:`\\phi(s_0)` to E3B's covariance or counts :math:`s_0`)
without emitting a bonus for it – the reset frame's bonus is zero, as in the
reference implementations – and then scores ``next_obs`` (:math:`s_{t+1}`).

:class:`BonusTerm` adapts any bonus to the generic reward protocol of
:mod:`rewardkit.core` (a ``"transition"`` :class:`~rewardkit.core.RewardTerm`), so a
bonus composes with other terms and plugs into Gymnasium wrappers.

Gymnasium's default ``NEXT_STEP`` autoreset produces a pseudo-transition
``(terminal obs -> reset obs)`` after each episode end; callers must drop those rows
(pass the remaining rows with their ``env_index``) – every method accepts a
subset of the sub-envs through ``env_index``.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any
from collections.abc import Mapping

import numpy as np

from ..core.batch import TransitionBatch
from ..core.errors import BatchError, ConfigError
from ..core.term import RewardTerm

__all__ = [
    "BonusTerm",
    "EnvSlots",
    "IntrinsicBonus",
    "as_float_obs",
    "check_coef",
    "from_state",
    "rollout_arrays",
    "to_state",
]

ROLLOUT_KEYS = ("obs", "actions", "next_obs", "terminated", "truncated")


def as_float_obs(obs: Any, field: str = "obs") -> np.ndarray:
    """Observations as a float32 array ``(n, ...)``; a dict observation must use ``"image"``/``"obs"``.

    Example:
        >>> as_float_obs(np.zeros((2, 3), dtype=np.uint8)).dtype
        dtype('float32')
    """
    if isinstance(obs, Mapping):
        for k in ("image", "obs", "observation"):
            if k in obs:
                return as_float_obs(obs[k], f"{field}.{k}")
        raise BatchError(field, f"is a dict with keys {sorted(obs)}",
                         "an array, or a dict with an 'image' or 'obs' array (wrap the env, e.g. ImgObsWrapper)")
    a = np.asarray(obs)
    if a.dtype == object:
        raise BatchError(field, "is an object array", "a numeric array (n, ...)")
    return a.astype(np.float32, copy=False)


def _bools(x: Any, n: int, field: str) -> np.ndarray:
    if x is None:
        return np.zeros(n, dtype=bool)
    a = np.asarray(x, dtype=bool).reshape(-1)
    if a.shape[0] != n:
        raise BatchError(field, f"has {a.shape[0]} entries for {n} envs", f"a bool array of shape ({n},)")
    return a


def _leading(x: Any) -> int:
    if isinstance(x, Mapping):
        return _leading(next(iter(x.values())))
    return int(np.shape(x)[0])


def _take(x: Any, idx: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, Mapping):
        return {k: _take(v, idx) for k, v in x.items()}
    return np.asarray(x)[idx]


def occurrence_groups(env_index: np.ndarray) -> list[np.ndarray] | None:
    """Split rows so each group holds every env at most once, keeping each env's row order.

    ``None`` when no env repeats (the common case).  Used when a batch is a
    time-flattened rollout: group ``k`` holds the ``k``-th row of every env.

    Example:
        >>> [g.tolist() for g in occurrence_groups(np.array([0, 1, 0, 0]))]
        [[0, 1], [2], [3]]
    """
    if np.unique(env_index).size == env_index.size:
        return None
    order = np.argsort(env_index, kind="stable")
    sorted_idx = env_index[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_idx)) + 1]
    rank_sorted = np.arange(env_index.size) - np.repeat(starts, np.diff(np.r_[starts, env_index.size]))
    rank = np.empty_like(rank_sorted)
    rank[order] = rank_sorted
    return [np.flatnonzero(rank == k) for k in range(int(rank.max()) + 1)]


def check_key_info(bonus: IntrinsicBonus, key_info: str | None) -> str | None:
    """``key_info`` (the info entry that carries count keys) if ``bonus`` can count keys, else a ConfigError.

    Example:
        >>> from rewardkit.explore.counts import CountBonus
        >>> check_key_info(CountBonus("global"), "agent_pos")
        'agent_pos'
    """
    if key_info is not None and not bonus.takes_keys:
        raise ConfigError("key_info", f"is {key_info!r}, but {type(bonus).__name__} does not count keys",
                          "None for this bonus, or a count bonus (CountBonus, or a Sum/Product holding one)")
    return key_info


def rollout_arrays(batch: Mapping[str, Any]) -> tuple[Any, Any, Any, np.ndarray, np.ndarray, int, int]:
    """Validate a rollout dict; return ``(obs, actions, next_obs, terminated, truncated, T, n)``.

    ``terminated``/``truncated`` default to all-False; ``dones`` is accepted as an alias
    of ``terminated``.
    """
    if not isinstance(batch, Mapping):
        raise BatchError("batch", f"is a {type(batch).__name__}",
                         "a dict with keys obs, actions, next_obs, terminated, truncated")
    for k in ("obs", "next_obs"):
        if k not in batch:
            raise BatchError(f"batch.{k}", "missing", "an array of shape (T, n_envs, ...)")
    obs, nxt = batch["obs"], batch["next_obs"]
    shape = np.shape(obs if not isinstance(obs, Mapping) else next(iter(obs.values())))
    if len(shape) < 2:
        raise BatchError("batch.obs", f"has shape {shape}", "(T, n_envs, ...)")
    T, n = int(shape[0]), int(shape[1])
    acts = batch.get("actions", batch.get("action"))
    if acts is None:
        acts = np.zeros((T, n), dtype=np.int64)
    term = np.asarray(batch.get("terminated", batch.get("dones", np.zeros((T, n)))), dtype=bool)
    trunc = np.asarray(batch.get("truncated", np.zeros((T, n))), dtype=bool)
    for k, v in (("terminated", term), ("truncated", trunc)):
        if v.shape != (T, n):
            raise BatchError(f"batch.{k}", f"has shape {v.shape}", f"({T}, {n}) like obs' leading dims")
    return obs, acts, nxt, term, trunc, T, n


class EnvSlots:
    """Grow-on-demand bookkeeping of which sub-envs start a fresh episode.

    ``fresh[e]`` is True until sub-env ``e`` has been observed in its current episode.
    """

    def __init__(self, num_envs: int | None = None):
        self.fresh = np.ones(int(num_envs or 0), dtype=bool)

    def ensure(self, env_index: np.ndarray) -> int:
        size = int(env_index.max()) + 1 if env_index.size else 0
        if size > self.fresh.shape[0]:
            self.fresh = np.concatenate([self.fresh, np.ones(size - self.fresh.shape[0], dtype=bool)])
        return self.fresh.shape[0]


class IntrinsicBonus:
    """Base class of every exploration bonus (see the module docstring for the protocol).

    Subclasses implement :meth:`_observe` (the per-step bonus for rows ``env_index``
    whose episodic state is already valid) and, when they have episodic state,
    :meth:`_reset_envs` and :meth:`_register_initial`.

    Args:
        num_envs: number of sub-envs (optional: per-env state grows on demand).
        seed: seeds every random part (network init, projections, sampling).
        name: the name used in logs and by :class:`BonusTerm`.

    Example (a toy bonus: 1 for every step of an even sub-env):
        >>> class Even(IntrinsicBonus):
        ...     def _observe(self, obs, action, next_obs, env_index):
        ...         return (env_index % 2 == 0).astype(float)
        >>> Even(name="even").observe(np.zeros((3, 1)), np.zeros(3), np.zeros((3, 1)),
        ...                           [False] * 3, [False] * 3).tolist()
        [1.0, 0.0, 1.0]
    """

    #: True when the module keeps per-episode state (reset on terminated | truncated)
    episodic: bool = False
    #: True when :meth:`update` trains something
    learned: bool = False
    #: True when :meth:`observe` takes explicit count keys (``keys=``, e.g. read from ``info``)
    takes_keys: bool = False

    def __init__(self, num_envs: int | None = None, seed: int = 0, name: str | None = None):
        self.name = name or type(self).__name__.lower()
        self.seed = int(seed)
        self.num_envs = num_envs
        self.rng = np.random.default_rng(self.seed)
        self.slots = EnvSlots(num_envs)
        self.global_step = 0

    # ----------------------------------------------------------------- protocol
    def observe(self, obs: Any, action: Any, next_obs: Any, terminated: Any, truncated: Any,
                env_index: Any = None) -> np.ndarray:
        """Score one vector-env step; update state; reset episodic state where done.

        Args:
            obs: ``s_t`` of the ``m`` rows, shape ``(m, ...)``.
            action: ``a_t``, shape ``(m,)`` (discrete) or ``(m, d)``.
            next_obs: ``s_{t+1}`` (the true final observation at an episode end).
            terminated, truncated: bool arrays ``(m,)``.
            env_index: which sub-env each row is (default ``arange(m)``).

        Returns:
            the bonus of each row, float64 ``(m,)``.
        """
        m = _leading(next_obs)
        idx = np.arange(m) if env_index is None else np.asarray(env_index, dtype=np.int64).reshape(-1)
        if idx.shape[0] != m:
            raise BatchError("env_index", f"has {idx.shape[0]} entries for {m} rows", f"({m},) ints")
        term = _bools(terminated, m, "terminated")
        trunc = _bools(truncated, m, "truncated")
        groups = occurrence_groups(idx)
        if groups is not None:  # an env appears several times (time-flattened batch): keep time order
            out = np.empty(m)
            for g in groups:
                out[g] = self.observe(_take(obs, g), _take(action, g), _take(next_obs, g), term[g], trunc[g], idx[g])
            return out
        self.slots.ensure(idx)
        self._ensure_envs(self.slots.fresh.shape[0])
        if self.episodic:
            fresh = self.slots.fresh[idx]
            if fresh.any():
                rows = np.flatnonzero(fresh)
                self._register_initial(_take(obs, rows), idx[rows])
        self.slots.fresh[idx] = False
        out = np.asarray(self._observe(obs, action, next_obs, idx), dtype=np.float64).reshape(m)
        self.global_step += m
        done = term | trunc
        if done.any():
            self._end_episodes(idx[done])
        return out

    def compute(self, batch: Mapping[str, Any]) -> np.ndarray:
        """Score a rollout ``(T, n, ...)`` -> ``(T, n)`` (default: :meth:`observe` step by step)."""
        obs, acts, nxt, term, trunc, T, n = rollout_arrays(batch)
        out = np.zeros((T, n))
        for t in range(T):
            out[t] = self.observe(_take(obs, t), _take(acts, t), _take(nxt, t), term[t], trunc[t])
        return out

    def update(self, batch: Mapping[str, Any]) -> dict[str, float]:
        """Train the learned parts on a rollout or replay batch; returns losses (no-op here)."""
        return {}

    def reset(self, mask: Any = None) -> None:
        """Reset episodic state of the sub-envs where ``mask`` is True (all if None)."""
        size = self.slots.fresh.shape[0]
        if mask is None:
            envs = np.arange(size)
        else:
            m = np.asarray(mask)
            envs = np.flatnonzero(m) if m.dtype == bool else m.astype(np.int64).reshape(-1)
            if envs.size:
                self.slots.ensure(envs)
                self._ensure_envs(self.slots.fresh.shape[0])
        self._end_episodes(envs)

    def warmup(self, obs: Any) -> None:
        """Initialise observation normalisation from an array of observations (no-op here)."""

    # ---------------------------------------------------------- serialisation
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly (a deep copy)."""
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_nosave")}
        return {"class": type(self).__name__, "state": to_state(state)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (onto a module built with the same arguments)."""
        if state.get("class") not in (None, type(self).__name__):
            raise ConfigError("state_dict.class", f"is {state.get('class')!r}", f"{type(self).__name__!r}")
        restored = from_state(state["state"], self.__dict__)
        self.__dict__.update(restored)

    # ----------------------------------------------------------- for subclasses
    def _observe(self, obs: Any, action: Any, next_obs: Any, env_index: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _ensure_envs(self, num_envs: int) -> None:
        """Grow per-env buffers to ``num_envs`` (episodic modules)."""

    def _register_initial(self, obs: Any, env_index: np.ndarray) -> None:
        """Register the first observation of a fresh episode (episodic modules)."""

    def _reset_envs(self, env_index: np.ndarray) -> None:
        """Clear the episodic state of ``env_index`` (episodic modules)."""

    def _end_episodes(self, envs: np.ndarray) -> None:
        envs = np.asarray(envs, dtype=np.int64).reshape(-1)
        if envs.size == 0:
            return
        self._reset_envs(envs)
        self.slots.fresh[envs] = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


# ------------------------------------------------------------------ state helpers
def to_state(obj: Any) -> Any:
    """Deep-copy an object tree for a state dict; torch modules/optimisers become their state dicts."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is optional
        torch = None  # type: ignore[assignment]
    if torch is not None:
        if isinstance(obj, torch.nn.Module):
            return {"__module__": {k: v.detach().clone() for k, v in obj.state_dict().items()}}
        if isinstance(obj, torch.optim.Optimizer):
            return {"__optim__": copy.deepcopy(obj.state_dict())}
        if isinstance(obj, torch.Tensor):
            return obj.detach().clone()
        if isinstance(obj, torch.Generator):
            return {"__tgen__": obj.get_state().clone()}
    if isinstance(obj, np.random.Generator):
        return {"__npgen__": copy.deepcopy(obj.bit_generator.state)}
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return {k: to_state(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_state(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(to_state(v) for v in obj)
    if callable(obj) and not hasattr(obj, "__dict__"):
        return obj
    if hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict") and not isinstance(obj, type):
        return {"__stateful__": obj.state_dict()}
    if callable(obj):
        return obj  # functions (key_fn …) are kept by reference
    return copy.deepcopy(obj)


def from_state(state: Any, current: Any) -> Any:
    """Inverse of :func:`to_state`, loading into the live objects of ``current`` where needed."""
    if isinstance(state, dict):
        if "__module__" in state and len(state) == 1:
            current.load_state_dict(state["__module__"])
            return current
        if "__optim__" in state and len(state) == 1:
            current.load_state_dict(copy.deepcopy(state["__optim__"]))
            return current
        if "__tgen__" in state and len(state) == 1:
            current.set_state(state["__tgen__"].clone())
            return current
        if "__npgen__" in state and len(state) == 1:
            g = np.random.default_rng()
            g.bit_generator.state = copy.deepcopy(state["__npgen__"])
            return g
        if "__stateful__" in state and len(state) == 1:
            current.load_state_dict(state["__stateful__"])
            return current
        cur = current if isinstance(current, dict) else {}
        return {k: from_state(v, cur.get(k)) for k, v in state.items()}
    if isinstance(state, list):
        cur = current if isinstance(current, list) and len(current) == len(state) else [None] * len(state)
        return [from_state(v, c) for v, c in zip(state, cur, strict=False)]
    if isinstance(state, tuple):
        cur = current if isinstance(current, tuple) and len(current) == len(state) else (None,) * len(state)
        return tuple(from_state(v, c) for v, c in zip(state, cur, strict=False))
    if isinstance(state, np.ndarray):
        return state.copy()
    try:
        import torch

        if isinstance(state, torch.Tensor):
            return state.clone()
    except ImportError:  # pragma: no cover
        pass
    if callable(state):
        return state
    return copy.deepcopy(state)


# ------------------------------------------------------------------ RewardTerm adapter
def check_coef(coef: Any) -> Any:
    """``coef`` as a float, or the callable ``coef(global_step) -> float`` itself; else a ConfigError.

    Example:
        >>> check_coef("0.5")
        0.5
    """
    if callable(coef):
        return coef
    try:
        return float(coef)
    except (TypeError, ValueError):
        raise ConfigError("coef", f"got {coef!r}", "a number or a callable step -> number") from None


def _info_key(v: Any) -> Any:
    return tuple(np.asarray(v).reshape(-1).tolist()) if np.ndim(v) else v


def _stack_rows(xs: list[Any]) -> Any:
    if isinstance(xs[0], Mapping):
        return {k: _stack_rows([x[k] for x in xs]) for k in xs[0]}
    return np.concatenate([np.asarray(x) for x in xs], axis=0)


class BonusTerm(RewardTerm):
    """Any :class:`IntrinsicBonus` as a ``"transition"`` reward term: ``coef * bonus.observe(batch)``.

    Calls :meth:`IntrinsicBonus.observe` with the batch's ``obs``, ``action``,
    ``next_obs``, ``terminated``, ``truncated`` and ``env_index`` (so episodic state is
    per sub-env and resets where the episode ended).  Plugged into any wrapper of
    :mod:`rewardkit.core.wrappers` it is an exploration bonus; the wrappers of
    :mod:`rewardkit.explore.wrappers` are exactly that.

    Non-finite bonus values (e.g. from a NaN observation) are replaced by 0 with one
    ``RuntimeWarning``; ``nonfinite`` counts them.  ``last_raw`` holds the unscaled bonus.

    Args:
        bonus: the bonus module.
        coef: multiplier :math:`\\beta` of the bonus (a float, or a callable
            ``coef(global_step) -> float`` such as a schedule from
            :mod:`rewardkit.core.schedules`).
        name: the term name (default: the bonus' name).
        key_info: read each row's count key from ``info[key_info]`` (a count bonus only;
            see :class:`~rewardkit.explore.wrappers.AgentPositionInfo`).  Without it a
            bonus with its own ``info_key`` reads that.
        update_every: train a learned bonus (:meth:`IntrinsicBonus.update`) on the
            transitions scored since the last update, every this many transitions
            (0: never here; train it elsewhere).  ``last_losses`` holds the latest losses.

    Example:
        >>> from rewardkit.core import TransitionBatch
        >>> from rewardkit.explore.counts import CountBonus
        >>> term = BonusTerm(CountBonus(mode="global"), coef=0.5)
        >>> b = TransitionBatch.from_arrays(np.zeros((2, 1)), [0, 0], np.ones((2, 1)), [0.0, 0.0])
        >>> [round(v, 4) for v in term(b).tolist()]  # s'=[1] seen once, then twice
        [0.5, 0.3536]
    """

    batch_kind = "transition"

    def __init__(self, bonus: IntrinsicBonus, coef: Any = 1.0, name: str | None = None,
                 key_info: str | None = None, update_every: int = 0):
        if not isinstance(bonus, IntrinsicBonus):
            raise ConfigError("bonus", f"is a {type(bonus).__name__}", "an IntrinsicBonus instance")
        super().__init__(name or bonus.name)
        self.bonus = bonus
        self.coef = check_coef(coef)
        self.key_info = check_key_info(bonus, key_info)
        if int(update_every) < 0:
            raise ConfigError("update_every", f"got {update_every}", "a number of transitions >= 0")
        self.update_every = int(update_every)
        self.last_raw: np.ndarray | None = None
        self.last_losses: dict[str, float] = {}
        self.nonfinite = 0
        self._warned = False
        self._buf: list[tuple[Any, Any, Any, np.ndarray, np.ndarray]] = []
        self._buffered = 0

    def current_coef(self) -> float:
        c = self.coef
        return float(c(self.bonus.global_step)) if callable(c) else float(c)

    def _keys(self, batch: TransitionBatch) -> list | None:
        if self.key_info is not None:
            try:
                return [_info_key(inf[self.key_info]) for inf in batch.info]
            except KeyError:
                raise ConfigError(f"info.{self.key_info}", "missing",
                                  "each transition's info to carry the count key (wrap with AgentPositionInfo)"
                                  ) from None
        if getattr(self.bonus, "info_key", None):
            return self.bonus.keys_from_info(batch.info)  # type: ignore[attr-defined]
        return None

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        keys = self._keys(batch)
        coef = self.current_coef()
        if keys is not None:
            raw = self.bonus.observe(batch.obs, batch.action, batch.next_obs, batch.terminated,  # type: ignore[call-arg]
                                     batch.truncated, batch.env_index, keys=keys)
        else:
            raw = self.bonus.observe(batch.obs, batch.action, batch.next_obs, batch.terminated,
                                     batch.truncated, batch.env_index)
        raw = np.asarray(raw, dtype=np.float64)
        bad = ~np.isfinite(raw)
        if bad.any():  # e.g. a NaN observation: never crash a long run, but say so (once)
            self.nonfinite += int(bad.sum())
            if not self._warned:
                self._warned = True
                warnings.warn(f"bonus term '{self.name}': {int(bad.sum())} non-finite bonus value(s) replaced by 0 "
                              "(check the observations); further occurrences are counted in .nonfinite",
                              RuntimeWarning, stacklevel=2)
            raw = np.where(bad, 0.0, raw)
        self.last_raw = raw
        if self.update_every > 0 and self.bonus.learned:
            self._buf.append((batch.obs, np.asarray(batch.action), batch.next_obs, batch.terminated.copy(),
                              batch.truncated.copy()))
            self._buffered += len(batch)
            if self._buffered >= self.update_every:
                self.train()
        return coef * raw

    def train(self) -> dict[str, float]:
        """Train the bonus on the buffered transitions (layout ``(N, 1, ...)``); returns its losses."""
        if not self._buf:
            return self.last_losses
        obs = _stack_rows([b[0] for b in self._buf])
        act = np.concatenate([b[1] for b in self._buf], axis=0)
        nxt = _stack_rows([b[2] for b in self._buf])
        term = np.concatenate([b[3] for b in self._buf])
        trunc = np.concatenate([b[4] for b in self._buf])

        def env_axis(x: Any) -> Any:
            return {k: v[:, None] for k, v in x.items()} if isinstance(x, Mapping) else x[:, None]

        batch = {"obs": env_axis(obs), "actions": act[:, None], "next_obs": env_axis(nxt),
                 "terminated": term[:, None], "truncated": trunc[:, None]}
        self.last_losses = dict(self.bonus.update(batch) or {})
        self._buf, self._buffered = [], 0
        return self.last_losses

    def reset(self, mask: Any = None) -> None:
        self.bonus.reset(mask)

    def state_dict(self) -> dict[str, Any]:
        return {"bonus": self.bonus.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.bonus.load_state_dict(state["bonus"])
