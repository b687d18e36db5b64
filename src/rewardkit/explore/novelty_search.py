"""Novelty search: reward behaviours that differ from those seen before.

Lehman & Stanley (2011), "Abandoning Objectives: Evolution Through the Search for
Novelty Alone", Evolutionary Computation 19(2).  A *behaviour descriptor*
:math:`\\beta(\\pi)` (e.g. an episode's final ``(x, y)``) is scored by its
sparseness, the mean distance to its :math:`k` nearest neighbours among the current
population and an archive of past novel behaviours:

.. math:: \\rho(x) = \\frac{1}{k} \\sum_{i=1}^{k} \\operatorname{dist}(\\beta(x), \\mu_i)

and behaviours with :math:`\\rho > \\rho_{min}` enter the archive.  ``rho_min`` adapts
as in the paper: lowered when nothing was archived for a while, raised when many
were archived in one generation.  STAX (Paolo, Coninx, Doncieux & Laflaquière 2021,
"Sparse Reward Exploration via Novelty Search and Emitters", GECCO) uses the same
archive on a *learned* descriptor – pass any ``descriptor_fn``.

:class:`NoveltySearchBonus` turns this into an **episode-level** RL bonus: when an
episode ends, its descriptor (from the final observation, or accumulated by a
user ``descriptor_fn``) is scored against the archive and the recent episodes; all
other steps get 0.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

from ..core.errors import BatchError, ConfigError
from ._linalg import mm
from .base import IntrinsicBonus

__all__ = ["NoveltyArchive", "NoveltySearchBonus", "sparseness"]


def sparseness(queries: np.ndarray, pool: np.ndarray, k: int, exclude_self: bool = False) -> np.ndarray:
    """Mean Euclidean distance of each query to its ``k`` nearest points of ``pool``.

    With ``exclude_self`` the queries are rows ``0..m-1`` of ``pool`` and skip themselves.

    Example:
        >>> pool = np.array([[0.0], [1.0], [3.0]])
        >>> sparseness(pool, pool, k=1, exclude_self=True).tolist()
        [1.0, 1.0, 2.0]
    """
    q = np.asarray(queries, dtype=np.float64)
    p = np.asarray(pool, dtype=np.float64)
    if p.shape[0] == 0:
        return np.zeros(q.shape[0])
    d = np.sqrt(np.maximum((q * q).sum(1)[:, None] - 2 * mm(q, p.T) + (p * p).sum(1)[None, :], 0.0))
    if exclude_self:
        d[np.arange(q.shape[0]), np.arange(q.shape[0])] = np.inf
    avail = p.shape[0] - (1 if exclude_self else 0)
    if avail <= 0:
        return np.zeros(q.shape[0])
    kk = min(k, avail)
    return np.partition(d, kk - 1, axis=1)[:, :kk].mean(axis=1)


class NoveltyArchive:
    """Archive + sparseness scoring of behaviour descriptors (Lehman & Stanley 2011).

    Args:
        k: neighbours (15 in the paper).
        rho_min: initial archive threshold.
        adapt: adapt ``rho_min`` (x0.95 after ``stall`` generations without additions,
            x1.2 when more than ``burst`` behaviours were added in one call).
        max_size: archive capacity (oldest entries dropped first).

    Example:
        >>> arch = NoveltyArchive(k=1, rho_min=0.5, adapt=False)
        >>> arch.step(np.array([[0.0, 0.0], [0.0, 0.1], [5.0, 5.0]])).round(2).tolist()
        [0.1, 0.1, 7.0]
        >>> len(arch)   # only the far behaviour was novel enough
        1
    """

    def __init__(self, k: int = 15, rho_min: float = 1.0, adapt: bool = True, stall: int = 5, burst: int = 4,
                 max_size: int = 10000):
        if k < 1:
            raise ConfigError("k", f"got {k!r}", "a positive int")
        self.k, self.rho_min, self.adapt = int(k), float(rho_min), bool(adapt)
        self.stall, self.burst, self.max_size = int(stall), int(burst), int(max_size)
        self.archive: np.ndarray | None = None
        self._stalled = 0

    def __len__(self) -> int:
        return 0 if self.archive is None else int(self.archive.shape[0])

    def score(self, behaviours: Any, population: Any = None) -> np.ndarray:
        """Sparseness of ``behaviours`` w.r.t. themselves (the population) ∪ ``population`` ∪ archive."""
        b = np.atleast_2d(np.asarray(behaviours, dtype=np.float64))
        parts = [b]
        if population is not None:
            parts.append(np.atleast_2d(np.asarray(population, dtype=np.float64)))
        if self.archive is not None:
            if self.archive.shape[1] != b.shape[1]:
                raise BatchError("behaviours", f"have {b.shape[1]} dims", f"{self.archive.shape[1]} like the archive")
            parts.append(self.archive)
        return sparseness(b, np.concatenate(parts, axis=0), self.k, exclude_self=True)

    def add(self, behaviours: Any, scores: Any) -> int:
        """Archive the behaviours whose score exceeds ``rho_min``; adapt the threshold; return #added."""
        b = np.atleast_2d(np.asarray(behaviours, dtype=np.float64))
        keep = b[np.asarray(scores) > self.rho_min]
        if keep.shape[0]:
            self.archive = keep if self.archive is None else np.concatenate([self.archive, keep])[-self.max_size:]
        if self.adapt:
            if keep.shape[0] == 0:
                self._stalled += 1
                if self._stalled >= self.stall:
                    self.rho_min *= 0.95
                    self._stalled = 0
            else:
                self._stalled = 0
                if keep.shape[0] > self.burst:
                    self.rho_min *= 1.2
        return int(keep.shape[0])

    def step(self, behaviours: Any) -> np.ndarray:
        """Score one generation and archive its novel members; returns the scores."""
        s = self.score(behaviours)
        self.add(behaviours, s)
        return s

    def state_dict(self) -> dict[str, Any]:
        return {"archive": None if self.archive is None else self.archive.copy(), "rho_min": self.rho_min,
                "stalled": self._stalled}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.archive = None if s["archive"] is None else np.asarray(s["archive"]).copy()
        self.rho_min, self._stalled = float(s["rho_min"]), int(s["stalled"])


