"""Gymnasium environments backed by a :class:`~rewardkit.tabular.TabularMDP`.

:class:`TabularEnv` turns any tabular MDP into a ``gymnasium.Env`` with
``Discrete(S)`` observations and ``Discrete(A)`` actions:

* ``reset`` samples :math:`s_0 \\sim \\mu_0`;
* ``step(a)`` pays the MDP's reward :math:`R(s, a)` and samples :math:`s' \\sim T(\\cdot|s,a)`;
* ``terminated`` is True when :math:`s'` is an absorbing (terminal) state;
* ``truncated`` is True when ``max_steps`` steps were taken without terminating
  (a time limit: :math:`s'` is *not* terminal and still has value - this matters
  for potential-based shaping and for bootstrapping).

``info`` carries ``{"state": s', "step": t}``.

Registered ids (``import rewardkit.tabular`` registers them):

* ``rewardkit/FourRooms-v0`` - :func:`~rewardkit.tabular.worlds.four_rooms`, 50 steps;
* ``rewardkit/ChainDistractor-v0`` - :func:`~rewardkit.tabular.worlds.chain_with_distractor`, 40 steps;
* ``rewardkit/Chain-v0`` - the same chain without the distractor reward.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rewardkit.core.extras import missing_extra

try:
    import gymnasium as gym
    from gymnasium import spaces
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "env") from None

from ..core.errors import ConfigError
from .mdp import TabularMDP
from .worlds import chain_with_distractor, four_rooms

__all__ = ["ChainDistractorEnv", "FourRoomsEnv", "TabularEnv", "register_envs"]


class TabularEnv(gym.Env):
    """A Gymnasium env that samples a :class:`TabularMDP`.

    Args:
        mdp: the MDP.
        max_steps: time limit; the step that reaches it returns ``truncated=True``.

    Example:
        >>> from rewardkit.tabular import four_rooms
        >>> env = TabularEnv(four_rooms().mdp, max_steps=5)
        >>> obs, info = env.reset(seed=0)
        >>> obs, info["state"]
        (8, 8)
        >>> for t in range(5):
        ...     obs, r, terminated, truncated, info = env.step(0)
        >>> truncated, terminated
        (True, False)
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"]}

    def __init__(self, mdp: TabularMDP, max_steps: int = 100, render_mode: str | None = None):
        if not isinstance(mdp, TabularMDP):
            raise ConfigError("mdp", f"got {type(mdp).__name__}", "a rewardkit.tabular.TabularMDP")
        if int(max_steps) < 1:
            raise ConfigError("max_steps", f"got {max_steps}", "a positive int")
        self.mdp = mdp
        self.max_steps = int(max_steps)
        self.observation_space = spaces.Discrete(mdp.n_states)
        self.action_space = spaces.Discrete(mdp.n_actions)
        self.render_mode = render_mode
        self.state: int = 0
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.state = self.mdp.sample_initial(self.np_random)
        self.t = 0
        return self.state, {"state": self.state, "step": 0}

    def step(self, action: Any):
        a = int(action)
        if not 0 <= a < self.mdp.n_actions:
            raise ConfigError("action", f"got {action!r}", f"an int in [0, {self.mdp.n_actions})")
        s = self.state
        r = float(self.mdp.R[s, a]) if not self.mdp.terminal[s] else 0.0
        s2 = self.mdp.sample_next(s, a, self.np_random)
        self.t += 1
        self.state = s2
        terminated = bool(self.mdp.terminal[s2])
        truncated = (not terminated) and self.t >= self.max_steps
        return s2, r, terminated, truncated, {"state": s2, "step": self.t}

    def render(self) -> str:
        return f"state={self.state} step={self.t}"


class FourRoomsEnv(TabularEnv):
    """``rewardkit/FourRooms-v0``: EXPRD's 7x7 four-room grid as a Gymnasium env.

    Keyword arguments go to :func:`~rewardkit.tabular.worlds.four_rooms`; ``self.layout``
    holds the cell coordinates.
    """

    def __init__(self, max_steps: int = 50, render_mode: str | None = None, **world_kwargs: Any):
        mdp, layout = four_rooms(**world_kwargs)
        self.layout = layout
        super().__init__(mdp, max_steps, render_mode)


class ChainDistractorEnv(TabularEnv):
    """``rewardkit/ChainDistractor-v0``: the ExploRS chain with the 0.01 distractor.

    Keyword arguments go to :func:`~rewardkit.tabular.worlds.chain_with_distractor`.
    """

    def __init__(self, max_steps: int = 40, render_mode: str | None = None, **world_kwargs: Any):
        mdp, layout = chain_with_distractor(**world_kwargs)
        self.layout = layout
        super().__init__(mdp, max_steps, render_mode)


def register_envs() -> None:
    """Register the tabular envs with Gymnasium (idempotent)."""
    specs = {
        "rewardkit/FourRooms-v0": ("rewardkit.tabular.envs:FourRoomsEnv", {}),
        "rewardkit/ChainDistractor-v0": ("rewardkit.tabular.envs:ChainDistractorEnv", {}),
        "rewardkit/Chain-v0": ("rewardkit.tabular.envs:ChainDistractorEnv", {"distractor": 0.0}),
    }
    for env_id, (entry, kwargs) in specs.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry, kwargs=kwargs)
