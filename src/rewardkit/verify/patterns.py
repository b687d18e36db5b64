"""Bounded evaluation of JSON Schema regular expressions on model output.

A schema ``pattern`` (or a ``patternProperties`` key) is written by the task author, but the
string it is matched against is written by the model, and a backtracking engine can take
exponential time on a crafted string: ``^(a|a)*$`` against ``'a' * 40 + '!'`` explores
:math:`2^{40}` paths.  Python's ``re`` cannot be interrupted, so schema regexes are run with
the ``regex`` module (a superset of ``re``'s syntax) and its ``timeout=``, against a
**per-sample budget**: all regex searches of one sample share :data:`PATTERN_BUDGET_S`
seconds (``regex`` checks its timeout coarsely: the wall time is up to ~3x the budget).
When the budget is spent, the search raises :class:`PatternTimeout`; the structured-output
and tool-call verifiers give the sample its fail value with ``error="timeout"``.

:func:`bounded_validator` extends a ``jsonschema`` validator class so that ``pattern``,
``patternProperties`` and ``additionalProperties`` (which matches keys against the
``patternProperties`` regexes) use :func:`bounded_search`.

Example:
    >>> bounded_search("^a+$", "aaa")
    True
    >>> with pattern_budget(0.01):
    ...     bounded_search("^(a|a)*$", "a" * 40 + "!")
    Traceback (most recent call last):
    ...
    rewardkit.verify.patterns.PatternTimeout: schema pattern '^(a|a)*$' exceeded the per-sample regex budget
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rewardkit.core.cache import LRUCache

__all__ = ["PATTERN_BUDGET_S", "PatternTimeout", "bounded_search", "bounded_validator", "pattern_budget"]

#: seconds of regex matching one sample may use in total (per search outside :func:`pattern_budget`)
PATTERN_BUDGET_S = 0.2

_state = threading.local()
_CLASSES: LRUCache[Any, Any] = LRUCache(64)


class PatternTimeout(Exception):
    """A schema regex did not finish within the sample's regex budget."""


@contextmanager
def pattern_budget(seconds: float = PATTERN_BUDGET_S) -> Iterator[None]:
    """All :func:`bounded_search` calls in this block (same thread) share ``seconds``.

    Example:
        >>> with pattern_budget(1.0):
        ...     bounded_search("b", "abc")
        True
    """
    previous = getattr(_state, "deadline", None)
    _state.deadline = time.monotonic() + float(seconds)
    try:
        yield
    finally:
        _state.deadline = previous


def bounded_search(pattern: str, string: str) -> bool:
    """``re.search(pattern, string) is not None`` with a timeout (the rest of the current
    :func:`pattern_budget`, else :data:`PATTERN_BUDGET_S`); raises :class:`PatternTimeout`."""
    import regex

    deadline = getattr(_state, "deadline", None)
    left = PATTERN_BUDGET_S if deadline is None else deadline - time.monotonic()
    if left <= 0:
        raise PatternTimeout(f"schema pattern {pattern[:80]!r} exceeded the per-sample regex budget")
    try:
        return regex.search(pattern, string, timeout=left) is not None
    except TimeoutError:
        raise PatternTimeout(f"schema pattern {pattern[:80]!r} exceeded the per-sample regex budget") from None


def _pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema import ValidationError

    if validator.is_type(instance, "string") and not bounded_search(patrn, instance):
        yield ValidationError(f"{instance[:80]!r} does not match {patrn!r}")


def _pattern_properties(validator: Any, pattern_properties: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for patrn, subschema in pattern_properties.items():
        for k, v in instance.items():
            if bounded_search(patrn, k):
                yield from validator.descend(v, subschema, path=k, schema_path=patrn)


def _additional_properties(validator: Any, ap: Any, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema import ValidationError

    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = "|".join(schema.get("patternProperties", {}))
    extras = [k for k in instance if k not in properties and not (patterns and bounded_search(patterns, k))]
    if validator.is_type(ap, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], ap, path=extra)
    elif not ap and extras:
        names = ", ".join(repr(e)[:80] for e in sorted(extras, key=str)[:20])
        yield ValidationError(f"Additional properties are not allowed ({names} unexpected)")


def bounded_validator(cls: Any) -> Any:
    """``cls`` (a ``jsonschema`` validator class) with bounded ``pattern``, ``patternProperties``
    and ``additionalProperties`` (cached per class).

    Example:
        >>> import jsonschema
        >>> V = bounded_validator(jsonschema.Draft202012Validator)
        >>> V({"pattern": "^a+$"}).is_valid("aa"), V({"pattern": "^a+$"}).is_valid("ab")
        (True, False)
    """
    def make() -> Any:
        import jsonschema

        return jsonschema.validators.extend(cls, {"pattern": _pattern, "patternProperties": _pattern_properties,
                                                  "additionalProperties": _additional_properties})
    return _CLASSES.get_or(cls, make)
