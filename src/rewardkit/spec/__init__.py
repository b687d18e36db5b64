"""rewardkit.spec: reward specifications beyond Markov rewards.

Reward machines (safe DNF parser, product wrapper, RM shaping, CRM), multi-objective
vector rewards and scalarisation, and submodular (history-dependent) rewards.
"""

from .dnf import DNF, parse_dnf
from .multi_objective import (LinearRewardWrapper, Scalarized, hypervolume, pareto_front, pareto_mask, tchebycheff,
                              weighted_sum)
from .reward_machine import RewardMachine, RewardMachineWrapper, RMShaping
from .submodular import Coverage, MarginalGain, SetFunction, WeightedCoverage

__all__ = ["DNF", "parse_dnf", "RewardMachine", "RewardMachineWrapper", "RMShaping", "LinearRewardWrapper",
           "Scalarized", "hypervolume", "pareto_front", "pareto_mask", "tchebycheff", "weighted_sum", "Coverage",
           "MarginalGain", "SetFunction", "WeightedCoverage"]
