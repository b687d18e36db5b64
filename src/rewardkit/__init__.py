"""rewardkit: the reward layer of an RL agent.

Compose, shape, explore, learn, verify and audit rewards for Gymnasium agents and
for LLM policies trained with GRPO-style RL.  See ``docs/`` and ``rewardkit --help``.
"""

from .core import *  # noqa: F403
from .core import __all__ as _core_all

from .core.extras import lazy_getattr as _lazy_getattr

__version__ = "0.1.0"

#: plain-function terms (rewardkit.verify.functions), imported on first use so ``import rewardkit`` stays light
_FUNCTION_TERMS = ("as_term", "group_term", "term")
#: name -> module of the objects imported on first use
_LAZY = {**dict.fromkeys(_FUNCTION_TERMS, ".verify.functions"), "load_task": ".tasks"}
del as_term  # noqa: F821  (core's coercion; ``rewardkit.as_term`` is the per-sample-aware superset)
__all__ = [*list(_core_all), *[n for n in _LAZY if n not in _core_all], "__version__"]

__getattr__ = _lazy_getattr(__name__, _LAZY)
