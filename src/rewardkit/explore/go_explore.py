"""Go-Explore utilities: cell representations, a cell archive, state snapshot/restore.

Ecoffet, Huizinga, Lehman, Stanley & Clune (2021), "First return, then explore",
Nature 590 (and arXiv:1901.10995, 2019).  Go-Explore keeps an **archive of cells**
(coarse state representations), repeatedly *selects* a promising cell, *returns* to
it (by restoring the simulator state) and *explores* from it, adding every new cell
– or replacing a known cell when it was reached with a higher score, or with the
same score by a shorter trajectory.  This avoids the *detachment* and
*derailment* failure modes of intrinsic-motivation agents.

* :func:`downscale_cell` – the paper's domain-agnostic cell: the frame converted to
  grey, downscaled (area average) to ``width x height`` and quantised to ``depth``
  intensity levels;
* :class:`CellArchive` – the archive with the update rule above and count-based
  selection weights, per attribute :math:`a \\in` {times chosen, times chosen since
  it led to a new cell, times seen}:
  :math:`W(c) = \\sum_a w_a (1/(v_a(c)+\\epsilon_1))^{p_a} + \\epsilon_2`
  (defaults :math:`w = (0.1, 0, 0.3)`, :math:`p_a = 0.5`, :math:`\\epsilon_1 = 10^{-3}`,
  :math:`\\epsilon_2 = 10^{-5}`, as recalled from the 2019 paper);
* :func:`minigrid_snapshot` / :func:`minigrid_restore` – exact save/restore of a MiniGrid
  env (agent position and direction, grid, carried object, step count, RNG state);
* :func:`explore_from_archive` – one return-then-explore iteration with random
  exploration (repeat the previous action with probability 0.95, as in the paper).

A pluggable ``interesting(cell_key, info) -> bool`` judge (Intelligent Go-Explore,
Lu, Hu & Clune 2025, lets a foundation model decide) can filter what enters the
archive.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Hashable

import numpy as np

from ..core.errors import BatchError, ConfigError

__all__ = [
    "Cell",
    "CellArchive",
    "downscale_cell",
    "explore_from_archive",
    "minigrid_restore",
    "minigrid_snapshot",
]


def downscale_cell(obs: Any, width: int = 11, height: int = 8, depth: int = 8, max_value: float = 255.0) -> bytes:
    """Go-Explore's generic cell of one frame: grey, area-downscaled, quantised -> ``bytes`` key.

    ``obs`` is ``(H, W)`` or ``(H, W, C)`` (channels averaged).

    Example:
        >>> a = np.zeros((16, 16, 3)); b = a.copy(); b[0, 0] = 10   # a tiny change
        >>> c = a.copy(); c[:8, :8] = 255                           # a big change
        >>> downscale_cell(a, 4, 4) == downscale_cell(b, 4, 4), downscale_cell(a, 4, 4) == downscale_cell(c, 4, 4)
        (True, False)
    """
    x = np.asarray(obs, dtype=np.float64)
    if x.ndim == 3:
        x = x.mean(axis=2)
    if x.ndim != 2:
        raise BatchError("obs", f"has shape {np.shape(obs)}", "one frame (H, W) or (H, W, C)")
    h, w = x.shape
    rows = np.linspace(0, h, min(height, h) + 1).astype(int)
    cols = np.linspace(0, w, min(width, w) + 1).astype(int)
    sums = np.add.reduceat(np.add.reduceat(x, rows[:-1], axis=0), cols[:-1], axis=1)
    area = np.outer(np.diff(rows), np.diff(cols))
    small = sums / area
    q = np.clip(np.floor(small / max_value * depth), 0, depth - 1).astype(np.uint8)
    return bytes([q.shape[0], q.shape[1]]) + q.tobytes()


@dataclass
class Cell:
    """One archive entry."""

    key: Hashable
    score: float
    length: int
    snapshot: Any = None
    trajectory: list = field(default_factory=list)
    seen: int = 0
    chosen: int = 0
    chosen_since_new: int = 0


class CellArchive:
    """Go-Explore's cell archive: update rule and count-based selection (see module docs).

    Example:
        >>> arch = CellArchive()
        >>> arch.update("a", score=0.0, length=5), arch.update("a", score=0.0, length=3)
        (True, True)
        >>> arch.update("a", score=0.0, length=4), arch.cells["a"].length   # longer: not kept
        (False, 3)
        >>> arch.update("b", score=1.0, length=9); _ = arch.select(np.random.default_rng(0), 2)
        True
        >>> sorted(arch.cells)
        ['a', 'b']
    """

    def __init__(self, w_chosen: float = 0.1, w_chosen_since_new: float = 0.0, w_seen: float = 0.3,
                 power: float = 0.5, eps1: float = 1e-3, eps2: float = 1e-5,
                 interesting: Callable[[Hashable, Any], bool] | None = None):
        self.w = (float(w_chosen), float(w_chosen_since_new), float(w_seen))
        self.power, self.eps1, self.eps2 = float(power), float(eps1), float(eps2)
        self.interesting = interesting
        self.cells: dict[Hashable, Cell] = {}

    def __len__(self) -> int:
        return len(self.cells)

    def update(self, key: Hashable, score: float, length: int, snapshot: Any = None,
               trajectory: list | None = None, info: Any = None) -> bool:
        """Count a visit of ``key``; add it or replace its entry if better. Returns True if stored."""
        cell = self.cells.get(key)
        if cell is None:
            if self.interesting is not None and not self.interesting(key, info):
                return False
            self.cells[key] = Cell(key, float(score), int(length), snapshot, list(trajectory or []), seen=1)
            return True
        cell.seen += 1
        if score > cell.score or (score == cell.score and length < cell.length):
            cell.score, cell.length = float(score), int(length)
            cell.snapshot, cell.trajectory = snapshot, list(trajectory or [])
            return True
        return False

    def weights(self) -> tuple[list[Hashable], np.ndarray]:
        """``(keys, weights)``: :math:`\\sum_a w_a (1/(v_a+\\epsilon_1))^{p} + \\epsilon_2` per cell."""
        keys = list(self.cells)
        v = np.array([[c.chosen, c.chosen_since_new, c.seen] for c in self.cells.values()], dtype=np.float64)
        if not keys:
            return keys, np.zeros(0)
        w = (np.asarray(self.w)[None, :] * (1.0 / (v + self.eps1)) ** self.power).sum(axis=1) + self.eps2
        return keys, w

    def select(self, rng: np.random.Generator, n: int = 1) -> list[Hashable]:
        """Sample ``n`` cells with probability proportional to their weights (counts ``chosen``)."""
        keys, w = self.weights()
        if not keys:
            raise ConfigError("archive", "is empty", "at least one cell (add the start state first)")
        picks = rng.choice(len(keys), size=n, p=w / w.sum())
        out = [keys[i] for i in picks]
        for k in out:
            self.cells[k].chosen += 1
            self.cells[k].chosen_since_new += 1
        return out

    def led_to_new(self, key: Hashable) -> None:
        """Reset ``chosen_since_new`` of a cell whose exploration found a new cell."""
        if key in self.cells:
            self.cells[key].chosen_since_new = 0

    def best(self) -> Cell:
        """The cell with the highest score (shortest on ties)."""
        return max(self.cells.values(), key=lambda c: (c.score, -c.length))


# ------------------------------------------------------------------ MiniGrid state
def _time_limit_wrappers(env: Any) -> list:
    out, e = [], env
    while e is not None:
        if hasattr(e, "_elapsed_steps"):
            out.append(e)
        e = getattr(e, "env", None)
    return out


def minigrid_snapshot(env: Any) -> dict[str, Any]:
    """Exact state of a (wrapped) MiniGrid env: agent pos/dir, grid, carrying, step count, RNG.

    Example:
        >>> import gymnasium as gym, minigrid
        >>> env = gym.make("MiniGrid-Empty-5x5-v0"); _ = env.reset(seed=0)
        >>> snap = minigrid_snapshot(env); _ = env.step(2)
        >>> minigrid_restore(env, snap)["image"].shape
        (7, 7, 3)
    """
    u = env.unwrapped
    if not hasattr(u, "grid") or not hasattr(u, "agent_pos"):
        raise ConfigError("env", f"is {type(u).__name__}", "a MiniGrid env (with grid and agent_pos)")
    grid, carrying = copy.deepcopy((u.grid, u.carrying))  # one deepcopy keeps shared objects shared
    return {"agent_pos": tuple(int(v) for v in u.agent_pos), "agent_dir": int(u.agent_dir), "grid": grid,
            "carrying": carrying, "step_count": int(u.step_count),
            "rng": copy.deepcopy(u.np_random.bit_generator.state),
            "elapsed": [w._elapsed_steps for w in _time_limit_wrappers(env)]}


def _wrapped_obs(env: Any, raw: Any) -> Any:
    chain, e = [], env
    while e is not None and e is not env.unwrapped:
        chain.append(e)
        e = getattr(e, "env", None)
    obs = raw
    for w in reversed(chain):  # innermost wrapper first
        fn = getattr(type(w), "observation", None)
        if fn is not None and callable(fn):
            obs = w.observation(obs)
    return obs


def minigrid_restore(env: Any, snapshot: dict[str, Any]) -> Any:
    """Restore :func:`minigrid_snapshot`; returns the current observation through the env's observation wrappers."""
    u = env.unwrapped
    grid, carrying = copy.deepcopy((snapshot["grid"], snapshot["carrying"]))
    u.grid, u.carrying = grid, carrying
    u.agent_pos = tuple(snapshot["agent_pos"])
    u.agent_dir = int(snapshot["agent_dir"])
    u.step_count = int(snapshot["step_count"])
    u.np_random.bit_generator.state = copy.deepcopy(snapshot["rng"])
    for w, n in zip(_time_limit_wrappers(env), snapshot.get("elapsed", []), strict=False):
        w._elapsed_steps = n
    return _wrapped_obs(env, u.gen_obs())


