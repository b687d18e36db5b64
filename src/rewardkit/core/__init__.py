"""rewardkit.core: the reward protocol and its composition algebra."""

from .batch import Batch, SampleBatch, TransitionBatch
from .compose import Clip, Component, ComposedReward, Gate, Normalized, RewardResult, Scale, weighted_sum
from .config import build_reward, load_config, load_reward, read_mapping
from .errors import BatchError, ConfigError, RewardkitError
from .normalize import RewardNormalizer, RunningMeanStd
from .potential import potential_difference
from .registry import available_terms, get_factory, register_term
from .term import Constant, FunctionTerm, RewardFn, RewardTerm, as_term, check_output
from . import builtin  # noqa: F401  (registers constant/env_reward/alive/info_key)

__all__ = [
    "Batch", "SampleBatch", "TransitionBatch", "Clip", "Component", "ComposedReward", "Gate",
    "Normalized", "RewardResult", "Scale", "weighted_sum", "build_reward", "load_config",
    "load_reward", "read_mapping", "BatchError", "ConfigError", "RewardkitError", "RewardNormalizer",
    "RunningMeanStd", "available_terms", "get_factory", "register_term", "Constant", "FunctionTerm",
    "RewardFn", "RewardTerm", "as_term", "check_output",
]
__all__ += ["potential_difference"]  # the one potential-shaping primitive (core/potential.py)
