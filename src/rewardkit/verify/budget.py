"""Per-sample budgets: what one model output may cost a verifier, and what it gets when it
costs more.

Every verifier bounds each sample in three ways, cheapest first:

1. **an input-size cap** checked before any scan: a completion longer than ``max_chars`` is
   not read at all; it gets the verifier's fail value and ``error="too_large"``;
2. **linear-time scans** below the cap (tags: :mod:`rewardkit.verify.tags`; boxes, numbers,
   fences: single passes), so time is bounded by construction;
3. **bounded parsers** (:func:`load_output`, i.e. :mod:`rewardkit.core.safe_load` with the
   model-output limits :data:`PARSE_LIMITS`: YAML aliases, nesting depth, nodes, size;
   ``error="parse_limit"``) and, where a parser can still blow up (sympy in math-verify,
   SQLite), **a deadline**: a worker process that is killed (math) or a progress-handler
   interrupt (SQL), ``error="timeout"``.

The defaults are tabulated in ``docs/verify-budgets.md`` and in :data:`DEFAULT_BUDGETS`; the
adversarial suite ``tests/verify_adversarial`` checks every registered verifier against them
(2 s wall clock and 1 GB per sample).

Example:
    >>> load_output('{"a": [1, 2]}', "json")
    {'a': [1, 2]}
    >>> b = Budget(max_chars=10)
    >>> b.too_large("x" * 11, fail_value=-1.0).error, b.too_large("short", 0.0) is None
    ('too_large', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rewardkit.core import ConfigError
from rewardkit.core.errors import LimitExceeded
from rewardkit.core.safe_load import parse_document

from .result import VerifyResult

__all__ = [
    "DEFAULT_BUDGETS",
    "PARSE_LIMIT",
    "PARSE_LIMITS",
    "TIMEOUT",
    "TOO_LARGE",
    "Budget",
    "LimitExceeded",
    "load_output",
]

#: error type of a sample above the size cap
TOO_LARGE = "too_large"
#: error type of a payload that exceeds a parser limit (aliases, depth, size, exponent towers)
PARSE_LIMIT = "parse_limit"
#: error type of a step stopped by its deadline
TIMEOUT = "timeout"

#: limits of one parse of model output (tighter than the config-file defaults of
#: :mod:`rewardkit.core.safe_load`): payload bytes, nesting depth, nodes with every alias
#: expanded, YAML alias uses
PARSE_LIMITS: dict[str, int] = {"max_bytes": 200_000, "max_depth": 64, "max_nodes": 20_000, "max_aliases": 64}


def load_output(text: str, fmt: str, **limits: int) -> Any:
    """Parse a model-output payload as ``fmt`` (``"json"``, ``"yaml"`` or ``"toml"``) with
    :func:`rewardkit.core.safe_load.parse_document` and :data:`PARSE_LIMITS` (``limits``
    override single fields).

    Raises :class:`~rewardkit.core.errors.LimitExceeded` over a limit (verifiers report
    ``error="parse_limit"``) and :class:`~rewardkit.core.errors.ConfigError` for text that does
    not parse (``parse_error``).

    Example:
        >>> bomb = 'a: &a [x, x]\\nb: &b [*a, *a]\\nc: [*b, *b, *b]'
        >>> load_output(bomb, "yaml", max_aliases=4)
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.LimitExceeded: yaml: more than 4 YAML aliases; expected ...
    """
    return parse_document(text, fmt, **{**PARSE_LIMITS, **limits}, field=fmt)


@dataclass(frozen=True)
class Budget:
    """The per-sample budget of one verifier.

    Attributes:
        max_chars: longest completion read (characters); longer ones fail with ``too_large``.
        time_s: wall-clock seconds one sample may take (enforced by a deadline where a step
            can blow up, by construction elsewhere).
        memory_mb: memory one sample may use, in MiB (enforced by the caps and parser limits
            in-process; by ``RLIMIT_AS`` in worker processes).
    """

    max_chars: int = 1_000_000
    time_s: float = 2.0
    memory_mb: int = 1024

    def __post_init__(self) -> None:
        if not (isinstance(self.max_chars, int) and self.max_chars > 0):
            raise ConfigError("max_chars", f"got {self.max_chars!r}", "a positive int (characters)")
        if not (isinstance(self.time_s, (int, float)) and 0 < self.time_s < float("inf")):
            raise ConfigError("time_s", f"got {self.time_s!r}", "a positive number of seconds")
        if not (isinstance(self.memory_mb, int) and self.memory_mb > 0):
            raise ConfigError("memory_mb", f"got {self.memory_mb!r}", "a positive int (MiB)")

    def too_large(self, text: Any, fail_value: float = 0.0, components: dict[str, float] | None = None
                  ) -> VerifyResult | None:
        """The ``too_large`` result for a completion over ``max_chars``, else ``None``."""
        n = len(text) if isinstance(text, str) else 0
        if n <= self.max_chars:
            return None
        return VerifyResult(fail_value, dict(components or {}), None, error=TOO_LARGE,
                            info={"message": f"completion has {n} characters > max_chars={self.max_chars}"})


#: default budgets per registered verifier type (see docs/verify-budgets.md)
DEFAULT_BUDGETS: dict[str, Budget] = {
    "math": Budget(max_chars=400_000, time_s=1.5, memory_mb=1024),
    "qa": Budget(max_chars=400_000),
    "choice": Budget(max_chars=400_000),
    "format": Budget(max_chars=1_000_000),
    "sql": Budget(max_chars=200_000, time_s=5.0),
    "structured": Budget(max_chars=200_000),
    "toolcall": Budget(max_chars=200_000),
    "code": Budget(max_chars=200_000),
    "judge": Budget(max_chars=200_000),
}
