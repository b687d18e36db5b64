"""MiniGrid helpers for reward experiments: state in ``info``, a DoorKey potential, obs wrappers.

The policy sees whatever observation the spec chooses (e.g. MiniGrid's egocentric
``FlatObsWrapper``); reward terms often need the *privileged* state (where the key,
the door and the goal are).  :class:`MiniGridStateInfo` writes that state into
``info`` at every step, before and after the action, so stateless reward terms can
read it from the :class:`~rewardkit.core.TransitionBatch` (vector envs do not expose
``env.unwrapped``):

* ``info["minigrid/prev_state"]``, ``info["minigrid/state"]`` – int vectors
  (see :data:`STATE_FIELDS`) describing :math:`s_t` and :math:`s_{t+1}`;
* ``info["minigrid/cell"]`` – ``(x, y, carrying, door_open)`` of :math:`s_{t+1}`, a
  ready-made key for count bonuses (``count_bonus`` with ``info_key: minigrid/cell``).

:class:`DoorKeyShaping` (registered as ``minigrid_doorkey_shaping``) is
potential-based reward shaping (Ng, Harada & Russell 1999, "Policy invariance
under reward transformations: theory and application to reward shaping", ICML):

.. math:: F(s, a, s') = \\gamma\\, \\Phi(s')\\,(1 - \\text{terminated}) - \\Phi(s)

with the phase-aware DoorKey potential :func:`doorkey_potential`
:math:`\\Phi(s) = -\\,\\text{rem}(s) / (W + H)`, where ``rem`` is the Manhattan
length of the remaining plan (agent -> key -> door -> goal, or agent -> door -> goal
once the key is carried, or agent -> goal once the door is open) plus
``subgoal_cost`` for every sub-goal not yet achieved (key picked up, door opened).
:math:`\\Phi \\le 0` and :math:`\\Phi = 0` only at the goal, consistent with
:math:`\\Phi(\\text{terminal}) = 0` (Grzes 2017, "Reward shaping in episodic
reinforcement learning", AAMAS), so the optimal policies are unchanged.  A
truncated episode keeps :math:`\\Phi(s')` (a time limit is not an absorbing state).

:class:`FullGridObs` (spec wrapper ``full_grid``) is the fully observable grid as a
``(W, H, 3)`` uint8 array whose bounds keep Stable-Baselines3 from treating it as an
image (no transpose, no /255), so MiniGrid key functions of
:mod:`rewardkit.explore.counts` apply to it directly.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from rewardkit.core.extras import missing_extra

try:
    import gymnasium as gym
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "env") from None
import numpy as np

from rewardkit.core import RewardTerm, TransitionBatch, potential_difference, register_term
from rewardkit.core.errors import BatchError

__all__ = ["STATE_FIELDS", "DoorKeyShaping", "FullGridObs", "MiniGridStateInfo", "doorkey_potential", "minigrid_state"]

#: layout of the state vectors written by :class:`MiniGridStateInfo`
STATE_FIELDS = ("agent_x", "agent_y", "carrying_key", "door_x", "door_y", "door_open", "key_x", "key_y",
                "goal_x", "goal_y", "width", "height")

_AGENT, _DOOR, _KEY, _GOAL = 10, 4, 5, 8


class _MiniGridEnv(Protocol):
    """The attributes of ``minigrid.MiniGridEnv`` read here (minigrid is an optional dependency)."""

    grid: Any
    carrying: Any
    agent_pos: Any
    agent_dir: int
    width: int
    height: int


def _minigrid(env: gym.Env) -> _MiniGridEnv:
    """``env.unwrapped`` typed as a MiniGrid env."""
    return cast(_MiniGridEnv, env.unwrapped)


def minigrid_state(env: gym.Env) -> np.ndarray:
    """The :data:`STATE_FIELDS` vector of a MiniGrid env (missing objects are -1).

    Example:
        >>> import gymnasium as gym, minigrid  # noqa: F401
        >>> env = gym.make("MiniGrid-DoorKey-5x5-v0"); _ = env.reset(seed=0)
        >>> s = minigrid_state(env); dict(zip(STATE_FIELDS, s.tolist()))["door_open"]
        0
    """
    u = _minigrid(env)
    door = key = goal = (-1, -1)
    door_open = 0
    for i, obj in enumerate(u.grid.grid):
        if obj is None:
            continue
        x, y = i % u.grid.width, i // u.grid.width
        if obj.type == "door":
            door, door_open = (x, y), int(bool(obj.is_open))
        elif obj.type == "key":
            key = (x, y)
        elif obj.type == "goal":
            goal = (x, y)
    carrying = int(u.carrying is not None and u.carrying.type == "key")
    ax, ay = int(u.agent_pos[0]), int(u.agent_pos[1])
    return np.array([ax, ay, carrying, door[0], door[1], door_open, key[0], key[1], goal[0], goal[1],
                     u.grid.width, u.grid.height], dtype=np.int64)


class MiniGridStateInfo(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Write the privileged MiniGrid state of :math:`s_t` and :math:`s_{t+1}` into ``info``.

    Example:
        >>> import gymnasium as gym, minigrid  # noqa: F401
        >>> env = MiniGridStateInfo(gym.make("MiniGrid-DoorKey-5x5-v0"))
        >>> _, info = env.reset(seed=0)
        >>> _, _, _, _, info = env.step(2)
        >>> sorted(k for k in info if k.startswith("minigrid/"))
        ['minigrid/cell', 'minigrid/prev_state', 'minigrid/state']
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        self._state: np.ndarray | None = None

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self._state = minigrid_state(self.env)
        info = dict(info)
        info["minigrid/state"] = self._state
        info["minigrid/cell"] = _cell(self._state)
        return obs, info

    def step(self, action: Any):
        obs, r, term, trunc, info = self.env.step(action)
        prev = self._state if self._state is not None else minigrid_state(self.env)
        self._state = minigrid_state(self.env)
        info = dict(info)
        info["minigrid/prev_state"] = prev
        info["minigrid/state"] = self._state
        info["minigrid/cell"] = _cell(self._state)
        return obs, r, term, trunc, info


def _cell(s: np.ndarray) -> tuple[int, int, int, int]:
    return int(s[0]), int(s[1]), int(s[2]), int(s[5])


def doorkey_potential(states: Any, subgoal_cost: float = 3.0) -> np.ndarray:
    """Phase-aware DoorKey potential :math:`\\Phi(s) = -\\text{rem}(s)/(W+H)` (see module docs).

    Args:
        states: ``(n, len(STATE_FIELDS))`` int array (or one vector).
        subgoal_cost: extra distance charged for each unmet sub-goal (key, door).

    Example (key at (1, 2), agent at (1, 3), door (2, 1), goal (3, 3), 5x5 grid):
        >>> s = np.array([1, 3, 0, 2, 1, 0, 1, 2, 3, 3, 5, 5])
        >>> round(float(doorkey_potential(s)[0]), 2)   # rem = 1 + 2 + 3 + 2*3 = 12
        -1.2
        >>> s_goal = s.copy(); s_goal[[0, 1, 2, 5]] = [3, 3, 1, 1]
        >>> float(doorkey_potential(s_goal)[0])
        0.0
    """
    s = np.atleast_2d(np.asarray(states, dtype=np.float64))
    if s.shape[1] != len(STATE_FIELDS):
        raise BatchError("states", f"has shape {s.shape}", f"(n, {len(STATE_FIELDS)}) MiniGridStateInfo vectors")
    ax, ay, carry, dx, dy, dopen, kx, ky, gx, gy, w, h = s.T

    def dist(x1: np.ndarray, y1: np.ndarray, x2: np.ndarray, y2: np.ndarray) -> np.ndarray:
        return np.abs(x1 - x2) + np.abs(y1 - y2)

    door_goal = dist(dx, dy, gx, gy)
    via_door = dist(ax, ay, dx, dy) + door_goal
    open_rem = np.where(ax >= dx, dist(ax, ay, gx, gy), via_door)
    carry_rem = via_door + subgoal_cost
    key_rem = dist(ax, ay, kx, ky) + dist(kx, ky, dx, dy) + door_goal + 2 * subgoal_cost
    rem = np.where(dopen > 0, open_rem, np.where(carry > 0, carry_rem, key_rem))
    return 0.0 - rem / (w + h)  # (0.0 - x avoids -0.0 at the goal)


@register_term("minigrid_doorkey_shaping", batch_kind="transition", uses_discount=True)
class DoorKeyShaping(RewardTerm):
    """Potential-based shaping on MiniGrid DoorKey with :func:`doorkey_potential` (Ng et al. 1999).

    :math:`F = \\gamma\\,\\Phi(s')\\,(1-\\text{terminated}) - \\Phi(s)`; the states are read
    from ``info["minigrid/prev_state"]`` / ``info["minigrid/state"]`` (add the
    ``state_info`` env wrapper).  Use the learner's discount as ``gamma``.

    ``offset`` adds a constant to the potential, :math:`\\Phi = c - \\text{rem}/(W+H)`.  With
    :math:`\\gamma < 1` and :math:`\\Phi \\le 0`, every non-terminal step pays
    :math:`(1-\\gamma)|\\Phi(s')|` for merely staying far from the goal (a farmable bonus);
    with :math:`c \\ge \\max \\text{rem}/(W+H)` the potential is non-negative and that term becomes a
    small step cost instead.  Any constant keeps the optimal policy (the shaped return
    changes by the constant :math:`-c` per episode start).

    Example:
        >>> import gymnasium as gym, minigrid  # noqa: F401
        >>> from rewardkit.integrations.gymnasium import RewardWrapper
        >>> env = RewardWrapper(MiniGridStateInfo(gym.make("MiniGrid-DoorKey-5x5-v0")), DoorKeyShaping(gamma=1.0))
        >>> _ = env.reset(seed=0)
        >>> _ = env.step(1)          # turn right: now facing the key, Phi unchanged
        >>> _, r, *_ = env.step(3)   # pick it up: rem 12 -> 9, Phi rises by 3/(W+H)
        >>> round(r, 2)
        0.3
    """

    batch_kind = "transition"

    def __init__(self, gamma: float = 0.99, subgoal_cost: float = 3.0, offset: float = 0.0,
                 name: str = "doorkey_shaping"):
        super().__init__(name)
        self.offset = float(offset)
        if not 0.0 <= float(gamma) <= 1.0:
            raise ValueError(f"gamma: got {gamma}; expected a number in [0, 1]")
        self.gamma = float(gamma)
        self.subgoal_cost = float(subgoal_cost)

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        prev, nxt = [], []
        for i, inf in enumerate(batch.info):
            if "minigrid/prev_state" not in inf or "minigrid/state" not in inf:
                raise BatchError(f"info[{i}].minigrid/prev_state", "missing",
                                 "the MiniGridStateInfo wrapper (spec: env.wrappers: [state_info, ...])")
            prev.append(inf["minigrid/prev_state"])
            nxt.append(inf["minigrid/state"])
        phi_s = self.offset + doorkey_potential(np.stack(prev), self.subgoal_cost)
        phi_next = self.offset + doorkey_potential(np.stack(nxt), self.subgoal_cost)
        return potential_difference(phi_s, phi_next, self.gamma, batch.terminated)


class FullGridObs(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """The whole grid (MiniGrid encoding, agent drawn in) as a ``(W, H, 3)`` uint8 array.

    Example:
        >>> import gymnasium as gym, minigrid  # noqa: F401
        >>> env = FullGridObs(gym.make("MiniGrid-DoorKey-5x5-v0"))
        >>> obs, _ = env.reset(seed=0)
        >>> obs.shape, int((obs[..., 0] == 10).sum())
        ((5, 5, 3), 1)
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        u = _minigrid(env)
        high = np.zeros((u.width, u.height, 3), dtype=np.uint8)
        high[..., 0], high[..., 1], high[..., 2] = 10, 5, 3  # max object / colour / state index
        self.observation_space = gym.spaces.Box(0, high, dtype=np.uint8)

    def observation(self, observation: Any) -> np.ndarray:
        u = _minigrid(self.env)
        grid = u.grid.encode()
        grid[u.agent_pos[0], u.agent_pos[1]] = np.array([_AGENT, 0, u.agent_dir], dtype=np.uint8)
        return grid
