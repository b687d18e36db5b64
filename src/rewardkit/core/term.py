"""The reward-term protocol.

A *reward term* has a name and maps a batch to a float array:

.. math:: r: \\mathcal{B}^n \\to \\mathbb{R}^n

Terms may be stateful (episodic counts, running statistics); such terms implement
:meth:`RewardTerm.reset` (called with a boolean mask of sub-envs whose episode
ended) and :meth:`RewardTerm.state_dict` / :meth:`RewardTerm.load_state_dict`.

Terms that wrap or combine other terms (``Scale``, ``Clip``, ``Gate``,
``Normalized``, ``ComposedReward`` …) name them in :meth:`RewardTerm.children`;
the base class then forwards ``reset``, ``state_dict`` and ``load_state_dict`` to
every child, with each child's state nested under its key:

.. math:: \\text{state}(w) = \\text{own}(w) \\cup \\{k: \\text{state}(c_k)\\}_{k \\in \\text{children}(w)}
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable
from collections.abc import Callable

import numpy as np

from .batch import SampleBatch, TransitionBatch, looks_per_sample
from .checks import finite
from .errors import BatchError, ConfigError

__all__ = ["Constant", "FunctionTerm", "RewardFn", "RewardTerm", "as_term", "check_output"]


@runtime_checkable
class RewardFn(Protocol):
    """Anything with a ``name`` that maps a batch to an ``(n,)`` float array."""

    name: str

    def __call__(self, batch: Any) -> np.ndarray: ...


class RewardTerm:
    """Base class of a named reward term.

    Subclasses implement :meth:`compute`; calling the term validates the output
    (shape ``(n,)``, float64).  ``batch_kind`` is ``"transition"``, ``"sample"`` or
    ``"any"`` and is checked on call, so a text verifier handed env transitions
    fails with a clear message instead of garbage.

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import RewardTerm, TransitionBatch
        >>> class Alive(RewardTerm):
        ...     batch_kind = "transition"
        ...     def compute(self, batch):
        ...         return (~batch.terminated).astype(float)
        >>> b = TransitionBatch.from_arrays(np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2),
        ...                                 terminated=[False, True])
        >>> Alive("alive")(b).tolist()
        [1.0, 0.0]
    """

    batch_kind: ClassVar[str] = "any"

    def __init__(self, name: str | None = None):
        self.name = name or _snake(type(self).__name__)

    def compute(self, batch: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, batch: Any) -> np.ndarray:
        _check_kind(self, batch)
        return check_output(self.compute(batch), len(batch), self.name)

    def children(self) -> dict[str, RewardTerm]:
        """The terms this term wraps or combines, by key (``{}`` for a leaf term).

        ``reset``, ``state_dict`` and ``load_state_dict`` of the base class forward to
        them, so a wrapper only lists its children and never loses their state.

        Example:
            >>> from rewardkit.core import Constant, Scale
            >>> list(Scale(Constant(1.0, "c"), 2.0).children())
            ['term']
        """
        return {}

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Reset per-episode state for the sub-envs where ``mask`` is True (all if None).

        The base class resets every child; a stateful leaf term overrides this.
        """
        for child in self.children().values():
            child.reset(mask)

    def state_dict(self) -> dict[str, Any]:
        """Serialisable state (running statistics, counts, network weights).

        The base class returns ``{key: child.state_dict()}`` for every child (``{}`` for a
        stateless leaf); a wrapper with state of its own adds its keys next to its children's.
        """
        return {key: child.state_dict() for key, child in self.children().items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (each child from its own key)."""
        for key, child in self.children().items():
            if key in state:
                child.load_state_dict(state[key])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class FunctionTerm(RewardTerm):
    """Wrap a plain function ``fn(batch) -> array-like`` as a named term.

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import FunctionTerm, SampleBatch
        >>> length = FunctionTerm("length", lambda b: [len(c) for c in b.completion_texts()])
        >>> length(SampleBatch(["p", "p"], ["ab", "abcd"])).tolist()
        [2.0, 4.0]
    """

    def __init__(self, name: str, fn: Callable[[Any], Any], batch_kind: str = "any"):
        super().__init__(name)
        self.fn = fn
        self.batch_kind = batch_kind  # type: ignore[misc]

    def compute(self, batch: Any) -> np.ndarray:
        return np.asarray(self.fn(batch), dtype=np.float64)


class Constant(RewardTerm):
    """A constant reward ``c`` per item (an alive bonus or a step cost).

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import Constant, SampleBatch
        >>> Constant(-0.01, name="step_cost")(SampleBatch(["p"], ["c"])).tolist()
        [-0.01]
    """

    def __init__(self, value: float, name: str = "constant"):
        super().__init__(name)
        self.value = finite(value, "value")

    def compute(self, batch: Any) -> np.ndarray:
        return np.full(len(batch), self.value)


def as_term(obj: Any, name: str | None = None) -> RewardTerm:
    """Coerce a :class:`RewardTerm`, a named callable or a batch function ``fn(batch)`` to a term.

    A per-sample function (``fn(completion, answer)``: see
    :data:`~rewardkit.core.batch.SAMPLE_ARGUMENTS`) is refused with a one-line
    :class:`ConfigError` pointing to ``rewardkit.term``, which binds its arguments.

    Example:
        >>> as_term(lambda b: [0.0] * len(b), "zero").name
        'zero'
        >>> as_term(lambda completion: 1.0, "one")
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.ConfigError: term 'one': is a per-sample function (its arguments are sample \
fields), not a batch function; expected rewardkit.term(fn) or rewardkit.as_term(fn) to wrap it
    """
    if isinstance(obj, RewardTerm):
        if name and name != obj.name:
            obj.name = name
        return obj
    if callable(obj):
        nm = name or getattr(obj, "name", None) or getattr(obj, "__name__", None) or "term"
        if not hasattr(obj, "name") and looks_per_sample(obj):
            raise ConfigError(f"term '{nm}'", "is a per-sample function (its arguments are sample fields), "
                              "not a batch function", "rewardkit.term(fn) or rewardkit.as_term(fn) to wrap it")
        return FunctionTerm(str(nm), obj)
    raise TypeError(f"cannot use {obj!r} as a reward term; expected a RewardTerm or a callable")


def check_output(values: Any, n: int, name: str) -> np.ndarray:
    """Validate a term's output: a float64 array of shape ``(n,)``."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    arr = arr.reshape(-1) if arr.size == n else arr
    if arr.shape != (n,):
        raise BatchError(f"term '{name}'", f"returned shape {arr.shape} for a batch of {n}",
                         f"a float array of shape ({n},)")
    return arr


def _check_kind(term: RewardTerm, batch: Any) -> None:
    kind = getattr(term, "batch_kind", "any")
    if kind == "transition" and not isinstance(batch, TransitionBatch):
        raise BatchError(f"term '{term.name}'", f"got a {type(batch).__name__}", "a TransitionBatch")
    if kind == "sample" and not isinstance(batch, SampleBatch):
        raise BatchError(f"term '{term.name}'", f"got a {type(batch).__name__}", "a SampleBatch")


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
