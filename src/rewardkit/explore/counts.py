"""Exact tabular count bonuses: global, episodic, first-visit and global x episodic.

Count-based exploration rewards a state by how rarely it has been seen.  With a
*key function* :math:`k(s)` that maps an observation to a hashable key:

* global (Strehl & Littman 2008, "An analysis of model-based interval estimation";
  Bellemare et al. 2016, "Unifying count-based exploration and intrinsic motivation"):
  :math:`b_t = 1/\\sqrt{N(k(s_{t+1}))}` with :math:`N` counted over the whole run;
* episodic: :math:`b_t = 1/\\sqrt{N_{ep}(k(s_{t+1}))}`, :math:`N_{ep}` reset at every
  episode end (``terminated | truncated``) per sub-env;
* first visit: :math:`b_t = \\mathbb{1}[N_{ep}(k(s_{t+1})) = 1]`;
* product (Henaff, Jiang & Raileanu 2023, "A Study of Global and Episodic Bonuses
  for Exploration in Contextual MDPs", ICML):
  :math:`b_t = \\mathbb{1}[N_{ep}(k(s_{t+1})) = 1] \\cdot 1/\\sqrt{N(k(s_{t+1}))}`.

Counts are incremented *before* the bonus is read, so a never-seen state scores 1.
Global counts count each scored state :math:`s_{t+1}`; the episodic tables also hold
the episode's initial observation :math:`s_0` (so returning to the start is not a
first visit).  Measured on MiniGrid DoorKey-8x8 (research notes §8.2): the per-step
episodic :math:`1/\\sqrt{N_{ep}}` bonus is farmed (0 % success), while the product
is not (100 % success by 362k steps) – ``mode="product"`` is the default.

Key functions.  ``key_fn(obs_batch) -> sequence of n hashable keys`` (or an integer
array ``(n,)``).  Ready-made ones: :func:`obs_hash` (exact observation), and for
MiniGrid observations from ``FullyObsWrapper`` (``(n, W, H, 3)`` images, or dicts
with an ``"image"`` entry) :func:`minigrid_position`,
:func:`minigrid_position_direction` and :func:`minigrid_position_carrying`.
Keys can also be passed explicitly per call (``observe(..., keys=...)``) or read
from ``info[info_key]`` by :class:`~rewardkit.explore.base.BonusTerm` – vector envs
do not expose ``env.unwrapped``, so an info field filled by a wrapper is the way to
count privileged state.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..core.errors import BatchError, ConfigError
from ..core.registry import register_term
from .base import BonusTerm, IntrinsicBonus, _take, occurrence_groups, rollout_arrays

__all__ = [
    "KEY_FUNCTIONS",
    "MODES",
    "CountBonus",
    "count_bonus",
    "explicit_keys",
    "minigrid_agent_state",
    "minigrid_position",
    "minigrid_position_carrying",
    "minigrid_position_direction",
    "obs_hash",
]

MODES = ("global", "episodic", "first_visit", "product")

_HASH_COEFS: dict[int, np.ndarray] = {}

# MiniGrid's object/state encoding (minigrid.core.constants); fixed by the MiniGrid format
_MG_AGENT = 10
_MG_PICKABLE = (5, 6, 7)  # key, ball, box


def _coefs(nbytes: int) -> np.ndarray:
    c = _HASH_COEFS.get(nbytes)
    if c is None:
        g = np.random.default_rng(0x5EED)
        c = g.integers(1, 2**63 - 1, size=nbytes, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1)
        _HASH_COEFS[nbytes] = c
    return c


def obs_hash(obs: Any) -> np.ndarray:
    """A deterministic 64-bit hash of each observation row (exact-observation counts).

    :math:`h(x) = \\sum_i c_i\\, w_i \\bmod 2^{64}` over the row's bytes read as 64-bit
    words :math:`w_i` (zero-padded) with fixed random odd coefficients: the same in
    every process (unlike Python's ``hash``), so saved counts stay valid.  Dict
    observations hash their ``"image"`` entry.

    Example:
        >>> h = obs_hash(np.array([[1, 2], [1, 2], [2, 1]], dtype=np.uint8))
        >>> bool(h[0] == h[1]), bool(h[0] == h[2])
        (True, False)
    """
    if isinstance(obs, Mapping):
        obs = obs["image"] if "image" in obs else obs[sorted(obs)[0]]
    a = np.ascontiguousarray(np.asarray(obs))
    if a.ndim == 0:
        raise BatchError("obs", "is a scalar", "an array with a leading batch dimension")
    n = a.shape[0]
    b = a.reshape(n, -1).view(np.uint8).reshape(n, -1)
    if b.shape[1] % 8:
        b = np.concatenate([b, np.zeros((n, 8 - b.shape[1] % 8), np.uint8)], axis=1)
    w = b.view(np.uint64)
    with np.errstate(over="ignore"):
        return (w * _coefs(w.shape[1])).sum(axis=1, dtype=np.uint64).view(np.int64)


def _mg_image(obs: Any) -> np.ndarray:
    if isinstance(obs, Mapping):
        if "image" not in obs:
            raise BatchError("obs", f"is a dict with keys {sorted(obs)}", "a MiniGrid dict with an 'image' entry")
        obs = obs["image"]
    a = np.asarray(obs)
    if a.ndim != 4 or a.shape[-1] != 3:
        raise BatchError("obs", f"has shape {a.shape}",
                         "MiniGrid FullyObsWrapper images (n, width, height, 3)")
    return a


def minigrid_agent_state(obs: Any) -> np.ndarray:
    """``(x, y, direction)`` of the agent in each fully observable MiniGrid image, shape ``(n, 3)``.

    Reads the cell whose object index is ``agent`` (10) in a ``FullyObsWrapper``
    observation ``(n, W, H, 3)``; its state channel holds the direction.

    Example:
        >>> img = np.zeros((1, 5, 5, 3), dtype=np.uint8); img[0, 2, 3] = (10, 0, 1)
        >>> minigrid_agent_state(img).tolist()
        [[2, 3, 1]]
    """
    img = _mg_image(obs)
    n, _w, h, _ = img.shape
    is_agent = img[..., 0].reshape(n, -1) == _MG_AGENT
    found = is_agent.any(axis=1)
    if not found.all():
        raise BatchError("obs", f"row {int(np.flatnonzero(~found)[0])} has no agent cell",
                         "MiniGrid FullyObsWrapper images (the agent is visible only in fully observable images)")
    flat = is_agent.argmax(axis=1)
    x, y = np.divmod(flat, h)
    d = img[..., 2].reshape(n, -1)[np.arange(n), flat]
    return np.stack([x, y, d], axis=1).astype(np.int64)


def minigrid_position(obs: Any) -> np.ndarray:
    """Key = agent position ``(x, y)`` (as one int64) from a fully observable MiniGrid image.

    Example:
        >>> img = np.zeros((2, 5, 5, 3), dtype=np.uint8); img[0, 1, 1, 0] = 10; img[1, 1, 1] = (10, 0, 3)
        >>> k = minigrid_position(img); bool(k[0] == k[1])
        True
    """
    s = minigrid_agent_state(obs)
    return s[:, 0] * 4096 + s[:, 1]


def minigrid_position_direction(obs: Any) -> np.ndarray:
    """Key = agent position and direction ``(x, y, dir)`` from a fully observable MiniGrid image.

    Example:
        >>> img = np.zeros((2, 5, 5, 3), dtype=np.uint8); img[0, 1, 1] = (10, 0, 0); img[1, 1, 1] = (10, 0, 3)
        >>> k = minigrid_position_direction(img); bool(k[0] == k[1])
        False
    """
    s = minigrid_agent_state(obs)
    return (s[:, 0] * 4096 + s[:, 1]) * 4 + s[:, 2]


def minigrid_position_carrying(obs: Any) -> np.ndarray:
    """Key = agent position plus the layout of pickable objects (key, ball, box).

    A ``FullyObsWrapper`` image does not show what the agent carries, but picking an
    object up removes it from the grid (and dropping it puts it somewhere), so the
    positions/colours of the pickable objects left on the grid identify the carried
    object – the key changes when the agent picks up the DoorKey key.

    Example:
        >>> img = np.zeros((2, 5, 5, 3), dtype=np.uint8); img[:, 1, 1, 0] = 10
        >>> img[0, 3, 3] = (5, 4, 0)  # a yellow key still on the floor in row 0
        >>> k = minigrid_position_carrying(img); bool(k[0] == k[1])
        False
    """
    img = _mg_image(obs)
    s = minigrid_agent_state(img)
    t = img[..., 0]
    pick = np.where(np.isin(t, _MG_PICKABLE), t.astype(np.int64) * 16 + img[..., 1], 0).astype(np.uint8)
    with np.errstate(over="ignore"):
        objs = obs_hash(pick)
        return objs * np.int64(1_000_003) + s[:, 0] * 4096 + s[:, 1]


def explicit_keys(obs: Any) -> list:
    """Key = the observation row itself (already a key: an int, or a small int vector).

    Example:
        >>> explicit_keys(np.array([[1, 2], [3, 4]]))
        [(1, 2), (3, 4)]
    """
    a = np.asarray(obs)
    if a.ndim == 1:
        return a.tolist()
    return [tuple(r) for r in a.reshape(a.shape[0], -1).tolist()]


KEY_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "obs_hash": obs_hash,
    "minigrid_position": minigrid_position,
    "minigrid_position_direction": minigrid_position_direction,
    "minigrid_position_carrying": minigrid_position_carrying,
    "explicit": explicit_keys,
}


def _key_list(keys: Any, n: int, field: str = "keys") -> list:
    if isinstance(keys, np.ndarray):
        if keys.ndim == 1:
            out = keys.tolist()
        else:
            out = [tuple(r) for r in keys.reshape(keys.shape[0], -1).tolist()]
    else:
        out = list(keys)
    if len(out) != n:
        raise BatchError(field, f"has {len(out)} keys for {n} rows", f"{n} hashable keys")
    return out


class CountBonus(IntrinsicBonus):
    """Exact tabular count bonus (global, episodic, first-visit or product; see module docs).

    Args:
        mode: ``"global"`` :math:`1/\\sqrt{N}`, ``"episodic"`` :math:`1/\\sqrt{N_{ep}}`,
            ``"first_visit"`` :math:`\\mathbb{1}[N_{ep}=1]` or ``"product"``
            :math:`\\mathbb{1}[N_{ep}=1]/\\sqrt{N}` (Henaff et al. 2023).
        key_fn: ``key_fn(obs_batch) -> n hashable keys`` or the name of a built-in
            key function (see :data:`KEY_FUNCTIONS`).
        info_key: if set, :class:`BonusTerm` reads the keys from ``info[info_key]``
            of each transition instead of calling ``key_fn``.
        num_envs, seed, name: see :class:`IntrinsicBonus`.

    Example:
        >>> cb = CountBonus(mode="product", key_fn="explicit")
        >>> f = [False]
        >>> [round(float(cb.observe([[0]], [0], [[s]], f, f)[0]), 3) for s in (1, 2, 1)]
        [1.0, 1.0, 0.0]
        >>> cb.reset(); round(float(cb.observe([[0]], [0], [[1]], f, f)[0]), 3)  # new episode, 3rd global visit
        0.577
    """

    takes_keys = True

    def __init__(self, mode: str = "product", key_fn: str | Callable[[Any], Any] = "obs_hash",
                 info_key: str | None = None, num_envs: int | None = None, seed: int = 0,
                 name: str | None = None):
        if mode not in MODES:
            raise ConfigError("mode", f"got {mode!r}", f"one of {list(MODES)}")
        if isinstance(key_fn, str):
            if key_fn not in KEY_FUNCTIONS:
                raise ConfigError("key", f"got {key_fn!r}", f"one of {sorted(KEY_FUNCTIONS)} or a callable")
            key_fn = KEY_FUNCTIONS[key_fn]
        if not callable(key_fn):
            raise ConfigError("key_fn", f"got {key_fn!r}", "a callable obs_batch -> keys")
        super().__init__(num_envs=num_envs, seed=seed, name=name or f"count_{mode}")
        self.mode = mode
        self.key_fn = key_fn
        self.info_key = info_key
        self.episodic = mode != "global"
        self.global_counts: dict[Any, int] = {}
        self.episode_counts: list[dict[Any, int]] = []
        self._pending: list | None = None
        if num_envs:  # preallocate the per-env state
            self._ensure_envs(int(num_envs))

    # keys ---------------------------------------------------------------
    def keys(self, obs: Any) -> list:
        """The keys of a batch of observations."""
        k = self.key_fn(obs)
        return _key_list(k, len(k) if not isinstance(k, np.ndarray) else k.shape[0])

    def keys_from_info(self, infos: Sequence[Mapping[str, Any]]) -> list:
        """Keys read from ``info[self.info_key]`` (lists/arrays become tuples)."""
        out = []
        for i, inf in enumerate(infos):
            if self.info_key not in inf:
                raise BatchError(f"info[{i}].{self.info_key}", "missing",
                                 f"each transition's info to carry the count key '{self.info_key}'")
            v = inf[self.info_key]
            out.append(tuple(np.asarray(v).reshape(-1).tolist()) if np.ndim(v) else v)
        return out

    # protocol -----------------------------------------------------------
    def observe(self, obs: Any, action: Any, next_obs: Any, terminated: Any, truncated: Any,
                env_index: Any = None, keys: Any = None) -> np.ndarray:
        """As :meth:`IntrinsicBonus.observe`; ``keys`` (one per row) overrides ``key_fn(next_obs)``.

        With explicit keys the initial observation of an episode is not registered
        (its key is unknown).
        """
        if keys is not None and env_index is not None:
            idx = np.asarray(env_index, dtype=np.int64).reshape(-1)
            groups = occurrence_groups(idx)
            if groups is not None:  # several rows of one env: split, keeping each env's order
                kl = _key_list(keys, idx.shape[0])
                out = np.empty(idx.shape[0])
                t, u = np.asarray(terminated, dtype=bool).reshape(-1), np.asarray(truncated, dtype=bool).reshape(-1)
                for g in groups:
                    out[g] = self.observe(_take(obs, g), _take(action, g), _take(next_obs, g), t[g], u[g],
                                          idx[g], keys=[kl[i] for i in g])
                return out
        self._pending = None if keys is None else keys
        try:
            return super().observe(obs, action, next_obs, terminated, truncated, env_index)
        finally:
            self._pending = None

    def _ensure_envs(self, num_envs: int) -> None:
        while len(self.episode_counts) < num_envs:
            self.episode_counts.append({})

    def _register_initial(self, obs: Any, env_index: np.ndarray) -> None:
        if self._pending is not None:
            return
        for e, k in zip(env_index.tolist(), self.keys(obs), strict=False):
            table = self.episode_counts[e]
            table[k] = table.get(k, 0) + 1

    def _reset_envs(self, env_index: np.ndarray) -> None:
        for e in env_index.tolist():
            if e < len(self.episode_counts):
                self.episode_counts[e] = {}

    def _observe(self, obs: Any, action: Any, next_obs: Any, env_index: np.ndarray) -> np.ndarray:
        m = env_index.shape[0]
        keys = self.keys(next_obs) if self._pending is None else _key_list(self._pending, m)
        g = self.global_counts
        ng = np.empty(m)
        for i, k in enumerate(keys):
            c = g.get(k, 0) + 1
            g[k] = c
            ng[i] = c
        if self.mode == "global":
            return 1.0 / np.sqrt(ng)
        ne = np.empty(m)
        tables = self.episode_counts
        for i, (e, k) in enumerate(zip(env_index.tolist(), keys, strict=False)):
            t = tables[e]
            c = t.get(k, 0) + 1
            t[k] = c
            ne[i] = c
        if self.mode == "episodic":
            return 1.0 / np.sqrt(ne)
        first = (ne == 1.0).astype(np.float64)
        if self.mode == "first_visit":
            return first
        return first / np.sqrt(ng)

    def compute(self, batch: Mapping[str, Any]) -> np.ndarray:
        """Score a ``(T, n)`` rollout exactly as step-by-step :meth:`observe` would.

        The keys of all next states (and of the episode-start observations) are
        computed in one ``key_fn`` call each; only the table updates run per step.
        """
        obs, _, nxt, term, trunc, T, n = rollout_arrays(batch)
        if isinstance(nxt, Mapping) or isinstance(obs, Mapping) or T == 0:
            return super().compute(batch)
        nxt, obs = np.asarray(nxt), np.asarray(obs)
        k_next = self.keys(nxt.reshape((T * n, *nxt.shape[2:])))
        idx = np.arange(n)
        self.slots.ensure(idx)
        self._ensure_envs(self.slots.fresh.shape[0])
        done = term | trunc
        starts = np.zeros((T, n), dtype=bool)
        if self.episodic:
            starts[0] = self.slots.fresh[:n]
            starts[1:] = done[:-1]
        ts, es = np.nonzero(starts)
        k_start = self.keys(obs[ts, es]) if ts.size else []
        j = 0
        out = np.empty((T, n))
        for t in range(T):
            while j < ts.size and ts[j] == t:  # register s_0 of the episodes starting now
                table = self.episode_counts[es[j]]
                table[k_start[j]] = table.get(k_start[j], 0) + 1
                j += 1
            self._pending = k_next[t * n:(t + 1) * n]
            try:
                out[t] = self._observe(None, None, None, idx)
            finally:
                self._pending = None
            self.global_step += n
            if done[t].any():
                self._end_episodes(np.flatnonzero(done[t]))
        self.slots.fresh[:n] = done[-1]
        return out

    # diagnostics --------------------------------------------------------
    @property
    def num_unique(self) -> int:
        """Number of distinct keys seen so far (a coverage metric)."""
        return len(self.global_counts)

    def count(self, key: Any) -> int:
        """Global count of ``key``."""
        return self.global_counts.get(key, 0)


@register_term("count_bonus", batch_kind="transition")
def count_bonus(mode: str = "product", key: str = "obs_hash", coef: float = 1.0,
                info_key: str | None = None, name: str = "count_bonus") -> BonusTerm:
    """Tabular count bonus (global | episodic | first_visit | product) as a reward term.

    Params: ``mode``; ``key`` one of ``obs_hash``, ``minigrid_position``,
    ``minigrid_position_direction``, ``minigrid_position_carrying``, ``explicit``;
    ``info_key`` to read keys from ``info``; ``coef`` the bonus scale.

    Example:
        >>> from rewardkit.core import build_reward
        >>> r = build_reward({"terms": [{"type": "count_bonus", "params": {"mode": "global", "coef": 0.01}}]})
        >>> r.weights
        {'count_bonus': 1.0}
    """
    try:
        coef = float(coef)
    except (TypeError, ValueError):
        raise ConfigError("params.coef", f"got {coef!r}", "a number") from None
    return BonusTerm(CountBonus(mode=mode, key_fn=key, info_key=info_key, name=name), coef=coef, name=name)
