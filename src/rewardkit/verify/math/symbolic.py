"""The symbolic step: math-verify's ``parse`` + ``verify``, run inside a pool worker.

math-verify (Kydlíček et al., Hugging Face, 2025, "Math-Verify: a robust
mathematical expression evaluation system") parses LaTeX/plain answers into sympy
via latex2sympy2_extended and compares them (string, structural, numeric with
rounding, then ``simplify(a - b) == 0``; sets, intervals, matrices and relations
included).  Its own timeouts use ``signal.alarm``; here they are switched off
(``parsing_timeout=None, timeout_seconds=None``) because the caller's
:class:`~rewardkit.verify.math.pool.WorkerPool` enforces the deadline by killing the
worker process.

The gold answer of a GRPO group is parsed once per worker: :func:`verify_pair`
keeps an LRU cache of parsed golds keyed by the gold string.

A parse that throws away most of the answer is a failed parse, not a value: when
math-verify reads an answer that names variables as a bare number (it keeps ``1029`` of
``1421*y**5 - 1792*y**3 - 1029*y`` and ``0`` of ``0x1854``), :func:`verify_pair` reports
the answer as unparsed (:func:`dropped_tokens`).

Example:
    >>> verify_pair(("\\\\frac{1}{2}", "0.5"))
    (True, True, True)
    >>> verify_pair(("x^2+2x+1", "(x+1)^2"))[0]
    True
"""

from __future__ import annotations

import re
from typing import Any

from rewardkit.core.cache import LRUCache

__all__ = ["GOLD_CACHE_SIZE", "dropped_tokens", "parse_answer", "verify_pair", "warm_up"]

# a variable inside an arithmetic term (Python or LaTeX syntax: 3*x, x**2, x^2) or a 0x/0b/0o literal
_TERM_VARIABLE = re.compile(r"\d\s*\*\s*[a-zA-Z](?![a-zA-Z])|(?<![a-zA-Z\\])[a-zA-Z]\s*(?:\*\*|\^)"
                            r"|(?<![\w.])0[xXbBoO][0-9a-fA-F]+\b")
_RELATION_OR_PROSE = ("=", "<", ">", "\\le", "\\ge", "\\ne", "\\approx", "\\text")

GOLD_CACHE_SIZE = 4096
_gold_cache: LRUCache[str, list] = LRUCache(GOLD_CACHE_SIZE)
_configs: Any = None


def _extraction_configs() -> Any:
    global _configs
    if _configs is None:
        import logging

        # the pool enforces the deadline; math-verify's "timeout disabled" warning is expected
        logging.getLogger("math_verify").setLevel(logging.ERROR)
        from math_verify import ExprExtractionConfig, LatexExtractionConfig

        _configs = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    return _configs


def parse_answer(answer: str) -> list:
    """Parse an already-extracted answer string (wrapped in ``\\boxed{}``) with math-verify."""
    from math_verify import parse

    text = answer if "\\boxed" in answer else "\\boxed{" + answer + "}"
    return parse(text, extraction_config=_extraction_configs(), parsing_timeout=None)


def _gold(gold: str) -> list:
    return _gold_cache.get_or(gold, lambda: parse_answer(gold))


def dropped_tokens(answer: str, parsed: list) -> bool:
    """Whether math-verify's reading of ``answer`` kept a number but none of its variables.

    Example:
        >>> import sympy
        >>> dropped_tokens("1421*y**5 - 1792*y**3 - 1029*y", [sympy.Integer(1029), "..."])
        True
        >>> dropped_tokens("x = 5", [sympy.Integer(5), "..."]), dropped_tokens("125 miles", [sympy.Integer(125), "..."])
        (False, False)
    """
    if not parsed:
        return False
    value = parsed[0]
    free = getattr(value, "free_symbols", None)
    if free is None or free or not getattr(value, "is_number", False):
        return False
    if any(op in answer for op in _RELATION_OR_PROSE):
        return False  # relations and prose: math-verify reads the value they name on purpose
    return _TERM_VARIABLE.search(answer) is not None


def warm_up() -> None:
    """Import math-verify and sympy and run one symbolic comparison (about 1 s in a fresh
    interpreter).  The pool calls it in each new worker before the worker takes requests, so
    a request's deadline times only its own comparison.

    Example:
        >>> warm_up()
    """
    verify_pair(("\\frac{x}{x+1}", "1-\\frac{1}{x+1}"))
    _gold_cache.clear()


def verify_pair(req: tuple) -> tuple[bool, bool, bool]:
    """``(gold, pred[, float_rounding])`` → ``(equivalent, gold_parsed, pred_parsed)``.

    This is the pool worker's handler; it runs without any signal-based timeout.
    """
    from math_verify import verify

    _extraction_configs()
    gold, pred = req[0], req[1]
    rounding = int(req[2]) if len(req) > 2 else 6
    g = _gold(gold)
    if not g or dropped_tokens(gold, g):
        return False, False, bool(pred)
    p = parse_answer(pred)
    if not p or dropped_tokens(pred, p):
        return False, True, False
    ok = verify(g, p, float_rounding=rounding, timeout_seconds=None, raise_on_error=False)
    return bool(ok), True, True
