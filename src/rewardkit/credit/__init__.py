"""rewardkit.credit: redistribute delayed rewards (RUDDER, RRD, progress attribution)."""

from .decomposition import RRDLinear, RudderLinear, RudderLSTM, rudder_loss
from .progress import ProgressAttribution, StepRewardTerm
from .redistribute import coin_mass, return_equivalent
from rewardkit.core.extras import lazy_getattr

# Gymnasium parts (the 'env' extra) load on first use, so the package imports without gymnasium
__getattr__ = lazy_getattr(__name__, {"DelayedRewardWrapper": "wrappers", "CoinWalk": "walk"})

__all__ = [
           "CoinWalk",
           "DelayedRewardWrapper",
           "ProgressAttribution",
           "RRDLinear",
           "RudderLSTM",
           "RudderLinear",
           "StepRewardTerm",
           "coin_mass",
           "return_equivalent",
           "rudder_loss",
]
