"""rewardkit.core: the reward protocol and its composition algebra."""

from .batch import Batch, SampleBatch, TransitionBatch
from .compose import Clip, Component, ComposedReward, Gate, Normalized, RewardResult, Scale, Scheduled, weighted_sum
from .config import build_reward, load_config, load_reward, read_mapping
from .errors import BatchError, ConfigError, DuplicateNameError, RewardkitError
from .gae import bootstrap_values, gae
from .normalize import RewardNormalizer, RunningMeanStd, update_from_moments
from .registry import Registry, available_terms, get_factory, register_term
from .schedules import Schedule
from .seeding import seeded
from .potential import potential_difference
from .term import Constant, FunctionTerm, RewardFn, RewardTerm, as_term, check_output
from . import builtin  # noqa: F401  (registers constant/env_reward/alive/info_key)

__all__ = [
    "Batch",
    "BatchError",
    "Clip",
    "Component",
    "ComposedReward",
    "ConfigError",
    "Constant",
    "DuplicateNameError",
    "FunctionTerm",
    "Gate",
    "Normalized",
    "Registry",
    "RewardFn",
    "RewardNormalizer",
    "RewardResult",
    "RewardTerm",
    "RewardkitError",
    "RunningMeanStd",
    "SampleBatch",
    "Scale",
    "Schedule",
    "Scheduled",
    "TransitionBatch",
    "as_term",
    "available_terms",
    "bootstrap_values",
    "build_reward",
    "check_output",
    "gae",
    "get_factory",
    "load_config",
    "load_reward",
    "read_mapping",
    "register_term",
    "seeded",
    "update_from_moments",
    "weighted_sum",
]
__all__ += ["potential_difference"]  # the one potential-shaping primitive (core/potential.py)
