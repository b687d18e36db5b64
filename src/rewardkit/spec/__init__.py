"""rewardkit.spec: reward specifications beyond Markov rewards.

Reward machines (safe DNF parser, product wrapper, RM shaping, CRM), multi-objective
vector rewards and scalarisation, and submodular (history-dependent) rewards.
"""

from .dnf import DNF, parse_dnf
from .multi_objective import (Scalarized, hypervolume, pareto_front, pareto_mask, tchebycheff,
                              linear_scalarization)
from .reward_machine import RewardMachine, RMShaping
from rewardkit.core.extras import lazy_getattr

# the Gymnasium wrappers (the 'env' extra) load on first use, so the package imports without gymnasium
__getattr__ = lazy_getattr(__name__, {"LinearRewardWrapper": ".wrappers", "RewardMachineWrapper": ".wrappers"})
from .submodular import Coverage, MarginalGain, SetFunction, WeightedCoverage

__all__ = [
                              "DNF",
                              "Coverage",
                              "LinearRewardWrapper",
                              "MarginalGain",
                              "RMShaping",
                              "RewardMachine",
                              "RewardMachineWrapper",
                              "Scalarized",
                              "SetFunction",
                              "WeightedCoverage",
                              "hypervolume",
                              "linear_scalarization",
                              "pareto_front",
                              "pareto_mask",
                              "parse_dnf",
                              "tchebycheff",
]
