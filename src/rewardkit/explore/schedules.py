"""Coefficient schedules for exploration bonuses, driven by the global step.

A schedule is a callable ``schedule(step) -> float`` (``step`` = environment
transitions seen so far).  :class:`~rewardkit.explore.base.BonusTerm` accepts one as
``coef`` and evaluates it at the bonus' ``global_step``.

* :func:`constant` – :math:`\\beta_t = \\beta`;
* :func:`linear` – :math:`\\beta_t = \\beta_0 + (\\beta_1 - \\beta_0)\\min(t/T, 1)`;
  ``linear(b, 0, T)`` anneals to zero;
* :func:`exponential` – :math:`\\beta_t = \\max(\\beta_0 (1-\\kappa)^t, \\beta_{min})`
  (RLLTE's ``beta * (1 - kappa) ** step``, but counted in transitions, not rollouts),
  or with ``half_life`` :math:`h`: :math:`\\kappa = 1 - 2^{-1/h}`;
* ``warmup_steps`` on any schedule: :math:`\\beta_t \\cdot \\min(t / W, 1)` – ramp the
  bonus in after learned bonuses have seen some data.

Decaying the bonus is the standard remedy against late bonus farming: the
exploration incentive should vanish once the task reward is found.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import ConfigError

__all__ = ["Schedule", "constant", "linear", "exponential"]


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

    def __call__(self, step: int) -> float:
        t = max(int(step), 0)
        if self.kind == "constant":
            v = self.start
        elif self.kind == "linear":
            v = self.start + (self.end - self.start) * min(t / max(self.steps, 1), 1.0)
        else:
            v = max(self.start * (1.0 - self.rate) ** t, self.minimum)
        if self.warmup_steps > 0:
            v *= min(t / self.warmup_steps, 1.0)
        return float(v)


def _check(warmup_steps: int) -> None:
    if warmup_steps < 0:
        raise ConfigError("warmup_steps", f"got {warmup_steps!r}", "an int >= 0")


def constant(value: float, warmup_steps: int = 0) -> Schedule:
    """:math:`\\beta_t = \\beta` (after the optional warm-up ramp).

    Example:
        >>> constant(0.01)(10**6)
        0.01
    """
    _check(warmup_steps)
    return Schedule("constant", float(value), warmup_steps=int(warmup_steps))


def linear(start: float, end: float, steps: int, warmup_steps: int = 0) -> Schedule:
    """Linear interpolation from ``start`` to ``end`` over ``steps`` transitions, then constant.

    Example:
        >>> linear(0.1, 0.0, 1000)(500)
        0.05
    """
    _check(warmup_steps)
    if steps < 1:
        raise ConfigError("steps", f"got {steps!r}", "a positive int")
    return Schedule("linear", float(start), float(end), int(steps), warmup_steps=int(warmup_steps))


def exponential(start: float, rate: float | None = None, half_life: float | None = None,
                minimum: float = 0.0, warmup_steps: int = 0) -> Schedule:
    """Exponential decay per transition: ``rate`` :math:`\\kappa` or ``half_life`` in transitions.

    Example:
        >>> round(exponential(1.0, half_life=100)(200), 6)
        0.25
    """
    _check(warmup_steps)
    if (rate is None) == (half_life is None):
        raise ConfigError("rate", "both or neither of rate/half_life given", "exactly one of rate or half_life")
    if half_life is not None:
        if half_life <= 0:
            raise ConfigError("half_life", f"got {half_life!r}", "a positive number of transitions")
        rate = 1.0 - 2.0 ** (-1.0 / half_life)
    if not 0.0 <= float(rate) < 1.0:  # type: ignore[arg-type]
        raise ConfigError("rate", f"got {rate!r}", "a number in [0, 1)")
    return Schedule("exponential", float(start), rate=float(rate), minimum=float(minimum),  # type: ignore[arg-type]
                    warmup_steps=int(warmup_steps))
