"""A bonus-share guard: detect bonus farming from episode statistics.

An exploration bonus that does not vanish can become the task: the agent collects
intrinsic reward and stops finishing episodes (the Pong RND agent that "optimizes
for episode length", hill-a/stable-baselines #309; measured here: MiniGrid
``PositionBonus(0.1)`` drops MultiRoom-N2-S4 from 100 % to 0 % success, an
episodic :math:`1/\\sqrt{N_{ep}}` bonus keeps DoorKey-8x8 at 0 %).

:class:`BonusShareGuard` records, per finished episode, the extrinsic and intrinsic
return, their absolute sums, the length, whether it was truncated and whether it
succeeded.  Every ``window`` episodes it checks the last window :math:`W`, whose
intrinsic share of the absolute reward is pooled over the window

.. math:: \\rho_W = \\frac{\\sum_{e \\in W} \\sum_t |r^{int}_t|}
          {\\sum_{e \\in W} \\sum_t |r^{int}_t| + \\sum_{e \\in W} \\sum_t |r^{ext}_t|}

(the ratio of sums, not the mean of per-episode ratios: a failed episode has no
extrinsic reward, so its own ratio is 1 however small the bonus, and the mean of
per-episode ratios measures the failure rate rather than the bonus: on B3 below it
flagged noisy success dips of the count product, whose bonus is ~1 % of the reward, as
``success_fell`` on seeds 1, 2 and 4 – ``bench/explore/b3_guard_calibration.py``).  It raises a
:class:`BonusFarmingWarning` (``warnings.warn`` once, and sets ``flagged``) when
:math:`\\rho_W` exceeds ``threshold`` **and** for ``patience`` consecutive checks one
of these holds:

* ``success_fell`` – the window's success rate is ``success_drop`` below the best window;
* ``length_rose`` – the window's episodes are ``length_increase`` (relative) longer than
  the shortest window seen while the agent was succeeding;
* ``bonus_kept_without_success`` – the bonus is kept instead of the task: no success
  in the window (rate <= ``min_success``), **and** no successful episode at all during
  the last ``warmup_steps`` steps per environment (the warm-up, which restarts at
  every success),

  .. math:: \\frac{\\text{step} - \\text{step of the last success (or of the start)}}{\\text{num\\_envs}}
            \\ge \\text{warmup\\_steps},

  **and** the bonus is worth farming: the window's mean intrinsic return per episode
  is at least ``min_bonus_ratio`` times the mean extrinsic return of the successful
  episodes so far (what finishing pays; not checked before the first success)

  .. math:: \\bar R^{int}_W \\ge \\text{min\\_bonus\\_ratio} \\cdot \\bar R^{ext}_{success}.

Why these two conditions and not "the intrinsic return has not decayed since the
previous window" (the criterion before issue #3): a learning agent also spends its
first episodes without success, so the absence of success is evidence of farming
only once the agent has had time to find the goal; and the decay of the per-episode
intrinsic return does not separate farming from learning.  Measured on MiniGrid
MultiRoom-N2-S4 (SB3 PPO, 8 envs, 60k steps, seeds 0-4; the streams are recorded and
replayed through this class by ``bench/explore/b3_guard_calibration.py``): the over-scaled
global count bonus (0.1/√N, the negative control) is farmed while its per-episode return
keeps decaying (global counts only grow), and E3B's does not decay because its covariance
resets each episode – the old comparison flagged E3B at step 3,200.  What separates them:

* time without any success – 679-986 steps per env for E3B on four seeds and 372-657 for
  the first-visit × global count product, against 3,139-5,028 for the negative control.
  E3B seed 3 went 2,360 steps per env without success: an agent that is stuck, which is
  not farming, because
* the bonus is not worth farming – the largest window mean intrinsic return over the
  mean return of the successes so far (after 10k steps) is 1.9-4.6 for the negative
  control, at most 0.61 for E3B and 0.05 for the count product.

With ``warmup_steps=1000`` (8 PPO rollouts of 128 steps) and ``min_bonus_ratio=0.5`` the
negative control is flagged at steps 30,200-40,720 on all five seeds and E3B / the count
product never; E3B stays silent for any warm-up >= 550 steps per env, and without the
ratio condition seed 3 is flagged.  Time is counted per
environment (total steps / number of envs): an on-policy agent's learning progress
follows its rollouts, which advance one step per environment at a time.

It is a heuristic monitor, not a proof: thresholds are parameters, every check is
reported by :meth:`BonusShareGuard.report`, and in a task that nothing solves within
``warmup_steps`` per env ``bonus_kept_without_success`` reads "the bonus dominates and
nothing succeeds" – set ``warmup_steps`` to the budget in which first successes are
expected.
"""

