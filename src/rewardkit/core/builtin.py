"""Built-in, dependency-free reward terms registered under plain names.

``constant``, ``env_reward`` (the environment's own reward), ``alive``
(1 until termination), ``info_key`` (a number read from each transition's info).
"""

from __future__ import annotations



import numpy as np

from .batch import TransitionBatch
from .registry import register_term
from .term import Constant, RewardTerm

__all__ = ["Alive", "EnvReward", "InfoKey"]

register_term("constant", Constant, example={"value": 1.0})


@register_term("env_reward", batch_kind="transition")
class EnvReward(RewardTerm):
    """The environment's own reward :math:`r_t`, unchanged.

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import TransitionBatch
        >>> b = TransitionBatch.from_arrays(np.zeros(2), np.zeros(2), np.zeros(2), [0.0, 1.0])
        >>> EnvReward()(b).tolist()
        [0.0, 1.0]
    """

    batch_kind = "transition"

    def __init__(self, name: str = "env_reward"):
        super().__init__(name)

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        return batch.reward


@register_term("alive", batch_kind="transition")
class Alive(RewardTerm):
    """:math:`\\mathbb{1}[\\neg\\,terminated]` – an alive bonus (truncation is not death).

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import TransitionBatch
        >>> b = TransitionBatch.from_arrays(np.zeros(2), np.zeros(2), np.zeros(2), [0.0, 0.0], terminated=[0, 1])
        >>> Alive()(b).tolist()
        [1.0, 0.0]
    """

    batch_kind = "transition"

    def __init__(self, name: str = "alive"):
        super().__init__(name)

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        return (~batch.terminated).astype(np.float64)


@register_term("info_key", batch_kind="transition", example={"key": "x"})
class InfoKey(RewardTerm):
    """A number read from ``info[key]`` of each transition (``default`` when absent).

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import TransitionBatch
        >>> b = TransitionBatch.from_arrays(np.zeros(2), np.zeros(2), np.zeros(2), [0, 0], info=[{"x": 2}, {}])
        >>> InfoKey("x")(b).tolist()
        [2.0, 0.0]
    """

    batch_kind = "transition"

    def __init__(self, key: str, default: float = 0.0, name: str = "info_key"):
        super().__init__(name)
        self.key = key
        self.default = float(default)

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        return np.array([float(i.get(self.key, self.default)) for i in batch.info])


