"""Step-driven coefficients: warm-up, constant, linear and exponential decay, cosine anneal, piecewise.

A schedule is a callable ``schedule(step) -> float``.  ``step`` counts what its user
counts - environment transitions for exploration bonuses
(:class:`~rewardkit.explore.base.BonusTerm` evaluates ``coef`` at its ``global_step``),
items or calls for a :class:`~rewardkit.core.compose.Scheduled` term or a scheduled
weight of a :class:`~rewardkit.core.compose.ComposedReward`.

* :func:`constant` - :math:`\\beta_t = \\beta`;
* :func:`linear` - :math:`\\beta_t = \\beta_0 + (\\beta_1 - \\beta_0)\\min(t/T, 1)`;
  ``linear(b, 0, T)`` anneals to zero;
* :func:`exponential` - :math:`\\beta_t = \\max(\\beta_0 (1-\\kappa)^t, \\beta_{min})`
  (RLLTE's ``beta * (1 - kappa) ** step``, but counted in transitions, not rollouts),
  or with ``half_life`` :math:`h`: :math:`\\kappa = 1 - 2^{-1/h}`;
* :func:`cosine` - cosine annealing (Loshchilov & Hutter 2017, SGDR, without restarts):
  :math:`\\beta_t = \\beta_1 + \\tfrac12(\\beta_0 - \\beta_1)(1 + \\cos(\\pi \\min(t/T, 1)))`;
* :func:`piecewise` - linear interpolation between ``(t_k, \\beta_k)`` points, constant
  outside them;
* ``warmup_steps`` :math:`W` on any schedule: :math:`\\beta_t \\cdot \\min(t / W, 1)` - ramp a
  term in (e.g. after a learned bonus has seen some data).

Every parameter must be finite (a NaN coefficient would turn every reward into NaN).

Example:
    >>> from rewardkit.core.schedules import from_config
    >>> s = from_config({"schedule": "linear", "start": 1.0, "end": 0.0, "steps": 10000})
    >>> s(0), s(5000), s(10**6)
    (1.0, 0.5, 0.0)
"""

from __future__ import annotations

import math
from itertools import pairwise
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .checks import finite
from .errors import ConfigError

__all__ = ["KINDS", "Schedule", "constant", "cosine", "exponential", "from_config", "linear", "piecewise"]


@dataclass(frozen=True)
class Schedule:
    """A step-driven coefficient (see module docs); build with the functions below.

    Example:
        >>> s = linear(1.0, 0.0, 100, warmup_steps=10)
        >>> [round(s(t), 3) for t in (0, 5, 10, 50, 100, 1000)]
        [0.0, 0.475, 0.9, 0.5, 0.0, 0.0]
    """

    kind: str
    start: float
    end: float = 0.0
    steps: int = 1
    rate: float = 0.0
    minimum: float = 0.0
    warmup_steps: int = 0
    points: tuple[tuple[float, float], ...] = ()

    def __call__(self, step: int) -> float:
        t = max(int(step), 0)
        if self.kind == "constant":
            v = self.start
        elif self.kind == "linear":
            v = self.start + (self.end - self.start) * min(t / max(self.steps, 1), 1.0)
        elif self.kind == "cosine":
            frac = min(t / max(self.steps, 1), 1.0)
            v = self.end + 0.5 * (self.start - self.end) * (1.0 + math.cos(math.pi * frac))
        elif self.kind == "piecewise":
            v = _interpolate(self.points, t)
        else:
            v = max(self.start * (1.0 - self.rate) ** t, self.minimum)
        if self.warmup_steps > 0:
            v *= min(t / self.warmup_steps, 1.0)
        return float(v)


def _interpolate(points: tuple[tuple[float, float], ...], t: float) -> float:
    if t <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in pairwise(points):
        if t <= t1:
            return v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return points[-1][1]


