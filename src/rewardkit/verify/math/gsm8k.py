"""GSM8K answer extraction and scoring, strict and flexible.

Cobbe et al. (2021), "Training Verifiers to Solve Math Word Problems": reference
solutions end with ``#### <number>``.  Two extraction filters are standard
(lm-evaluation-harness ``gsm8k`` task; verl ``gsm8k.compute_score``):

* **strict** – the number after ``#### `` (regex ``#### (-?[0-9.,]+)``); a response
  without the marker scores nothing;
* **flexible** – the last number anywhere in the response.

Both strip ``,`` and ``$`` and a trailing ``.``, then compare **as strings** with the
gold (lm-eval's ``exact_match`` with ``regexes_to_ignore=[",", "\\$", "\\.$"]``).
``numeric=True`` compares the numbers instead (``72.0`` = ``72``).

Several ``####`` lines with different numbers are a shotgun under the one answer policy
(:mod:`rewardkit.verify.answers`): ``multiple="reject"`` (default) extracts nothing and the
verifier reports ``error="multiple_answers"``; ``"last"`` / ``"first"`` take one of them
(``"last"`` is the behaviour before issue #18).  Repeating the same number is fine (with
``numeric=True``, ``72`` and ``72.0`` are the same number).  The flexible filter's last number
is a fallback, not a statement, so the policy does not apply to it.

.. math::

    r = \\begin{cases} s & \\hat a = a^* \\\\
                       f & \\hat a \\ne \\varnothing,\\ \\hat a \\ne a^* \\\\
                       0 & \\hat a = \\varnothing \\end{cases}

with ``score`` *s* = 1 and ``format_score`` *f* = 0 (verl's defaults).

Example:
    >>> extract_gsm8k("3 + 4 = 7 so #### 7."), extract_gsm8k("it is 1,000 dollars", "flexible")
    ('7', '1000')
    >>> GSM8KVerifier().verify("#### 72", answer="Natalia sold 48/2 = 24 ... #### 72").value
    1.0
    >>> r = GSM8KVerifier().verify("#### 71\\n#### 72", answer="72"); (r.value, r.error)
    (0.0, 'multiple_answers')
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from rewardkit.core.errors import ConfigError
from rewardkit.verify.answers import MULTIPLE_ANSWERS, check_policy, resolve_answers
from rewardkit.verify.result import Verifier, VerifyResult

__all__ = ["GSM8KVerifier", "extract_gsm8k", "gsm8k_answers"]

#: the ``multiple`` policies GSM8K accepts (its gold is one number, so no list answers)
GSM8K_POLICIES = ("reject", "last", "first")

_STRICT_RE = re.compile(r"#### (\-?[0-9\.\,]+)")
_FLEX_RE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")


def _clean(s: str) -> str:
    s = s.replace(",", "").replace("$", "").strip()
    s = re.sub(r"\.+$", "", s)
    return s


def gsm8k_answers(text: str, method: str = "strict", tail_chars: int | None = None) -> list[str]:
    """Every answer of ``text`` by the ``"strict"`` filter (each ``####`` number, in order) or
    the ``"flexible"`` one (only the last number), cleaned.

    Example:
        >>> gsm8k_answers("#### 7\\n... #### 1,007."), gsm8k_answers("12 then 7", "flexible")
        (['7', '1007'], ['7'])
    """
    if method not in ("strict", "flexible"):
        raise ConfigError("method", f"got {method!r}", "'strict' or 'flexible'")
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if tail_chars is not None:
        text = text[-tail_chars:]
    if method == "strict":
        cands = [_clean(m) for m in _STRICT_RE.findall(text)]
    else:
        cands = [_clean(a or b) for a, b in _FLEX_RE.findall(text)]
    cands = [c for c in cands if c not in ("", ".", "-") and re.search(r"\d", c)]
    return cands if method == "strict" else cands[-1:]


def _number_key(s: str) -> str:
    n = _as_number(s)
    return s if n is None else str(n)


def extract_gsm8k(text: str, method: str = "strict", tail_chars: int | None = None,
                  multiple: str = "reject", numeric: bool = False) -> str | None:
    """The GSM8K answer of ``text`` by the ``"strict"`` or ``"flexible"`` filter, or None
    (also for several different ``####`` numbers under ``multiple="reject"``; ``numeric``
    compares them as numbers)."""
    check_policy(multiple, allowed=GSM8K_POLICIES)
    return resolve_answers(gsm8k_answers(text, method, tail_chars), multiple,
                           key=_number_key if numeric else str.strip).answer


def _gold(gold: Any) -> str | None:
    if gold is None:
        return None
    s = str(gold)
    if "####" in s:
        s = s.rsplit("####", 1)[1]
    s = _clean(s)
    return s or None


def _as_number(s: str) -> Fraction | None:
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


class GSM8KVerifier(Verifier):
    """GSM8K reward (strict ``####`` or flexible last-number extraction).

    Args:
        method: ``"strict"`` or ``"flexible"``.
        answer_column: column with the gold (a bare number or a full GSM8K solution).
        score, format_score: reward when right / when an answer was found but wrong.
        numeric: compare numerically instead of as strings.
        tail_chars: only read the last ``tail_chars`` characters (verl uses 300).
        multiple: several different ``####`` numbers: ``"reject"`` (``multiple_answers``),
            ``"last"`` or ``"first"`` (module docstring).
    """

    name = "gsm8k"

    def __init__(self, method: str = "strict", answer_column: str = "answer", score: float = 1.0,
                 format_score: float = 0.0, numeric: bool = False, tail_chars: int | None = None,
                 multiple: str = "reject"):
        if method not in ("strict", "flexible"):
            raise ConfigError("method", f"got {method!r}", "'strict' or 'flexible'")
        self.multiple = check_policy(multiple, allowed=GSM8K_POLICIES)
        self.method = method
        self.answer_column = answer_column
        self.reference_columns = (answer_column,)
        self.score = float(score)
        self.format_score = float(format_score)
        self.numeric = bool(numeric)
        self.tail_chars = tail_chars

    def verify(self, completion: str, **references: Any) -> VerifyResult:
        gold = _gold(references.get(self.answer_column, references.get("answer")))
        res = resolve_answers(gsm8k_answers(completion, self.method, self.tail_chars), self.multiple,
                              key=_number_key if self.numeric else str.strip)
        pred = res.answer
        info: dict[str, Any] = {"method": self.method}
        if gold is None:
            return VerifyResult(0.0, {"correct": 0.0}, pred, "missing_reference", info=info)
        if res.error is not None:
            info["answers"] = res.distinct
            return VerifyResult(0.0, {"correct": 0.0}, res.distinct, MULTIPLE_ANSWERS, info=info)
        if pred is None:
            return VerifyResult(0.0, {"correct": 0.0}, None, "no_answer", info=info)
        if self.numeric:
            a, b = _as_number(pred), _as_number(gold)
            ok = a is not None and b is not None and a == b
        else:
            ok = pred == gold
        return VerifyResult(self.score if ok else self.format_score, {"correct": float(ok)}, pred, info=info)
