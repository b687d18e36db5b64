"""The judge's reply cache: the shared :class:`~rewardkit.core.cache.LRUCache` in memory, optionally SQLite on disk.

A reply is stored under

.. math:: k = \\mathrm{sha256}(\\mathrm{json}(\\mathrm{model}, \\mathrm{messages}, \\mathrm{params}))

so changing the model, the prompt or any sampling parameter misses the cache.  A
GRPO group that repeats a completion, or a re-run reading the same SQLite file,
costs no judge calls.  Only parsable replies are stored (by the judge).

Example:
    >>> c = JudgeCache(maxsize=2)
    >>> k = c.key("m", [{"role": "user", "content": "hi"}], {})
    >>> c.put(k, "YES"); c.get(k)
    'YES'
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from rewardkit.core.cache import LRUCache

__all__ = ["JudgeCache"]


class JudgeCache:
    """LRU cache of judge replies in memory (:class:`~rewardkit.core.cache.LRUCache`), optionally persisted in SQLite.

    Args:
        maxsize: replies kept in memory (0 disables the memory layer).
        path: a SQLite file shared across runs (``None``: memory only).

    Example:
        >>> c = JudgeCache(maxsize=0)
        >>> c.put("k", "NO"); c.get("k") is None, len(c)
        (True, 0)
    """

    def __init__(self, maxsize: int = 4096, path: str | os.PathLike | None = None):
        self.maxsize = int(maxsize)
        self._mem: LRUCache[str, str] = LRUCache(self.maxsize)
        self._lock = threading.Lock()  # guards the SQLite connection
        self._db: sqlite3.Connection | None = None
        self._path = str(path) if path else None
        if path:
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("CREATE TABLE IF NOT EXISTS judge_cache (key TEXT PRIMARY KEY, reply TEXT NOT NULL,"
                             " created REAL NOT NULL)")
            self._db.commit()

    @staticmethod
    def key(model: str, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> str:
        """``sha256`` of the model name, the messages and the sampling parameters."""
        blob = json.dumps({"model": model, "messages": list(messages), "params": dict(params)},
                          sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def get(self, key: str) -> str | None:
        """The cached reply, from memory or else from disk (then kept in memory), or ``None``."""
        reply = self._mem.get(key)
        if reply is not None or self._db is None:
            return reply
        with self._lock:
            if self._db is None:
                return None
            row = self._db.execute("SELECT reply FROM judge_cache WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        self._mem.put(key, str(row[0]))
        return str(row[0])

    def put(self, key: str, reply: str) -> None:
        """Store a reply in memory and, with a path, on disk."""
        self._mem.put(key, reply)
        if self._db is not None:
            with self._lock:
                if self._db is not None:
                    self._db.execute("INSERT OR REPLACE INTO judge_cache VALUES (?, ?, ?)", (key, reply, time.time()))
                    self._db.commit()

    def __len__(self) -> int:
        return len(self._mem)

    def __getstate__(self) -> dict[str, Any]:
        return {"maxsize": self.maxsize, "path": self._path, "mem": self._mem.items()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        JudgeCache.__init__(self, state["maxsize"], state["path"])
        for k, v in state["mem"]:
            self._mem.put(k, v)

    def close(self) -> None:
        """Close the SQLite connection (the memory layer stays usable)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