def explore_from_archive(env: Any, archive: CellArchive, cell_fn: Callable[[Any], Hashable],
                         rng: np.random.Generator, explore_steps: int = 50, repeat_prob: float = 0.95,
                         snapshot_fn: Callable[[Any], Any] = minigrid_snapshot,
                         restore_fn: Callable[[Any, Any], Any] = minigrid_restore) -> dict[str, Any]:
    """One Go-Explore phase-1 iteration: select a cell, restore it, explore randomly, update the archive.

    The archive must contain at least the start cell (``archive.update(cell_fn(obs0), 0.0, 0,
    snapshot_fn(env))``).  Returns ``{"cell", "new_cells", "best_score", "steps"}``.
    """
    key = archive.select(rng, 1)[0]
    cell = archive.cells[key]
    obs = restore_fn(env, cell.snapshot)
    score, length, traj = cell.score, cell.length, list(cell.trajectory)
    if not hasattr(env.action_space, "n"):
        raise ConfigError("env.action_space", f"is {env.action_space!r}", "a Discrete action space")
    n_actions = int(env.action_space.n)
    new, steps = 0, 0
    action = int(rng.integers(n_actions))
    for _ in range(explore_steps):
        if rng.random() > repeat_prob:
            action = int(rng.integers(n_actions))
        obs, r, term, trunc, info = env.step(action)
        steps += 1
        score += float(r)
        length += 1
        traj.append(action)
        ck = cell_fn(obs)
        is_new = ck not in archive.cells
        if archive.update(ck, score, length, snapshot_fn(env), traj, info) and is_new:
            new += 1
        if term or trunc:
            break
    if new:
        archive.led_to_new(key)
    return {"cell": key, "new_cells": new, "best_score": archive.best().score, "steps": steps}