def _int(v: Any, field: str, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise ConfigError(field, f"got {v!r}", f"an int >= {low}")
    return v


def constant(value: float, warmup_steps: int = 0) -> Schedule:
    """:math:`\\beta_t = \\beta` (after the optional warm-up ramp).

    Example:
        >>> constant(0.01)(10**6)
        0.01
    """
    return Schedule("constant", finite(value, "value"), warmup_steps=_int(warmup_steps, "warmup_steps", 0))


def linear(start: float, end: float, steps: int, warmup_steps: int = 0) -> Schedule:
    """Linear interpolation from ``start`` to ``end`` over ``steps``, then constant.

    Example:
        >>> linear(0.1, 0.0, 1000)(500)
        0.05
    """
    return Schedule("linear", finite(start, "start"), finite(end, "end"), _int(steps, "steps", 1),
                    warmup_steps=_int(warmup_steps, "warmup_steps", 0))


def cosine(start: float, end: float, steps: int, warmup_steps: int = 0) -> Schedule:
    """Cosine annealing from ``start`` to ``end`` over ``steps`` (SGDR without restarts), then constant.

    :math:`\\beta_t = \\beta_1 + \\tfrac12(\\beta_0 - \\beta_1)(1 + \\cos(\\pi \\min(t/T, 1)))`.

    Example:
        >>> s = cosine(1.0, 0.0, 100)
        >>> s(0), s(50), s(100)
        (1.0, 0.5, 0.0)
    """
    return Schedule("cosine", finite(start, "start"), finite(end, "end"), _int(steps, "steps", 1),
                    warmup_steps=_int(warmup_steps, "warmup_steps", 0))


def exponential(start: float, rate: float | None = None, half_life: float | None = None,
                minimum: float = 0.0, warmup_steps: int = 0) -> Schedule:
    """Exponential decay per step: ``rate`` :math:`\\kappa` or ``half_life`` in steps.

    Example:
        >>> round(exponential(1.0, half_life=100)(200), 6)
        0.25
    """
    warm = _int(warmup_steps, "warmup_steps", 0)
    if (rate is None) == (half_life is None):
        raise ConfigError("rate", "both or neither of rate/half_life given", "exactly one of rate or half_life")
    if half_life is not None:
        h = finite(half_life, "half_life")
        if h <= 0:
            raise ConfigError("half_life", f"got {half_life!r}", "a positive number of steps")
        rate = 1.0 - 2.0 ** (-1.0 / h)
    k = finite(rate, "rate")
    if not 0.0 <= k < 1.0:
        raise ConfigError("rate", f"got {rate!r}", "a number in [0, 1)")
    return Schedule("exponential", finite(start, "start"), rate=k, minimum=finite(minimum, "minimum"),
                    warmup_steps=warm)


def piecewise(points: Sequence[Sequence[float]], warmup_steps: int = 0) -> Schedule:
    """Linear interpolation between ``[[step, value], ...]`` points (increasing steps), constant outside.

    Example:
        >>> s = piecewise([[0, 0.0], [100, 1.0], [300, 0.0]])
        >>> s(50), s(200), s(10**6)
        (0.5, 0.5, 0.0)
    """
    if isinstance(points, (str, bytes)) or not isinstance(points, Sequence) or not points:
        raise ConfigError("points", f"got {points!r}", "a non-empty list of [step, value] pairs")
    pts = []
    for i, p in enumerate(points):
        if isinstance(p, (str, bytes)) or not isinstance(p, Sequence) or len(p) != 2:
            raise ConfigError(f"points[{i}]", f"got {p!r}", "a pair [step, value]")
        pts.append((finite(p[0], f"points[{i}][0]", low=0.0), finite(p[1], f"points[{i}][1]")))
    for i in range(1, len(pts)):
        if pts[i][0] <= pts[i - 1][0]:
            raise ConfigError(f"points[{i}][0]", f"step {pts[i][0]:g} after {pts[i - 1][0]:g}", "increasing steps")
    return Schedule("piecewise", pts[0][1], points=tuple(pts), warmup_steps=_int(warmup_steps, "warmup_steps", 0))


#: config name -> builder
KINDS: dict[str, Callable[..., Schedule]] = {"constant": constant, "linear": linear, "exponential": exponential,
                                             "cosine": cosine, "piecewise": piecewise}


def from_config(spec: Mapping[str, Any], field: str = "schedule") -> Schedule:
    """Build a schedule from ``{schedule: <kind>, **arguments}`` (kinds: :data:`KINDS`); errors name ``field``.

    Example:
        >>> from_config({"schedule": "cosine", "start": 2.0, "end": 0.0, "steps": 4})(2)
        1.0
        >>> from_config({"schedule": "linear", "start": float("nan"), "end": 0, "steps": 4}, "terms[0].weight")
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.ConfigError: terms[0].weight.start: expected a finite number, got nan
    """
    if not isinstance(spec, Mapping):
        raise ConfigError(field, f"got {spec!r}", "a mapping {schedule: <kind>, ...}")
    args = dict(spec)
    kind = args.pop("schedule", None)
    if kind not in KINDS:
        raise ConfigError(f"{field}.schedule", f"got {kind!r}", f"one of {sorted(KINDS)}")
    try:
        return KINDS[kind](**args)
    except ConfigError as e:
        raise ConfigError(f"{field}.{e.field}", e.problem, e.expected) from None
    except TypeError as e:
        raise ConfigError(field, " ".join(str(e).split()), f"the arguments of schedules.{kind}") from None
