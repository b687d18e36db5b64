"""Small tabular worlds used by the reward-design literature.

* :func:`four_rooms` - ROOMSNAVENV, the 7x7 four-room grid of EXPRD
  (Devidze, Radanovic, Kamalaruban & Singla, 2021, "Explicable Reward Design for
  Reinforcement Learning Agents", NeurIPS) and of ExpAdaRD / ExploRS.
* :func:`chain_with_distractor` - the chain of ExploRS (Devidze, Kamalaruban &
  Singla, 2022, "Exploration-Guided Reward Shaping for Reinforcement Learning under
  Sparse Rewards", NeurIPS): a sparse goal far to the right and a tiny
  "distractor" reward to the left that traps a non-exploring Q-learner.
* :func:`barfi_gridworld` - the open grid of BARFI (Gupta, Chandak, Jordan, Thomas & da
  Silva, 2023, "Behavior Alignment via Reward Function Optimization", NeurIPS) with a
  helpful and a misleading heuristic; returns a :class:`BarfiWorld`.

The first two return a :class:`World` ``(mdp, layout)`` named tuple.  The dynamics follow the
reference implementations' semantics (documented per function) so that measured
anchor numbers (informativeness, learning curves) can be reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple
from collections.abc import Callable

import numpy as np

from ..core.errors import ConfigError
from .mdp import TabularMDP

__all__ = ["BarfiWorld", "ChainLayout", "GridLayout", "World", "barfi_gridworld", "chain_with_distractor", "four_rooms"]

UP, LEFT, DOWN, RIGHT = 0, 1, 2, 3
GRID_ACTIONS = ("up", "left", "down", "right")


@dataclass
class GridLayout:
    """Metadata of a grid world.

    Attributes:
        size: the grid is ``size x size``; cell ``(x, y)`` is state ``y * size + x``
            (``y`` grows upwards, action *up* increases ``y``).
        coords: ``(S, 2)`` int array of ``(x, y)`` per state, ``(-1, -1)`` for the
            absorbing terminal state.
        start: the start state.
        goal_states: states whose original reward is non-zero.
        trap_states: non-goal states from which some action leads to the terminal state.
        doorway_states: the cells next to each wall gap (EXPRD's ``gate_states``).
        gaps: the ``(x, y)`` cells of the wall gaps themselves.
        walls_horizontal: ``(x, y)``: no move between rows ``y-1`` and ``y`` at column ``x``.
        walls_vertical: ``(x, y)``: no move between columns ``x-1`` and ``x`` at row ``y``.
        action_names: names of the actions, by index.
    """

    size: int
    coords: np.ndarray
    start: int
    goal_states: list[int]
    trap_states: list[int]
    doorway_states: list[int]
    gaps: list[tuple[int, int]]
    walls_horizontal: set[tuple[int, int]]
    walls_vertical: set[tuple[int, int]]
    action_names: tuple[str, ...] = GRID_ACTIONS
    terminal_state: int = -1

    def state(self, x: int, y: int) -> int:
        """State index of cell ``(x, y)``."""
        return y * self.size + x

    def render(self, values: np.ndarray | None = None, fmt: str = "{:6.2f}") -> str:
        """ASCII picture of the grid (top row first); ``values`` per state if given."""
        rows = []
        for y in reversed(range(self.size)):
            cells = []
            for x in range(self.size):
                s = self.state(x, y)
                if values is not None:
                    cells.append(fmt.format(float(values[s])))
                else:
                    tag = "S" if s == self.start else "G" if s in self.goal_states else \
                        "X" if s in self.trap_states else "D" if s in self.doorway_states else "."
                    cells.append(tag)
            rows.append(" ".join(cells))
        return "\n".join(rows)


@dataclass
class ChainLayout:
    """Metadata of the ExploRS chain: ``positions[s]`` is the chain index (-1 = terminal)."""

    n1: int
    n2: int
    start: int
    goal_state: int
    distractor_state: int | None
    terminal_state: int
    action_names: tuple[str, ...] = ("left", "right")
    positions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


class World(NamedTuple):
    """A tabular world: the MDP and its layout metadata (unpack as ``mdp, layout = world``)."""

    mdp: TabularMDP
    layout: GridLayout | ChainLayout


def _four_room_walls(size: int) -> tuple[set, set, list]:
    """Walls and gaps of the four-room grid (same construction as the EXPRD reference).

    One horizontal wall separates the lower rows from the upper ones (its row drops by
    one in the right half, so the rooms have unequal sizes) and one vertical wall
    separates the left and right columns; each wall has two gaps.
    """
    horizontal: set[tuple[int, int]] = set()
    vertical: set[tuple[int, int]] = set()
    gaps: list[tuple[int, int]] = []
    mid = int(np.ceil(size / 2.0))
    row = mid
    gap_a = int(np.ceil(size / 3.0)) - 1          # first gap position (1-based counter)
    gap_b = int(np.ceil(2 * (size + 2) / 3.0))    # second gap position (1-based counter)
    for i in range(1, size + 1):
        if i == mid:
            row -= 1
        if i == gap_a or i == gap_b:
            gaps.append((i - 1, row - 1))
            continue
        horizontal.add((i - 1, size // 2))
    for j in range(1, size + 1):
        if j == gap_a or j == gap_b:
            gaps.append((mid - 1, j - 1))
            continue
        vertical.add((size // 2, j - 1))
    return horizontal, vertical, gaps


def four_rooms(size: int = 7, slip: float = 0.1, gamma: float = 0.95, r_max: float = 10.0,
               reference_quirks: bool = True) -> World:
    """ROOMSNAVENV: the four-room grid of EXPRD (Devidze et al., NeurIPS 2021).

    ``size**2`` cells plus one absorbing terminal state (``S = 50`` for ``size=7``),
    actions ``up, left, down, right``.  The agent starts in cell ``(1, 1)``.  The goal
    is the top-right cell; action *right* there pays ``r_max`` and ends the episode.
    Cell ``(0, 0)`` is a trap: *left* or *down* there ends the episode with no reward.

    Dynamics (as in the reference ``fourroom_env.py``): an allowed move succeeds with
    probability ``1 - slip``; otherwise the agent moves uniformly to one of the *other*
    reachable neighbours (or stays if there is none).  A blocked move (wall or border)
    stays put with probability ``1 - slip`` and slips uniformly to a reachable
    neighbour otherwise.  At the goal and the trap, each action's intended outcome has
    probability ``1 - slip`` and the two other listed outcomes ``slip/2`` each.

    ``reference_quirks=True`` keeps one detail of the reference code that the measured
    anchors depend on: the goal's *down* action (and its slips) lead to the top-*left*
    cell ``(0, size-1)`` (the reference indexes ``-size-1`` from the end of the state
    array, which counts the terminal state).  With ``False`` they lead to the cell
    below the goal, ``(size-1, size-2)``.

    Example:
        >>> mdp, layout = four_rooms()
        >>> mdp.n_states, mdp.n_actions, layout.start, layout.goal_states
        (50, 4, 8, [48])
        >>> sorted(layout.doorway_states), layout.trap_states
        ([9, 15, 19, 37], [0])
        >>> float(mdp.value_iteration()[0][layout.start].round(3))
        5.902
    """
    if size < 5:
        raise ConfigError("size", f"got {size}", "an int >= 5")
    if not 0.0 <= slip < 1.0:
        raise ConfigError("slip", f"got {slip}", "a probability in [0, 1)")
    n_cells = size * size
    S, A = n_cells + 1, 4
    term = n_cells
    horizontal, vertical, gaps = _four_room_walls(size)

    def cell(s: int) -> tuple[int, int]:
        return s % size, s // size

    def moves(s: int) -> dict[int, int]:
        """Allowed action -> next state (in the reference's order up, down, left, right)."""
        x, y = cell(s)
        out: dict[int, int] = {}
        if y < size - 1 and (x, y + 1) not in horizontal:
            out[UP] = s + size
        if y > 0 and (x, y) not in horizontal:
            out[DOWN] = s - size
        if x > 0 and (x, y) not in vertical:
            out[LEFT] = s - 1
        if x < size - 1 and (x + 1, y) not in vertical:
            out[RIGHT] = s + 1
        return out

    T = np.zeros((S, A, S))
    for s in range(n_cells):
        mv = moves(s)
        reach = list(mv.values())
        for a in range(A):
            if a in mv:
                T[s, a, mv[a]] += 1.0 - slip
                others = [n for n in reach if n != mv[a]] or [s]
                for n in others:
                    T[s, a, n] += slip / len(others)
            else:
                T[s, a, s] += 1.0 - slip
                for n in reach:
                    T[s, a, n] += slip / len(reach)

    def three_way(s: int, a: int, main: int, o1: int, o2: int) -> None:
        T[s, a] = 0.0
        T[s, a, main] += 1.0 - slip
        T[s, a, o1] += slip / 2
        T[s, a, o2] += slip / 2

    # trap corner (0, 0): left/down fall into the terminal state
    trap, right_of_trap, above_trap = 0, 1, size
    three_way(trap, UP, above_trap, right_of_trap, term)
    three_way(trap, LEFT, term, right_of_trap, above_trap)
    three_way(trap, DOWN, term, right_of_trap, above_trap)
    three_way(trap, RIGHT, right_of_trap, term, above_trap)
    # goal corner (size-1, size-1)
    goal = n_cells - 1
    left_of_goal = goal - 1
    below_goal = (n_cells + 1) - size - 1 if reference_quirks else goal - size
    three_way(goal, UP, term, left_of_goal, below_goal)
    three_way(goal, LEFT, left_of_goal, term, below_goal)
    three_way(goal, DOWN, below_goal, term, left_of_goal)
    three_way(goal, RIGHT, term, left_of_goal, below_goal)
    T[term] = 0.0
    T[term, :, term] = 1.0

    R = np.zeros((S, A))
    R[goal, RIGHT] = r_max
    mu0 = np.zeros(S)
    start = 1 * size + 1
    mu0[start] = 1.0
    terminal = np.zeros(S, dtype=bool)
    terminal[term] = True
    mdp = TabularMDP(T, R, gamma, mu0, terminal)

    # doorway cells: the cell on the lower/left side of each gap (EXPRD's gate_states)
    gap_states = sorted(y * size + x for x, y in gaps)
    doorways = [gap_states[0] - 1, gap_states[1], gap_states[2] - size, gap_states[3] - 1] \
        if size % 2 == 1 else [gap_states[0], gap_states[1] + size, gap_states[2], gap_states[3]]
    coords = np.array([cell(s) for s in range(n_cells)] + [(-1, -1)], dtype=int)
    layout = GridLayout(size=size, coords=coords, start=start, goal_states=[goal], trap_states=[trap],
                        doorway_states=doorways, gaps=sorted(gaps), walls_horizontal=horizontal,
                        walls_vertical=vertical, terminal_state=term)
    return World(mdp, layout)


def chain_with_distractor(n1: int = 20, n2: int = 40, slip: float = 0.05, gamma: float = 0.99,
                          r_goal: float = 1.0, distractor: float = 0.01,
                          distractor_offset: int = 15) -> World:
    """The ExploRS chain (Devidze, Kamalaruban & Singla, NeurIPS 2022).

    ``n1 + n2 + 2`` states on a line: positions ``0 .. n1+n2`` and one absorbing
    terminal state (the last index).  Actions ``left (0)``, ``right (1)``.  The agent
    starts at position ``n2``.  The goal is the right end (position ``n1+n2``): action
    *right* there pays ``r_goal`` and stays, so the agent keeps collecting reward until
    the time limit (the reference uses ``H = 40``).  *Left* at position 0 ends the
    episode with no reward.  The distractor pays ``distractor`` for *left* at position
    ``n2 - distractor_offset`` (25 by default); set ``distractor=0`` for the plain chain.

    Slip (as in the reference): the intended move happens with probability
    ``1 - slip/2`` and the opposite one with ``slip/2``.

    A greedy Q-learner that does not explore finds the distractor (15 steps left)
    long before the goal (20 steps right) and, with the reference hyper-parameters,
    stays at a discounted return of about 0.09 forever.

    Example:
        >>> mdp, layout = chain_with_distractor()
        >>> mdp.n_states, layout.start, layout.goal_state, layout.distractor_state
        (62, 40, 60, 25)
        >>> V, Q, pi = mdp.value_iteration()
        >>> int(pi[layout.start].argmax())   # optimal: go right despite the distractor
        1
    """
    if n1 < 1 or n2 < 1:
        raise ConfigError("n1", f"got n1={n1}, n2={n2}", "positive ints")
    if not 0.0 <= slip <= 1.0:
        raise ConfigError("slip", f"got {slip}", "a probability in [0, 1]")
    n_pos = n1 + n2 + 1
    S, A = n_pos + 1, 2
    term = n_pos
    goal = n_pos - 1
    clean = np.zeros((S, A, S))
    for s in range(n_pos):
        clean[s, 0, term if s == 0 else s - 1] = 1.0
        clean[s, 1, goal if s == goal else s + 1] = 1.0
    clean[term, :, term] = 1.0
    T = np.zeros_like(clean)
    for a in range(A):
        T[:, a] = (1.0 - slip) * clean[:, a] + (slip / A) * clean.sum(axis=1)
    R = np.zeros((S, A))
    R[goal, 1] = r_goal
    dstate = None
    if distractor:
        dstate = n2 - distractor_offset
        if not 0 <= dstate < goal:
            raise ConfigError("distractor_offset", f"puts the distractor at position {dstate}",
                              f"an offset in (-{n1}, {n2}]")
        R[dstate, 0] = distractor
    mu0 = np.zeros(S)
    mu0[n2] = 1.0
    terminal = np.zeros(S, dtype=bool)
    terminal[term] = True
    positions = np.r_[np.arange(n_pos), -1]
    layout = ChainLayout(n1=n1, n2=n2, start=n2, goal_state=goal, distractor_state=dstate,
                         terminal_state=term, positions=positions)
    return World(TabularMDP(T, R, gamma, mu0, terminal), layout)


@dataclass
class BarfiWorld:
    """A grid MDP with a primary goal reward and two auxiliary heuristics (BARFI's test world).

    ``R_aux["good"]`` / ``R_aux["bad"]``: progress ``E[d(s) - d(s')]`` towards the true goal /
    towards a decoy corner, times ``aux_scale``; ``potential[k]`` is the matching
    :math:`\\Phi(s) = -\\text{aux\\_scale}\\cdot d(s)` for PBRS.
    """

    mdp: TabularMDP
    size: int
    start: int
    goal: int
    decoy: int
    R_aux: dict[str, np.ndarray]
    potential: dict[str, np.ndarray]

    def aux_fn(self, kind: str) -> Callable[..., float]:
        """``(obs, action, next_obs, info) -> R_aux[kind][obs, action]`` for a Gymnasium loop."""
        if kind not in self.R_aux:
            raise ConfigError("kind", f"got {kind!r}", f"one of {sorted(self.R_aux)}")
        table = self.R_aux[kind]
        return lambda obs, a, obs2, info: float(table[int(obs), int(a)])

    def potential_fn(self, kind: str) -> Callable[[Any], float]:
        table = self.potential[kind]
        return lambda obs: float(table[int(obs)])


def barfi_gridworld(size: int = 5, slip: float = 0.1, gamma: float = 0.99, aux_scale: float = 0.5,
                    decoy: tuple[int, int] | None = None) -> BarfiWorld:
    """The BARFI world (Gupta et al. 2023, reproduced in ``bench/design/barfi_grid.py``):
    an open ``size x size`` grid, start at ``(0, 0)``, goal at ``(size-1, size-1)``.

    Actions ``up, left, down, right`` (the rewardkit grid convention); a move succeeds
    with probability ``1 - slip`` and otherwise goes in a uniformly random other
    direction (a blocked move stays).  Any action in the goal cell pays 1 and enters
    the absorbing terminal state (index ``size**2``).  The misleading heuristic
    rewards progress towards the decoy corner ``(size-1, 0)`` instead of the goal.

    Example:
        >>> w = barfi_gridworld()
        >>> w.mdp.n_states, w.start, w.goal, w.decoy
        (26, 0, 24, 4)
        >>> round(float(w.R_aux["good"][0, 3]), 3), round(float(w.R_aux["bad"][0, 0]), 3)   # right / up at start
        (0.467, -0.433)
    """
    if size < 2:
        raise ConfigError("size", f"got {size}", "an int >= 2")
    n = size * size
    S, A, term = n + 1, 4, n
    moves = {0: (0, 1), 1: (-1, 0), 2: (0, -1), 3: (1, 0)}

    def nxt(s: int, a: int) -> int:
        x, y = s % size, s // size
        dx, dy = moves[a]
        x2, y2 = x + dx, y + dy
        return s if not (0 <= x2 < size and 0 <= y2 < size) else y2 * size + x2

    goal = n - 1
    dx_, dy_ = decoy if decoy is not None else (size - 1, 0)
    decoy_s = dy_ * size + dx_
    T = np.zeros((S, A, S))
    for s in range(n):
        for a in range(A):
            if s == goal:
                T[s, a, term] = 1.0
                continue
            T[s, a, nxt(s, a)] += 1.0 - slip
            for b in range(A):
                if b != a:
                    T[s, a, nxt(s, b)] += slip / (A - 1)
    T[term, :, term] = 1.0
    R = np.zeros((S, A))
    R[goal, :] = 1.0
    mu0 = np.zeros(S)
    mu0[0] = 1.0
    terminal = np.zeros(S, dtype=bool)
    terminal[term] = True
    mdp = TabularMDP(T, R, gamma, mu0, terminal)

    def dist_to(target: int) -> np.ndarray:
        tx, ty = target % size, target // size
        d = np.array([abs(s % size - tx) + abs(s // size - ty) for s in range(n)] + [0], dtype=float)
        return d

    R_aux, pot = {}, {}
    for kind, target in (("good", goal), ("bad", decoy_s)):
        d = dist_to(target)
        prog = d[:, None] - np.einsum("sat,t->sa", T, d)
        prog[goal] = 0.0
        prog[term] = 0.0
        R_aux[kind] = aux_scale * prog
        pot[kind] = -aux_scale * d
        pot[kind][term] = 0.0
    return BarfiWorld(mdp, size, 0, goal, decoy_s, R_aux, pot)