from __future__ import annotations

import warnings
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..core.errors import BatchError, ConfigError

__all__ = ["BonusFarmingWarning", "BonusShareGuard", "EpisodeStats"]


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
    abs_extrinsic: float | None = None   #: sum_t |r_ext_t| (None: |extrinsic_return|)
    abs_intrinsic: float | None = None   #: sum_t |r_int_t| (None: |intrinsic_return|)


class BonusShareGuard:
    """Track the intrinsic share of reward per episode and warn on bonus farming (see module docs).

    Args:
        num_envs: sub-envs (grows on demand).
        threshold: intrinsic share above which farming is suspected (0.5).
        window: episodes per window (20).
        patience: consecutive positive checks needed to flag (3).
        success_drop, length_increase, min_success: criteria thresholds (see module docs).
        warmup_steps: steps per environment without any successful episode (counted
            from the start, and again from every success) before
            ``bonus_kept_without_success`` may hold (1000; 0 = no warm-up).
        min_bonus_ratio: ``bonus_kept_without_success`` also needs the window's mean
            intrinsic return per episode to be at least this fraction of the mean extrinsic
            return of the successful episodes so far (0.5; not checked before the first
            success; 0 = always).
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
        >>> g.flagged, sorted(g.reasons), len(w) == 1
        (True, ['length_rose', 'success_fell'], True)

        An agent that has not succeeded yet is given ``warmup_steps`` per env before its
        bonus counts as kept instead of the task:

        >>> g = BonusShareGuard(window=5, patience=2, warmup_steps=2000, warn=False)
        >>> for ep in range(60):                        # 40-step episodes, never a success
        ...     for t in range(40):
        ...         _ = g.update([0.0], [0.1], terminated=[False], truncated=[t == 39])
        ...     if ep == 39:
        ...         print(g.flagged, g.report()["steps_since_success"])
        False 1600.0
        >>> g.flagged, g.flag_step, sorted(g.reasons)
        (True, 2200, ['bonus_kept_without_success'])
    """

    def __init__(self, num_envs: int | None = None, threshold: float = 0.5, window: int = 20, patience: int = 3,
                 success_drop: float = 0.2, length_increase: float = 0.25, min_success: float = 0.05,
                 success_threshold: float = 0.0, warn: bool = True, history: int = 1000,
                 warmup_steps: float = 1000, min_bonus_ratio: float = 0.5):
        if not 0.0 < threshold < 1.0:
            raise ConfigError("threshold", f"got {threshold!r}", "a share in (0, 1)")
        if window < 1 or patience < 1:
            raise ConfigError("window", f"got window={window}, patience={patience}", "positive ints")
        if not warmup_steps >= 0:
            raise ConfigError("warmup_steps", f"got {warmup_steps!r}", "steps per env >= 0")
        if not min_bonus_ratio >= 0:
            raise ConfigError("min_bonus_ratio", f"got {min_bonus_ratio!r}", "a ratio >= 0")
        self.threshold, self.window, self.patience = float(threshold), int(window), int(patience)
        self.warmup_steps, self.min_bonus_ratio = float(warmup_steps), float(min_bonus_ratio)
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
        self.last_success_step = 0   # total steps at the end of the last successful episode (0: none yet)
        self.successes = 0           # successful episodes so far (all of them, not only ``history``)
        self._success_return_sum = 0.0
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
                              int(self._len[e]), bool(trunc[i] and not term[i]), ok, self.step,
                              float(self._abs_ext[e]), float(self._abs_int[e]))
            finished.append(st)
            self._ext[e] = self._int[e] = self._abs_ext[e] = self._abs_int[e] = 0.0
            self._len[e] = 0
            self.add_episode(st)
        return finished

    def add_episode(self, stats: EpisodeStats) -> None:
        """Record one finished episode and run the window check when a window is full.

        :meth:`update` calls this for every episode it closes; calling it directly replays
        recorded statistics (``stats.step`` advances the guard's step clock).
        """
        self.step = max(self.step, int(stats.step))
        if stats.success:
            self.last_success_step = self.step
            self.successes += 1
            self._success_return_sum += float(stats.extrinsic_return)
        self.episodes.append(stats)
        self._since_check += 1
        if self._since_check >= self.window:
            self._since_check = 0
            self._check()

    def _windows(self) -> tuple[list[EpisodeStats], list[EpisodeStats]]:
        eps = list(self.episodes)
        w = self.window
        return eps[-w:], eps[-2 * w: -w]

    def steps_since_success(self) -> float:
        """Steps per environment since the last successful episode (or since the start)."""
        return (self.step - self.last_success_step) / max(1, self._ext.shape[0])

    def success_return(self) -> float | None:
        """Mean extrinsic return of the successful episodes so far (None before the first one)."""
        return self._success_return_sum / self.successes if self.successes else None

    def bonus_ratio(self, episodes: list[EpisodeStats]) -> float | None:
        """Mean per-episode intrinsic return of ``episodes`` over :meth:`success_return` (None: no
        success yet, inf: successes pay nothing)."""
        r_succ = self.success_return()
        if r_succ is None or not episodes:
            return None
        r_int = float(np.mean([abs(e.intrinsic_return) if e.abs_intrinsic is None else e.abs_intrinsic
                               for e in episodes]))
        return r_int / r_succ if r_succ > 0 else float("inf")

    @staticmethod
    def pooled_share(episodes: list[EpisodeStats]) -> float:
        """Intrinsic share of the absolute reward summed over ``episodes`` (module docs, rho_W)."""
        a_int = sum(abs(e.intrinsic_return) if e.abs_intrinsic is None else e.abs_intrinsic for e in episodes)
        a_ext = sum(abs(e.extrinsic_return) if e.abs_extrinsic is None else e.abs_extrinsic for e in episodes)
        return float(a_int / (a_int + a_ext)) if a_int + a_ext > 0 else 0.0

    def _check(self) -> None:
        recent, _ = self._windows()
        if len(recent) < self.window:
            return
        share = self.pooled_share(recent)
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
        since = self.steps_since_success()
        warmed_up = since >= self.warmup_steps
        ratio = self.bonus_ratio(recent)
        worth_farming = ratio is None or ratio >= self.min_bonus_ratio
        if succ <= self.min_success and warmed_up and worth_farming:
            reasons.add("bonus_kept_without_success")
        suspicious = share > self.threshold and bool(reasons)
        self._streak = self._streak + 1 if suspicious else 0
        self.last_check = {"share": share, "success_rate": succ, "mean_length": length,
                           "intrinsic_return": ret_int, "reasons": sorted(reasons), "streak": self._streak,
                           "step": self.step, "steps_since_success": since, "warmed_up": warmed_up,
                           "bonus_ratio": ratio}
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
        """Summary: flag state, last check, warm-up state, recent-window share/success/length and the last episodes.

        ``steps_since_success`` (per env) and ``warmed_up`` (``>= warmup_steps``) are the
        warm-up state of ``bonus_kept_without_success``; ``recent_share`` is pooled
        over the last window (module docs).
        """
        recent, _ = self._windows()
        since = self.steps_since_success()
        return {"flagged": self.flagged, "flag_step": self.flag_step, "reasons": sorted(self.reasons),
                "episodes": len(self.episodes), "step": self.step, "last_check": dict(self.last_check),
                "warmup_steps": self.warmup_steps, "last_success_step": self.last_success_step,
                "steps_since_success": since, "warmed_up": since >= self.warmup_steps,
                "min_bonus_ratio": self.min_bonus_ratio, "successes": self.successes,
                "success_return": self.success_return(),
                "bonus_ratio": self.bonus_ratio(recent) if recent else None,
                "recent_share": self.pooled_share(recent) if recent else None,
                "recent_success": float(np.mean([e.success for e in recent])) if recent else None,
                "recent_length": float(np.mean([e.length for e in recent])) if recent else None,
                "last_episodes": [asdict(e) for e in list(self.episodes)[-5:]]}
