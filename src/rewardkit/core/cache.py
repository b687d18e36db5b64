"""One thread-safe, picklable LRU cache for every memoised computation in rewardkit.

A least-recently-used map of at most ``maxsize`` entries: a hit moves the key to the
most-recent end, an insert beyond capacity evicts from the least-recent end, so
after any sequence of operations

.. math:: |C| \\le \\mathrm{maxsize}, \\qquad C = \\text{the maxsize most recently used keys}

(``maxsize <= 0`` disables caching: nothing is stored and every lookup misses).
All operations take one lock; :meth:`LRUCache.get_or` runs the computation *outside*
the lock, so a slow miss never blocks hits on other keys (two threads missing the
same key may both compute it; the last result is kept).  Pickling keeps the entries
and drops the lock, so objects holding a cache can be sent to worker processes.

Used by the judge's reply cache, the math verdict and parsed-gold caches and the
SQL verifier's gold-result caches, the structured verifier's compiled schema validators and
the ToolRL parsed-gold cache.

Example:
    >>> c = LRUCache(2)
    >>> c.put("a", 1); c.put("b", 2); c.get("a")
    1
    >>> c.put("c", 3)          # evicts "b", the least recently used
    >>> "b" in c, c.get("c"), len(c)
    (False, 3, 2)
    >>> c.get_or("d", lambda: 4), c.hits, c.misses
    (4, 2, 1)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, TypeVar

from .errors import ConfigError

__all__ = ["LRUCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING: Any = object()


class LRUCache(Generic[K, V]):
    """A bounded least-recently-used map, safe to share between threads.

    Args:
        maxsize: most entries kept; ``0`` (or less) disables the cache.

    ``hits`` and ``misses`` count lookups through :meth:`get` and :meth:`get_or`.

    Example:
        >>> cache = LRUCache(maxsize=0)      # disabled: computes every time
        >>> cache.get_or("k", lambda: "v"), len(cache)
        ('v', 0)
    """

    def __init__(self, maxsize: int):
        self._setup(maxsize)

    def _setup(self, maxsize: int) -> None:
        """Empty the cache and its counters with a checked ``maxsize`` (shared by ``__init__`` and unpickling)."""
        if isinstance(maxsize, bool) or not isinstance(maxsize, int):
            raise ConfigError("maxsize", f"got {maxsize!r}", "an integer (0 disables the cache)")
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: K, default: Any = None) -> Any:
        """The value under ``key`` (now most recently used), else ``default``."""
        with self._lock:
            value = self._data.get(key, _MISSING)
            if value is _MISSING:
                self.misses += 1
                return default
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: K, value: V) -> None:
        """Store ``value`` under ``key`` as the most recently used entry, evicting the oldest."""
        if self.maxsize <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def get_or(self, key: K, make: Callable[[], V]) -> V:
        """The cached value of ``key``, or ``make()`` stored under it (computed outside the lock)."""
        value: V = self.get(key, _MISSING)
        if value is _MISSING:
            value = make()
            self.put(key, value)
        return value

    def pop(self, key: K, default: Any = None) -> Any:
        """Remove ``key`` and return its value (``default`` if absent)."""
        with self._lock:
            return self._data.pop(key, default)

    def clear(self) -> None:
        """Drop every entry (the hit/miss counters are kept)."""
        with self._lock:
            self._data.clear()

    def items(self) -> list[tuple[K, V]]:
        """A snapshot of the entries, least recently used first."""
        with self._lock:
            return list(self._data.items())

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[K]:
        return iter([k for k, _ in self.items()])

    def __repr__(self) -> str:
        return f"LRUCache(maxsize={self.maxsize}, size={len(self)}, hits={self.hits}, misses={self.misses})"

    def __getstate__(self) -> dict[str, Any]:
        return {"maxsize": self.maxsize, "items": self.items(), "hits": self.hits, "misses": self.misses}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup(state["maxsize"])
        self._data.update(state["items"])
        self.hits, self.misses = state["hits"], state["misses"]
