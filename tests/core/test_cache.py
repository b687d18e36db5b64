"""The one LRU cache: eviction order, disabled mode, thread safety, pickling."""

import pickle
import threading

import pytest

from rewardkit.core.cache import LRUCache
from rewardkit.core.errors import ConfigError


def test_evicts_the_least_recently_used_key():
    c = LRUCache(3)
    for k in "abc":
        c.put(k, k.upper())
    assert c.get("a") == "A"            # "a" becomes most recent, "b" is now the oldest
    c.put("d", "D")
    assert "b" not in c and [k for k, _ in c.items()] == ["c", "a", "d"]
    c.put("c", "C2")                    # overwrite refreshes the position
    c.put("e", "E")
    assert [k for k, _ in c.items()] == ["d", "c", "e"] and c.get("c") == "C2"


def test_misses_hits_and_falsy_values_are_cached():
    c = LRUCache(4)
    calls = []
    for _ in range(3):
        assert c.get_or("empty", lambda: calls.append(1) or []) == []
    assert len(calls) == 1 and (c.hits, c.misses) == (2, 1)
    assert c.get("nope", "dflt") == "dflt" and c.pop("empty") == [] and len(c) == 0


def test_zero_size_disables_and_bad_size_is_a_config_error():
    c = LRUCache(0)
    calls = []
    for _ in range(3):
        c.get_or("k", lambda: calls.append(1) or 1)
    assert len(calls) == 3 and len(c) == 0
    for bad in ("10", 1.5, True, None):
        with pytest.raises(ConfigError, match="maxsize"):
            LRUCache(bad)


def test_size_bound_holds_under_concurrent_use():
    c = LRUCache(50)
    errors = []

    def work(t):
        try:
            for i in range(2000):
                k = (t * 7 + i) % 120
                assert c.get_or(k, lambda k=k: k * k) == k * k
        except Exception as e:   # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not errors and len(c) == 50 and c.hits + c.misses == 8 * 2000
    assert all(v == k * k for k, v in c.items())


def test_pickles_with_its_entries_and_order():
    c = LRUCache(3)
    for k in "xyz":
        c.put(k, ord(k))
    c.get("x")
    clone = pickle.loads(pickle.dumps(c))
    assert clone.items() == c.items() and clone.maxsize == 3
    clone.put("w", 0)                   # the clone has a working lock and evicts in the same order
    assert "y" not in clone and "y" in c
