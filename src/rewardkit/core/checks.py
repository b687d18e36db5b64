"""Validation of numbers that must be finite (weights, scales, clip bounds, thresholds, normaliser params).

A NaN or infinite weight turns every reward of a run into NaN without an error, so
every place that takes such a number checks it when the object is *built* - the
same check serves Python callers and YAML/TOML configs (``.nan``, ``.inf``).

Example:
    >>> from rewardkit.core.checks import finite
    >>> finite(0.5, "terms[1].weight")
    0.5
    >>> finite(float("nan"), "terms[1].weight")
    Traceback (most recent call last):
    ...
    rewardkit.core.errors.ConfigError: terms[1].weight: expected a finite number, got nan
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ConfigError

__all__ = ["bound", "finite"]


def _show(v: Any) -> str:
    text = repr(v) if not isinstance(v, (float, np.floating)) else str(float(v))
    return text if len(text) <= 40 else text[:37] + "..."


def finite(value: Any, field: str, *, low: float | None = None, high: float | None = None) -> float:
    """``float(value)`` if it is a real, finite number (in ``[low, high]`` when given), else a :class:`ConfigError`.

    Booleans, strings and numbers too large for a float are rejected too; the error is one
    line naming ``field``, e.g. ``terms[1].weight: expected a finite number, got nan``.

    Example:
        >>> finite(3, "scale"), finite(np.float32(0.25), "gate.threshold")
        (3.0, 0.25)
        >>> finite(10**400, "weight")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.ConfigError: weight: expected a finite number, got 1000000000000...
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(field, f"expected a finite number, got {_show(value)}")
    try:
        v = float(value)
    except OverflowError:
        raise ConfigError(field, f"expected a finite number, got {_show(value)}") from None
    if not math.isfinite(v):
        raise ConfigError(field, f"expected a finite number, got {_show(v)}")
    if (low is not None and v < low) or (high is not None and v > high):
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ConfigError(field, f"expected a finite number in [{lo}, {hi}], got {_show(v)}")
    return v


def bound(value: Any, field: str, side: str) -> float:
    """A clip bound: finite, or the open end of its ``side`` (``-inf`` for ``"low"``, ``+inf`` for ``"high"``).

    Example:
        >>> bound(-np.inf, "clip.low", "low"), bound(1, "clip.high", "high")
        (-inf, 1.0)
        >>> bound(np.inf, "clip.low", "low")
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.ConfigError: clip.low: expected a finite number or -inf, got inf
    """
    open_end = -math.inf if side == "low" else math.inf
    if isinstance(value, (float, np.floating)) and float(value) == open_end:
        return open_end
    try:
        return finite(value, field)
    except ConfigError:
        raise ConfigError(field, f"expected a finite number or {'-inf' if side == 'low' else 'inf'}, "
                                 f"got {_show(value)}") from None
