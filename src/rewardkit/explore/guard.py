"""A bonus-share guard: detect bonus farming from episode statistics.

An exploration bonus that does not vanish can become the task: the agent collects
intrinsic reward and stops finishing episodes (the Pong RND agent that "optimizes
for episode length", hill-a/stable-baselines #309; measured here: MiniGrid
``PositionBonus(0.1)`` drops MultiRoom-N2-S4 from 100 % to 0 % success, an
episodic :math:`1/\\sqrt{N_{ep}}` bonus keeps DoorKey-8x8 at 0 %).

:class:`BonusShareGuard` tracks, per finished episode, the intrinsic share of the
absolute reward

.. math:: \\rho = \\frac{\\sum_t |r^{int}_t|}{\\sum_t |r^{int}_t| + \\sum_t |r^{ext}_t|}

the episode length, whether it was truncated, whether it succeeded, and its
intrinsic return.  Over windows of ``window`` episodes it raises a
:class:`BonusFarmingWarning` (``warnings.warn`` once, and sets ``flagged``) when the
recent mean share exceeds ``threshold`` **and** for ``patience`` consecutive checks
one of these holds:

* ``success_fell`` – the recent success rate is ``success_drop`` below the best window;
* ``length_rose`` – recent episodes are ``length_increase`` (relative) longer than the
  shortest window seen while the agent was succeeding;
* ``bonus_kept_without_success`` – no success in the recent window
  (rate <= ``min_success``) while the per-episode intrinsic return has not decayed
  compared with the previous window (a useful bonus shrinks as states become
  familiar; a farmed one does not).

It is a heuristic monitor, not a proof: thresholds are parameters and every check
is reported by :meth:`BonusShareGuard.report`.
"""

from __future__ import annotations

import warnings
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..core.errors import BatchError, ConfigError

__all__ = ["BonusShareGuard", "BonusFarmingWarning", "EpisodeStats"]


class BonusFarmingWarning(RuntimeWarning):
    """The intrinsic bonus seems to be farmed instead of helping the task."""


@dataclass
class EpisodeStats:
    """Statistics of one finished episode."""

    extrinsic_return: float
    intrinsic_return: float
    share: float
    length: int
    truncated: bool
    success: bool
    step: int


