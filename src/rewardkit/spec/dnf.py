"""A safe parser for propositional formulas in disjunctive normal form (DNF).

Reward-machine edges are labelled with DNF formulas over *events* (propositions
that are true at a step), e.g. ``"f&!n | e&!n"``.  The reference implementation
of reward machines reads them with ``eval``; this module parses them with a tiny
grammar instead, so a spec file can never run code::

    formula  := clause ("|" clause)*
    clause   := literal ("&" literal)*
    literal  := "!"* atom
    atom     := "True" | "False" | NAME          NAME := [A-Za-z_][A-Za-z0-9_]*

A formula holds for a set of true events :math:`E` iff some clause has every
positive literal in :math:`E` and no negated literal in :math:`E`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Iterable

from rewardkit.core.errors import ConfigError

__all__ = ["DNF", "as_events", "parse_dnf"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class DNF:
    """A parsed DNF formula: a tuple of clauses, each ``(positives, negatives)``.

    Example:
        >>> f = parse_dnf("f&!n | e&!n")
        >>> f.holds({"f"}), f.holds({"f", "n"}), f.holds(set())
        (True, False, False)
    """

    clauses: tuple[tuple[frozenset[str], frozenset[str]], ...]
    text: str = ""

    def holds(self, events: Iterable[str]) -> bool:
        ev = events if isinstance(events, (set, frozenset)) else set(events)
        for pos, neg in self.clauses:
            if pos <= ev and not (neg & ev):
                return True
        return False

    @property
    def propositions(self) -> frozenset[str]:
        out: set[str] = set()
        for pos, neg in self.clauses:
            out |= pos | neg
        return frozenset(out)

    def __str__(self) -> str:
        return self.text


def parse_dnf(text: str, field: str = "formula") -> DNF:
    """Parse ``text`` into a :class:`DNF`; a :class:`ConfigError` names the bad token.

    Example:
        >>> parse_dnf("True").holds(set()), parse_dnf("!a&!b").holds({"c"})
        (True, True)
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(field, f"got {text!r}", "a DNF formula such as 'a&!b|c'")
    clauses = []
    for ci, raw_clause in enumerate(text.split("|")):
        pos: set[str] = set()
        neg: set[str] = set()
        always_false = False
        for raw_lit in raw_clause.split("&"):
            lit = raw_lit.strip()
            negated = False
            while lit.startswith("!"):
                negated = not negated
                lit = lit[1:].strip()
            if not lit or not _NAME.match(lit):
                raise ConfigError(field, f"bad literal {raw_lit.strip()!r} in clause {ci} of {text!r}",
                                  "literals like 'a' or '!a' joined by '&' and '|'")
            if lit == "True":
                always_false |= negated
            elif lit == "False":
                always_false |= not negated
            else:
                (neg if negated else pos).add(lit)
        if not always_false and not (pos & neg):
            clauses.append((frozenset(pos), frozenset(neg)))
    return DNF(tuple(clauses), text.strip())


def as_events(events: Iterable[str] | str | None, single_char: bool = True) -> frozenset[str]:
    """Normalise a labelling-function output to a set of event names.

    A string is read as one event per character when ``single_char`` (the Office/Craft
    worlds' convention, e.g. ``"fn"``), else as one event name.

    Example:
        >>> sorted(as_events("fe")), sorted(as_events(["coffee"]))
        (['e', 'f'], ['coffee'])
    """
    if events is None:
        return frozenset()
    if isinstance(events, str):
        return frozenset(events) if single_char else frozenset([events])
    return frozenset(events)
