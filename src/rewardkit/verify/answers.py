"""One answer policy for every extractor: what a response that states several final answers gets.

A response can state its final answer more than once: several ``<answer>`` blocks, several
``\\boxed{}``, several ``####`` lines, several "The answer is …" sentences, several chosen
option letters.  Reading only the last (or the first) one rewards a *shotgun*: a policy that
writes ``\\boxed{41} \\boxed{42}`` is right whenever one of its guesses is (issue #18, item 3).
Every extractor in :mod:`rewardkit.verify` therefore collects all the answers a response
states with one kind of statement and resolves them with one rule, :func:`resolve_answers`:

* repeated answers with the same content (compared by :func:`answer_key`: whitespace, ``$``
  and trailing ``.``/``,``/``;`` ignored) count once;
* one distinct answer: that answer;
* several distinct answers, by the ``multiple`` policy:

  - ``"reject"`` (default): a shotgun; no answer, ``error="multiple_answers"``
    (:data:`MULTIPLE_ANSWERS`).  The math verifier then accepts only when the answers
    together form a collection gold (``\\boxed{1}, \\boxed{2}, \\boxed{3}`` for ``{1,2,3}``) or
    every one of them equals the gold (``\\boxed{1/2} = \\boxed{0.5}``);
  - ``"list"``: the task declares a list answer; the answers joined with ``", "`` in order;
  - ``"last"`` / ``"first"``: the last / first one stated (the pre-#18 behaviour, e.g. the
    MATH "last box" convention or Search-R1's last ``<answer>``).

.. math::

    \\mathrm{answer}(a_1..a_k) = \\begin{cases} a_1 & |\\{\\kappa(a_i)\\}| = 1 \\\\
        \\varnothing,\\ \\texttt{multiple\\_answers} & \\text{otherwise, policy reject}
        \\end{cases}

Example:
    >>> resolve_answers(["42", " 42 ", "$42$"])
    Resolved(answer='42', distinct=['42'], error=None)
    >>> resolve_answers(["41", "42"])
    Resolved(answer=None, distinct=['41', '42'], error='multiple_answers')
    >>> resolve_answers(["1", "2", "3"], "list").answer, resolve_answers(["41", "42"], "last").answer
    ('1, 2, 3', '42')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from rewardkit.core.errors import ConfigError

__all__ = ["MULTIPLE_ANSWERS", "MULTIPLE_POLICIES", "Resolved", "answer_key", "check_policy", "distinct_answers",
           "resolve_answers"]

#: error type of a response that states several different final answers
MULTIPLE_ANSWERS = "multiple_answers"
#: the values of every extractor's ``multiple`` option
MULTIPLE_POLICIES = ("reject", "list", "last", "first")


def check_policy(multiple: object, field: str = "multiple",
                 allowed: Sequence[str] = MULTIPLE_POLICIES) -> str:
    """``multiple`` if it is one of ``allowed``, else a :class:`ConfigError` naming ``field``.

    Example:
        >>> check_policy("list")
        'list'
    """
    if multiple not in allowed:
        raise ConfigError(field, f"got {multiple!r}", " or ".join(repr(p) for p in allowed))
    return str(multiple)


def answer_key(s: str) -> str:
    """The content of an answer for "same answer" tests: no whitespace, no ``$``, no trailing
    ``.``/``,``/``;`` (linear).

    Example:
        >>> answer_key(" $x = 1$. "), answer_key("\\\\frac{1}{2}")
        ('x=1', '\\\\frac{1}{2}')
    """
    k = "".join(s.split()).replace("$", "")
    return k.rstrip(".,;")


def distinct_answers(answers: Sequence[str], key: Callable[[str], str] = answer_key) -> list[str]:
    """The answers with different keys, first spelling of each, in order; empty keys dropped.

    Example:
        >>> distinct_answers(["2", "3", " 2", ""])
        ['2', '3']
    """
    seen: dict[str, str] = {}
    for a in answers:
        k = key(a)
        if k and k not in seen:
            seen[k] = a
    return list(seen.values())


class Resolved(NamedTuple):
    """Outcome of :func:`resolve_answers`: the answer (or ``None``), the distinct answers
    stated, and ``"multiple_answers"`` when the policy rejected them."""

    answer: str | None
    distinct: list[str]
    error: str | None


def resolve_answers(answers: Sequence[str], multiple: str = "reject",
                    key: Callable[[str], str] = answer_key) -> Resolved:
    """Apply the ``multiple`` policy (module docstring) to the answers of one response, in
    the order they are stated.

    Example:
        >>> resolve_answers(["7", "9"], "first")
        Resolved(answer='7', distinct=['7', '9'], error=None)
        >>> resolve_answers([])
        Resolved(answer=None, distinct=[], error=None)
    """
    check_policy(multiple)
    distinct = distinct_answers(answers, key)
    if not distinct:
        return Resolved(None, distinct, None)
    if len(distinct) == 1:
        return Resolved(distinct[0], distinct, None)
    if multiple == "reject":
        return Resolved(None, distinct, MULTIPLE_ANSWERS)
    if multiple == "list":
        return Resolved(", ".join(a.strip() for a in distinct), distinct, None)
    stated = [a for a in answers if key(a)]
    return Resolved(stated[-1] if multiple == "last" else stated[0], distinct, None)