class BonusShareGuard:
    """Track the intrinsic share of reward per episode and warn on bonus farming (see module docs).

    Args:
        num_envs: sub-envs (grows on demand).
        threshold: intrinsic share above which farming is suspected (0.5).
        window: episodes per window (20).
        patience: consecutive positive checks needed to flag (3).
        success_drop, length_increase, min_success: criteria thresholds (see module docs).
        success_threshold: an episode succeeds when its extrinsic return exceeds this
            (unless ``success`` is passed to :meth:`update`).
        warn: emit ``warnings.warn`` when flagging (default True).

    Example:
        >>> import warnings
        >>> g = BonusShareGuard(window=5, patience=2)
        >>> with warnings.catch_warnings(record=True) as w:
        ...     warnings.simplefilter("always")
        ...     for ep in range(40):                    # solves first, then farms the bonus
        ...         farming = ep >= 15
        ...         for t in range(10 if not farming else 50):
        ...             last = t == (9 if not farming else 49)
        ...             _ = g.update([0.0 if farming or not last else 1.0], [0.5 if farming else 0.01],
        ...                          terminated=[last and not farming], truncated=[last and farming])
        >>> g.flagged, sorted(g.reasons)[:1], len(w) == 1
        (True, ['bonus_kept_without_success'], True)
    """

    def __init__(self, num_envs: int | None = None, threshold: float = 0.5, window: int = 20, patience: int = 3,
                 success_drop: float = 0.2, length_increase: float = 0.25, min_success: float = 0.05,
                 success_threshold: float = 0.0, warn: bool = True, history: int = 1000):
        if not 0.0 < threshold < 1.0:
            raise ConfigError("threshold", f"got {threshold!r}", "a share in (0, 1)")
        if window < 1 or patience < 1:
            raise ConfigError("window", f"got window={window}, patience={patience}", "positive ints")
        self.threshold, self.window, self.patience = float(threshold), int(window), int(patience)
        self.success_drop, self.length_increase = float(success_drop), float(length_increase)
        self.min_success, self.success_threshold = float(min_success), float(success_threshold)
        self.warn = bool(warn)
        n = int(num_envs or 0)
        self._ext = np.zeros(n)
        self._int = np.zeros(n)
        self._abs_ext = np.zeros(n)
        self._abs_int = np.zeros(n)
        self._len = np.zeros(n, dtype=np.int64)
        self.episodes: deque[EpisodeStats] = deque(maxlen=int(history))
        self.step = 0
        self.flagged = False
        self.flag_step: int | None = None
        self.reasons: set[str] = set()
        self._streak = 0
        self._best_success = 0.0
        self._shortest_success_len: float | None = None
        self._since_check = 0
        self.last_check: dict[str, Any] = {}

    def _grow(self, size: int) -> None:
        if size > self._ext.shape[0]:
            extra = size - self._ext.shape[0]
            self._ext = np.concatenate([self._ext, np.zeros(extra)])
            self._int = np.concatenate([self._int, np.zeros(extra)])
            self._abs_ext = np.concatenate([self._abs_ext, np.zeros(extra)])
            self._abs_int = np.concatenate([self._abs_int, np.zeros(extra)])
            self._len = np.concatenate([self._len, np.zeros(extra, dtype=np.int64)])

    def update(self, extrinsic: Any, intrinsic: Any, terminated: Any, truncated: Any,
               success: Any = None, env_index: Any = None) -> list[EpisodeStats]:
        """Add one vector-env step (arrays ``(m,)``); returns the episodes that ended in it."""
        ext = np.asarray(extrinsic, dtype=np.float64).reshape(-1)
        itr = np.asarray(intrinsic, dtype=np.float64).reshape(-1)
        m = ext.shape[0]
        if itr.shape[0] != m:
            raise BatchError("intrinsic", f"has {itr.shape[0]} entries for {m} envs", f"({m},) floats")
        term = np.asarray(terminated, dtype=bool).reshape(-1)
        trunc = np.asarray(truncated, dtype=bool).reshape(-1)
        idx = np.arange(m) if env_index is None else np.asarray(env_index, dtype=np.int64).reshape(-1)
        self._grow(int(idx.max()) + 1 if m else 0)
        self._ext[idx] += ext
        self._int[idx] += itr
        self._abs_ext[idx] += np.abs(ext)
        self._abs_int[idx] += np.abs(itr)
        self._len[idx] += 1
        self.step += m
        done = term | trunc
        finished = []
        succ = None if success is None else np.asarray(success, dtype=bool).reshape(-1)
        for i in np.flatnonzero(done).tolist():
            e = idx[i]
            denom = self._abs_int[e] + self._abs_ext[e]
            ok = bool(succ[i]) if succ is not None else bool(self._ext[e] > self.success_threshold)
            st = EpisodeStats(float(self._ext[e]), float(self._int[e]),
                              float(self._abs_int[e] / denom) if denom > 0 else 0.0,
                              int(self._len[e]), bool(trunc[i] and not term[i]), ok, self.step)
            finished.append(st)
            self.episodes.append(st)
            self._ext[e] = self._int[e] = self._abs_ext[e] = self._abs_int[e] = 0.0
            self._len[e] = 0
            self._since_check += 1
            if self._since_check >= self.window:
                self._since_check = 0
                self._check()
        return finished

    def _windows(self) -> tuple[list[EpisodeStats], list[EpisodeStats]]:
        eps = list(self.episodes)
        w = self.window
        return eps[-w:], eps[-2 * w: -w]

    def _check(self) -> None:
        recent, previous = self._windows()
        if len(recent) < self.window:
            return
        share = float(np.mean([e.share for e in recent]))
        succ = float(np.mean([e.success for e in recent]))
        length = float(np.mean([e.length for e in recent]))
        ret_int = float(np.mean([e.intrinsic_return for e in recent]))
        self._best_success = max(self._best_success, succ)
        if succ > self.min_success:
            self._shortest_success_len = length if self._shortest_success_len is None \
                else min(self._shortest_success_len, length)
        reasons = set()
        if self._best_success - succ >= self.success_drop:
            reasons.add("success_fell")
        if self._shortest_success_len is not None and length >= (1 + self.length_increase) * self._shortest_success_len:
            reasons.add("length_rose")
        if previous and succ <= self.min_success:
            prev_int = float(np.mean([e.intrinsic_return for e in previous]))
            if ret_int >= prev_int:
                reasons.add("bonus_kept_without_success")
        suspicious = share > self.threshold and bool(reasons)
        self._streak = self._streak + 1 if suspicious else 0
        self.last_check = {"share": share, "success_rate": succ, "mean_length": length,
                           "intrinsic_return": ret_int, "reasons": sorted(reasons), "streak": self._streak,
                           "step": self.step}
        if self._streak >= self.patience and not self.flagged:
            self.flagged = True
            self.flag_step = self.step
            self.reasons = reasons
            if self.warn:
                warnings.warn(BonusFarmingWarning(
                    f"intrinsic bonus share {share:.2f} > {self.threshold} with {', '.join(sorted(reasons))} "
                    f"(success {succ:.2f}, mean length {length:.0f}) at step {self.step}: the bonus is probably "
                    "being farmed – lower its coefficient, decay it, or use a bounded (first-visit/product) bonus"),
                    stacklevel=3)

    def report(self) -> dict[str, Any]:
        """Summary: last check, flag state, per-window share/success/length and the last episodes."""
        recent, _ = self._windows()
        return {"flagged": self.flagged, "flag_step": self.flag_step, "reasons": sorted(self.reasons),
                "episodes": len(self.episodes), "last_check": dict(self.last_check),
                "recent_share": float(np.mean([e.share for e in recent])) if recent else None,
                "recent_success": float(np.mean([e.success for e in recent])) if recent else None,
                "recent_length": float(np.mean([e.length for e in recent])) if recent else None,
                "last_episodes": [asdict(e) for e in list(self.episodes)[-5:]]}
