"""rewardkit.explore: exploration bonuses (intrinsic rewards) for Gymnasium agents.

The protocol is :class:`~rewardkit.explore.base.IntrinsicBonus` (``observe`` per
vector-env step, ``compute``/``update`` per rollout, ``state_dict``); any bonus becomes
a reward term with :class:`~rewardkit.explore.base.BonusTerm`.  See ``docs/explore.md``.
"""

from .base import BonusTerm, IntrinsicBonus
from .counts import (CountBonus, KEY_FUNCTIONS, minigrid_agent_state, minigrid_position,
                     minigrid_position_carrying, minigrid_position_direction, obs_hash)

__all__ = ["IntrinsicBonus", "BonusTerm", "CountBonus", "KEY_FUNCTIONS", "obs_hash",
           "minigrid_agent_state", "minigrid_position", "minigrid_position_direction",
           "minigrid_position_carrying"]
