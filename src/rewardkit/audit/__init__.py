"""rewardkit.audit: compare and audit reward functions (EPIC, STARC)."""

from .distances import (as_sas, epic_canonical, epic_distance, pearson_distance, potential_shaping, starc_distance,
                        val_canonical)

__all__ = ["as_sas", "epic_canonical", "epic_distance", "pearson_distance", "potential_shaping", "starc_distance",
           "val_canonical"]
