"""rewardkit.explore: exploration bonuses (intrinsic rewards) for Gymnasium agents.

The protocol is :class:`~rewardkit.explore.base.IntrinsicBonus` (``observe`` per
vector-env step, ``compute``/``update`` per rollout, ``state_dict``); any bonus becomes
a reward term with :class:`~rewardkit.explore.base.BonusTerm`.  See ``docs/explore.md``.

Torch-based modules (RND, ICM, E3B, SimHash, …) are imported lazily on first attribute
access, so ``import rewardkit.explore`` stays cheap (no torch); the registry calls
:func:`register_terms` when it loads the built-in term types.
"""

from __future__ import annotations

import importlib

from rewardkit.core.extras import lazy_getattr

from .base import BonusTerm, IntrinsicBonus
from .counts import (CountBonus, KEY_FUNCTIONS, count_bonus, minigrid_agent_state, minigrid_position,
                     minigrid_position_carrying, minigrid_position_direction, obs_hash)

_LAZY = {
    "RND": "rnd", "ICM": "icm", "Disagreement": "disagreement", "E3B": "e3b", "RIDE": "ride",
    "NovelD": "noveld", "RE3": "re3", "EpisodicKNN": "ngu", "RDD": "rdd",
    "SimHashBonus": "simhash", "SimHashKey": "simhash",
    "ObsNormalizer": "nets", "IntrinsicReturnScaler": "nets", "forward_filtered_returns": "nets",
    "Sum": "combine", "Product": "combine", "NGUMultiplier": "combine",
    "e3b_x_rnd": "combine", "e3b_x_noveld": "combine", "count_x_count": "combine",
    "ngu_preset": "combine",  # (``rewardkit.explore.ngu`` is the episodic-kNN module)
    "BonusShareGuard": "guard", "BonusFarmingWarning": "guard",
    "NoveltyArchive": "novelty_search", "NoveltySearchBonus": "novelty_search",
    "CellArchive": "go_explore", "downscale_cell": "go_explore",
    "minigrid_snapshot": "go_explore", "minigrid_restore": "go_explore", "explore_from_archive": "go_explore",
}

#: modules that register reward-term types (imported when the registry loads built-ins)
_TERM_MODULES = ("rnd", "e3b", "combine", "terms", "simhash")

#: schedules live in rewardkit.core.schedules; these names stay importable from here
_CORE = {"Schedule", "constant", "linear", "exponential", "cosine", "piecewise"}


__all__ = ["IntrinsicBonus", "BonusTerm", "CountBonus", "count_bonus", "KEY_FUNCTIONS", "obs_hash",
           "minigrid_agent_state", "minigrid_position", "minigrid_position_direction",
           "minigrid_position_carrying", "register_terms", *sorted(_LAZY), *sorted(_CORE)]


__getattr__ = lazy_getattr(__name__, {**{name: f".{mod}" for name, mod in _LAZY.items()},
                                      **dict.fromkeys(_CORE, "rewardkit.core.schedules")})


def register_terms() -> None:
    """Import the modules that register reward-term types (called by the term registry)."""
    for m in _TERM_MODULES:
        try:
            importlib.import_module(f"{__name__}.{m}")
        except ImportError:  # torch missing: torch-based terms are unavailable
            pass
