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
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from rewardkit.core.errors import ConfigError
from rewardkit.verify.result import Verifier, VerifyResult

__all__ = ["GSM8KVerifier", "extract_gsm8k"]

_STRICT_RE = re.compile(r"#### (\-?[0-9\.\,]+)")
_FLEX_RE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")


def _clean(s: str) -> str:
    s = s.replace(",", "").replace("$", "").strip()
    s = re.sub(r"\.+$", "", s)
    return s


def extract_gsm8k(text: str, method: str = "strict", tail_chars: int | None = None) -> str | None:
    """The GSM8K answer of ``text`` by the ``"strict"`` or ``"flexible"`` filter, or None."""
    if method not in ("strict", "flexible"):
        raise ConfigError("method", f"got {method!r}", "'strict' or 'flexible'")
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if tail_chars is not None:
        text = text[-tail_chars:]
    if method == "strict":
        ms = _STRICT_RE.findall(text)
        cands = [_clean(m) for m in ms]
    else:
        cands = [_clean(a or b) for a, b in _FLEX_RE.findall(text)]
    cands = [c for c in cands if c not in ("", ".", "-") and re.search(r"\d", c)]
    return cands[-1] if cands else None


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
    """

    name = "gsm8k"

    def __init__(self, method: str = "strict", answer_column: str = "answer", score: float = 1.0,
                 format_score: float = 0.0, numeric: bool = False, tail_chars: int | None = None):
        if method not in ("strict", "flexible"):
            raise ConfigError("method", f"got {method!r}", "'strict' or 'flexible'")
        self.method = method
        self.answer_column = answer_column
        self.reference_columns = (answer_column,)
        self.score = float(score)
        self.format_score = float(format_score)
        self.numeric = bool(numeric)
        self.tail_chars = tail_chars

    def verify(self, completion: str, **references: Any) -> VerifyResult:
        gold = _gold(references.get(self.answer_column, references.get("answer")))
        pred = extract_gsm8k(completion, self.method, self.tail_chars)
        info = {"method": self.method}
        if gold is None:
            return VerifyResult(0.0, {"correct": 0.0}, pred, "missing_reference", info=info)
        if pred is None:
            return VerifyResult(0.0, {"correct": 0.0}, None, "no_answer", info=info)
        if self.numeric:
            a, b = _as_number(pred), _as_number(gold)
            ok = a is not None and b is not None and a == b
        else:
            ok = pred == gold
        return VerifyResult(self.score if ok else self.format_score, {"correct": float(ok)}, pred, info=info)
