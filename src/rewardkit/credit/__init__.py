"""rewardkit.credit: redistribute delayed rewards (RUDDER, RRD, progress attribution, ReviBranch importance weights)."""

from .decomposition import RRDLinear, RudderLinear, RudderLSTM, rudder_loss
from .progress import ProgressAttribution, StepRewardTerm
from .redistribute import DelayedRewardWrapper, coin_mass, importance_redistribution, return_equivalent
from .walk import CoinWalk

__all__ = [
           "CoinWalk",
           "DelayedRewardWrapper",
           "ProgressAttribution",
           "RRDLinear",
           "RudderLSTM",
           "RudderLinear",
           "StepRewardTerm",
           "coin_mass",
           "importance_redistribution",
           "return_equivalent",
           "rudder_loss",
]
