"""Audit checks: one number, a traffic-light status and a one-line explanation.

Every check of ``rewardkit audit`` is a :class:`Check`.  :func:`grade` turns a number into a
status with two thresholds, so each check states its rule in one place:

.. math:: \\text{status}(x) = \\begin{cases} \\text{red} & x \\ge t_{red} \\\\
          \\text{yellow} & t_{yellow} \\le x < t_{red} \\\\ \\text{green} & \\text{otherwise} \\end{cases}

(for "higher is better" checks the inequalities flip).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ..core.errors import ConfigError

__all__ = ["STATUSES", "Check", "grade", "worst"]

#: statuses from best to worst; ``skipped`` checks could not run (the message says why)
STATUSES = ("green", "yellow", "red", "skipped")


def grade(value: float, yellow: float, red: float, higher_is_worse: bool = True) -> str:
    """Status of ``value`` against the ``yellow`` and ``red`` thresholds (NaN is ``skipped``).

    Example:
        >>> grade(0.2, 0.5, 0.9), grade(0.6, 0.5, 0.9), grade(0.95, 0.5, 0.9)
        ('green', 'yellow', 'red')
        >>> grade(0.95, 0.9, 0.5, higher_is_worse=False)      # an accuracy: low is bad
        'green'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "skipped"
    if higher_is_worse:
        if not yellow <= red:
            raise ConfigError("thresholds", f"yellow={yellow} > red={red}", "yellow <= red when higher is worse")
        return "red" if value >= red else "yellow" if value >= yellow else "green"
    if not yellow >= red:
        raise ConfigError("thresholds", f"yellow={yellow} < red={red}", "yellow >= red when higher is better")
    return "red" if value <= red else "yellow" if value <= yellow else "green"


@dataclass(frozen=True)
class Check:
    """One audit finding.

    Attributes:
        section: the group it is shown under (``terms``, ``shaping``, ``hacking`` ...).
        name: a short stable id (``term_dominance``).
        status: one of :data:`STATUSES`.
        value: the number the status was graded on (NaN when skipped).
        message: one line: what was measured and what it means.
        details: extra numbers for the JSON summary (per term, per family ...).

    Example:
        >>> c = Check("terms", "dominance", grade(0.97, 0.6, 0.9), 0.97, "'bonus' is 97% of |reward|")
        >>> c.status, c.to_dict()["value"]
        ('red', 0.97)
    """

    section: str
    name: str
    status: str
    value: float
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ConfigError("status", f"got {self.status!r}", f"one of {STATUSES}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes ``None``)."""
        d = asdict(self)
        if isinstance(self.value, float) and math.isnan(self.value):
            d["value"] = None
        return d


def worst(checks: list[Check]) -> str:
    """The worst status among ``checks`` that ran (``green`` for none).

    Example:
        >>> worst([Check("a", "x", "green", 0.0, ""), Check("a", "y", "yellow", 1.0, "")])
        'yellow'
    """
    ran = [c.status for c in checks if c.status != "skipped"]
    return max(ran, key=STATUSES.index) if ran else "green"
