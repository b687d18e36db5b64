"""rewardkit: the reward layer of an RL agent.

Compose, shape, explore, learn, verify and audit rewards for Gymnasium agents and
for LLM policies trained with GRPO-style RL.  See ``docs/`` and ``rewardkit --help``.
"""

from .core import *  # noqa: F403
from .core import __all__ as _core_all
from .tasks import load_task

__version__ = "0.1.0"
__all__ = [*list(_core_all), "__version__", "load_task"]
