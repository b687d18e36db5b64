"""Pickling objects that hold process-local resources (locks, pools, caches, clients).

Trainers move reward functions between processes: Ray actors, ``multiprocessing``
with the ``spawn`` start method, ``accelerate`` launchers and verl's prime reward
manager (a ``ProcessPoolExecutor``) all pickle them.  A ``threading.Lock``, a
worker pool or an open database connection cannot be pickled, and would be
meaningless in another process anyway.  :class:`RebuildOnUnpickle` drops them
from the pickled state and rebuilds them, empty, on unpickling, so the copy is
an equal scorer: configuration and learned state travel, resources do not.

For an object :math:`o` with state :math:`S = C \\cup T` (configuration ``C``,
transient resources ``T``):

.. math:: \\mathrm{loads}(\\mathrm{dumps}(o)) = (C, \\{t: \\mathrm{make}_t() \\mid t \\in T\\}).

Example:
    >>> import copy, threading
    >>> class Counter(RebuildOnUnpickle):
    ...     _transient = {"_lock": threading.Lock, "_cache": dict}
    ...     def __init__(self, step):
    ...         self.step, self._lock, self._cache = step, threading.Lock(), {"x": 1}
    >>> c = copy.deepcopy(Counter(3))  # the same path as pickle.loads(pickle.dumps(...))
    >>> c.step, c._cache, type(c._lock) is type(threading.Lock())
    (3, {}, True)
"""

from __future__ import annotations

from typing import Any, ClassVar
from collections.abc import Callable

__all__ = ["RebuildOnUnpickle"]


class RebuildOnUnpickle:
    """Mixin: pickle without the attributes named in ``_transient``; rebuild each with its factory.

    ``_transient`` maps an attribute name to a zero-argument factory (``threading.Lock``,
    ``dict``, ``lambda: None`` for a lazily created pool or client).  Subclasses merge
    their parent's map: ``_transient = {**Parent._transient, "_pool": lambda: None}``.
    """

    _transient: ClassVar[dict[str, Callable[[], Any]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in self._transient}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name, make in self._transient.items():
            setattr(self, name, make())
