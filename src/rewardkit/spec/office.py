"""The Office world of Toro Icarte et al. (ICML 2018 / JAIR 2022) as a Gymnasium env.

A 12×9 grid of nine 3×3 rooms joined by doors.  The agent starts at ``(2, 1)`` and
moves up/right/down/left (walls block moves).  Cells carry events: ``f`` coffee (two
machines), ``e`` mail, ``g`` office, ``n`` plants (six), ``a``–``d`` the four corner
rooms.  The env itself gives no reward: tasks are reward machines over these events,
e.g. :data:`OFFICE_T3` ("get coffee and mail in either order, then go to the office,
never touching a plant"), the single-task benchmark of the paper.

Observation: ``Discrete(108)``, index ``x * 9 + y``.  ``info["events"]`` holds the
event string of the cell the agent is in after the move.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rewardkit.core.extras import missing_extra

try:
    import gymnasium as gym
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "env") from None
import numpy as np

__all__ = ["OFFICE_T3", "OFFICE_T3_OPTIMAL_REWARD_PER_STEP", "OfficeWorld", "office_tables"]

WIDTH, HEIGHT = 12, 9
START = (2, 1)
#: action index -> (dx, dy): up, right, down, left (the reference order)
MOVES = ((0, 1), (1, 0), (0, -1), (-1, 0))
OBJECTS = {
    (1, 1): "a", (1, 7): "b", (10, 7): "c", (10, 1): "d",
    (7, 4): "e", (8, 2): "f", (3, 6): "f", (4, 4): "g",
    (4, 1): "n", (7, 1): "n", (4, 7): "n", (7, 7): "n", (1, 4): "n", (10, 4): "n",
}

#: Task t3 as a reward machine: 0 start, 2 has mail, 3 has coffee, 4 has both, 1 done.
OFFICE_T3 = """\
0
[1]
(0, 0, '!e&!f&!n', 0)
(0, 2, 'e&!n', 0)
(0, 3, '!e&f&!n', 0)
(2, 2, '!f&!n', 0)
(2, 4, 'f&!n', 0)
(3, 3, '!e&!n', 0)
(3, 4, 'e&!n', 0)
(4, 1, 'g&!n', 1)
(4, 4, '!g&!n', 0)
"""

#: Reward per step of the optimal policy under ε = 0.1 exploration, the normaliser of
#: the paper's single-task Office metric (as published with the reference results).
OFFICE_T3_OPTIMAL_REWARD_PER_STEP = 0.031344625839253674


def _door(x: int, y: int, dx: int, dy: int) -> bool:
    """Is the move from (x, y) by (dx, dy) across a room boundary through a door?"""
    if dx:  # crossing a vertical wall between rooms: doors on rows 1 and 7
        return y in (1, 7)
    lower = min(y, y + dy)  # crossing a horizontal wall between rows lower and lower+1
    if lower == 5:
        return x in (1, 4, 7, 10)
    return x in (1, 10)  # lower == 2


def office_tables() -> tuple[np.ndarray, list[str]]:
    """``next_state[s, a]`` for the 108 cells and the event string of every cell."""
    nxt = np.zeros((WIDTH * HEIGHT, 4), dtype=np.int64)
    events = [""] * (WIDTH * HEIGHT)
    for x in range(WIDTH):
        for y in range(HEIGHT):
            s = x * HEIGHT + y
            events[s] = OBJECTS.get((x, y), "")
            for a, (dx, dy) in enumerate(MOVES):
                x2, y2 = x + dx, y + dy
                ok = 0 <= x2 < WIDTH and 0 <= y2 < HEIGHT
                if ok and (x // 3 != x2 // 3 or y // 3 != y2 // 3):
                    ok = _door(x, y, dx, dy)
                nxt[s, a] = x2 * HEIGHT + y2 if ok else s
    return nxt, events


class OfficeWorld(gym.Env):
    """The Office grid world (no reward of its own; pair it with a reward machine).

    Example:
        >>> env = OfficeWorld()
        >>> s, _ = env.reset(seed=0)
        >>> divmod(s, 9)
        (2, 1)
        >>> s, r, term, trunc, info = env.step(3)   # left, into the 'a' corner room cell
        >>> divmod(s, 9), info["events"]
        ((1, 1), 'a')
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, max_episode_steps: int = 1000):
        self.observation_space = gym.spaces.Discrete(WIDTH * HEIGHT)
        self.action_space = gym.spaces.Discrete(4)
        self.next_state, self.events = office_tables()
        self.max_episode_steps = max_episode_steps
        self.s = START[0] * HEIGHT + START[1]
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.s = START[0] * HEIGHT + START[1]
        self.t = 0
        return self.s, {"events": self.events[self.s]}

    def step(self, action: int):
        if not self.action_space.contains(action):
            raise ValueError(f"action: got {action!r}; expected an int in [0, 4)")
        self.s = int(self.next_state[self.s, int(action)])
        self.t += 1
        return self.s, 0.0, False, self.t >= self.max_episode_steps, {"events": self.events[self.s]}


if "rewardkit/Office-v0" not in gym.registry:  # gym.make("rewardkit/Office-v0") once rewardkit.spec is imported
    gym.register(id="rewardkit/Office-v0", entry_point="rewardkit.spec.office:OfficeWorld")
