"""Errors raised by rewardkit.

Every error names the offending field and the expected form in one line, so a bad
config or dataset row fails before any training starts.
"""

from __future__ import annotations


class RewardkitError(Exception):
    """Base class of all rewardkit errors."""


class FieldError(RewardkitError):
    """An error about one named field, in one line: ``<field>: <problem>; expected <form>``."""

    def __init__(self, field: str, problem: str, expected: str | None = None):
        self.field = field
        self.problem = problem
        self.expected = expected
        msg = f"{field}: {problem}"
        if expected:
            msg += f"; expected {expected}"
        super().__init__(msg)


class ConfigError(FieldError, ValueError):
    """A declarative reward or experiment config is malformed.

    The message is one line: ``<field path>: <problem>; expected <form>``.

    Example:
        >>> from rewardkit.core.errors import ConfigError
        >>> str(ConfigError("terms[0].weight", "got 'abc'", "a number"))
        "terms[0].weight: got 'abc'; expected a number"
    """


class DuplicateNameError(ConfigError):
    """A name is registered twice (a term type, potential, environment or learner).

    Example:
        >>> from rewardkit.core.errors import DuplicateNameError
        >>> str(DuplicateNameError("term 'x'", "already registered", "a new name, or override=True"))
        "term 'x': already registered; expected a new name, or override=True"
    """


class LimitExceeded(ConfigError):
    """A document or input is over a size, depth, node or alias budget (see :mod:`rewardkit.core.safe_load`).

    A :class:`ConfigError`, so callers that already handle bad configs handle it too;
    verifiers of model output catch it to give the sample its fail value.

    Example:
        >>> from rewardkit.core.errors import LimitExceeded
        >>> str(LimitExceeded("out.yaml", "more than 1000 YAML aliases", "fewer aliases"))
        'out.yaml: more than 1000 YAML aliases; expected fewer aliases'
    """


class OutputError(FieldError):
    """An output folder cannot be used: locked by another writer, or a path that would leave it.

    Example:
        >>> from rewardkit.core.errors import OutputError
        >>> str(OutputError("runs/x", "locked by another rewardkit run (pid 7)", "a different --out"))
        'runs/x: locked by another rewardkit run (pid 7); expected a different --out'
    """


class BatchError(FieldError, ValueError):
    """A batch handed to a reward term is missing a column or has the wrong shape.

    Example:
        >>> from rewardkit.core.errors import BatchError
        >>> str(BatchError("columns.answer", "missing", "a list with one entry per sample"))
        'columns.answer: missing; expected a list with one entry per sample'
    """