class NoveltySearchBonus(IntrinsicBonus):
    """Episode-level novelty bonus: sparseness of the episode's behaviour descriptor at its end.

    Args:
        descriptor_fn: ``descriptor_fn(final_obs_batch) -> (m, d)`` behaviour descriptors
            (default: the flattened final observation).
        k, rho_min, adapt, max_size: as :class:`NoveltyArchive`.
        population: how many recent episode descriptors act as the "population" (50).

    Example:
        >>> nb = NoveltySearchBonus(k=1, rho_min=0.5, adapt=False)
        >>> f, t = [False], [True]
        >>> float(nb.observe([[0.0]], [0], [[1.0]], f, f)[0])    # not the end of an episode
        0.0
        >>> float(nb.observe([[0.0]], [0], [[1.0]], t, f)[0])    # first episode: nothing to compare with
        0.0
        >>> float(nb.observe([[0.0]], [0], [[4.0]], t, f)[0])    # 3 away from the previous ending
        3.0
    """

    def __init__(self, descriptor_fn: Callable[[Any], Any] | None = None, k: int = 15, rho_min: float = 1.0,
                 adapt: bool = True, max_size: int = 10000, population: int = 50, num_envs: int | None = None,
                 seed: int = 0, name: str | None = None):
        super().__init__(num_envs=num_envs, seed=seed, name=name or "novelty_search")
        self.descriptor_fn = descriptor_fn
        self.archive = NoveltyArchive(k=k, rho_min=rho_min, adapt=adapt, max_size=max_size)
        self.population_size = int(population)
        self.recent: np.ndarray | None = None

    def describe(self, obs: Any) -> np.ndarray:
        d = self.descriptor_fn(obs) if self.descriptor_fn is not None else obs
        d = np.asarray(d, dtype=np.float64)
        return d.reshape(d.shape[0], -1)

    def observe(self, obs, action, next_obs, terminated, truncated, env_index=None) -> np.ndarray:
        done = np.asarray(terminated, dtype=bool).reshape(-1) | np.asarray(truncated, dtype=bool).reshape(-1)
        out = np.zeros(done.shape[0])
        self.global_step += done.shape[0]
        if not done.any():
            return out
        rows = np.flatnonzero(done)
        desc = self.describe(np.asarray(next_obs)[rows])
        ok = np.isfinite(desc).all(axis=1)
        if not ok.all():  # a corrupt descriptor scores NaN and is never stored
            out[rows[~ok]] = np.nan
            rows, desc = rows[ok], desc[ok]
            if rows.size == 0:
                return out
        scores = self.archive.score(desc, self.recent)
        # a lone first behaviour has nothing to be novel against: score 0, but archive it
        self.archive.add(desc, np.where(len(self.archive) == 0 and self.recent is None and desc.shape[0] == 1,
                                        np.inf, scores))
        self.recent = desc if self.recent is None else np.concatenate([self.recent, desc])[-self.population_size:]
        out[rows] = scores
        return out

    def compute(self, batch):
        return IntrinsicBonus.compute(self, batch)
