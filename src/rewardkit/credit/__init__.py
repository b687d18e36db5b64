"""rewardkit.credit: redistribute delayed rewards.

RUDDER, RRD, progress attribution, ReviBranch importance weights, ReST-MCTS* step values and
Sotopia-RL utterance rewards, OPRL's implicit process reward.
"""

from .decomposition import RRDLinear, RudderLinear, RudderLSTM, rudder_loss
from .process import fit_trajectory_dpo, implicit_step_rewards, mc_step_values, utterance_rewards, value_increments
from .progress import ProgressAttribution, StepRewardTerm
from .redistribute import coin_mass, importance_redistribution, return_equivalent
from rewardkit.core.extras import lazy_getattr

# Gymnasium parts (the 'env' extra) load on first use, so the package imports without gymnasium
__getattr__ = lazy_getattr(__name__, {"DelayedRewardWrapper": ".wrappers", "CoinWalk": ".walk"})

__all__ = [
           "CoinWalk",
           "DelayedRewardWrapper",
           "ProgressAttribution",
           "RRDLinear",
           "RudderLSTM",
           "RudderLinear",
           "StepRewardTerm",
           "coin_mass",
           "fit_trajectory_dpo",
           "implicit_step_rewards",
           "importance_redistribution",
           "mc_step_values",
           "return_equivalent",
           "rudder_loss",
           "utterance_rewards",
           "value_increments",
]
