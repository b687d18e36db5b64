"""Strict reading of a judge's reply: the verdict or score only from the final line.

A judge that quotes the response it grades can repeat an injected label ("the
response says 'Verdict: YES'").  A parser that follows the *last label it sees*, or
any label anywhere, is then steered by the graded text.  Here the reply is read in
one position only, the one the prompt asks for (:mod:`rewardkit.verify.judge.prompt`):

1. ``<think>...</think>`` is dropped; an unclosed ``<think>`` is all reasoning (``unclosed_think``).
2. The **final non-empty line**, stripped of markdown (``*``, backticks, ``#``, ``>``,
   bullets) and of trailing ``.``/``!``, must *be* the verdict: ``Verdict: YES``
   (labels verdict, judgement, decision, grade, answer, output, result, label,
   optionally ``final``/``overall``), ``\\boxed{YES}``, ``[[YES]]`` or a bare ``YES``
   (yes/no words in English, Chinese, Japanese, Spanish).  Anything else on that
   line makes the reply ``no_final_verdict``.
3. Every *other* explicit verdict in the reply (``Verdict: ...``, ``Judgement = ...``,
   ``Decision is ...``, ``\\boxed{...}``) must agree with the final one, else the reply
   is ``conflicting_verdicts``.

Scores (:func:`read_score`) follow the same rule: the final line is ``Score: N``,
``Rating: [[N]]``, ``Score: N/M``, ``[[N]]`` or a bare number (or the whole reply is a
JSON object with a numeric ``"score"``); another labelled score with a different
value makes the reply ``several_scores``; a number outside ``score_range`` (or a
fraction outside ``[0, 1]``) is ``score_out_of_range``.  A valid score :math:`s` on
:math:`[lo, hi]` maps to :math:`(s - lo) / (hi - lo)`, and ``N/M`` to
:math:`N / M`.

An unparsable reply gives a :class:`Reading` with ``value=None`` and the reason in
``error``; :class:`~rewardkit.verify.judge.LLMJudge` turns it into its
``fail_value`` with the error ``unparsable_verdict`` (the reason in
``info["parse_error"]``) and counts it in ``stats()["unparsable"]``.  All scans are
linear in the reply length.

Example:
    >>> parse_verdict("The response gives 4, as the reference does.\\nVerdict: YES")
    1.0
    >>> read_verdict("NO. The response contains 'Verdict: YES'")
    Reading(value=None, error='no_final_verdict')
    >>> read_verdict("It writes 'Verdict: YES', but 5 is not 4.\\nVerdict: NO")
    Reading(value=None, error='conflicting_verdicts')
    >>> parse_score("Score: 8", (0, 10)), read_score("Score: 2 ... Score: 10", (0, 10)).error
    (0.8, 'several_scores')
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["PARSE_ERRORS", "Reading", "parse_score", "parse_verdict", "read_score", "read_verdict"]

#: the reasons a reply is unparsable
PARSE_ERRORS = ("empty", "unclosed_think", "no_final_verdict", "conflicting_verdicts", "no_final_score",
                "several_scores", "score_out_of_range")


@dataclass(frozen=True)
class Reading:
    """A parsed judge reply: ``value`` in [0, 1], or ``None`` with the reason in ``error``."""

    value: float | None
    error: str | None = None


_YES = {"yes", "y", "correct", "true", "right", "accept", "accepted", "pass", "passed", "是", "是的", "对", "正确",
        "はい", "正解", "sí", "si"}
_NO = {"no", "n", "incorrect", "false", "wrong", "reject", "rejected", "fail", "failed", "否", "错", "错误",
       "不正确", "いいえ", "不正解"}
_SPACES = re.compile(r"[^\S\n]+")
_DECOR = re.compile(r"[*`]+")
_LEAD = re.compile(r"^(?:[#>•] ?|[\-+] )+")
_TRAIL = re.compile(r"[ .!\u3002]+$")

_W = r"([^\W\d_]+)"  # one word (any script)
_VERDICT_LABEL = (r"(?:(?:final|overall) )?(?:verdict|judge?ment|decision|grade|answer|output|result|label)"
                  r"(?: is)? ?[:=\-]? ?")
_OPEN, _CLOSE = r"[\[\(\"'{]{0,3} ?", r" ?[\]\)\"'}]{0,3}"
_BOXED = r"\\boxed\{ ?(?:\\text\{ ?)?" + _W + r" ?\}? ?\}"
_VERDICT_LINE = re.compile(r"(?:" + _VERDICT_LABEL + r")?(?:" + _BOXED + "|" + _OPEN + _W + _CLOSE + r")", re.I)
# explicit verdicts anywhere else in the reply (the conflict scan): strong labels and \boxed{}
_VERDICT_ANY = re.compile(r"\b(?:verdict|judge?ment|decision)(?: is)? ?[:=] ?[\[\(\"'{]{0,3} ?" + _W
                          + r"|" + _BOXED, re.I)

_NUM = r"(-?\d+(?:\.\d+)?)"
_SCORE_LABEL = r"(?:(?:final|overall|total) )?(?:score|rating|grade|mark)(?: is)? ?[:=]? ?"
_SCORE_LINE = re.compile(r"(?:" + _SCORE_LABEL + r")?[\[\(]{0,2} ?" + _NUM + r"(?: ?(?:/|out of) ?" + _NUM
                         + r")? ?[\]\)]{0,2}", re.I)
_SCORE_ANY = re.compile(r"\b(?:score|rating|grade)(?: is)? ?[:=] ?[\[\(]{0,2} ?" + _NUM + r"(?: ?/ ?" + _NUM + r")?"
                        + r"|\[\[ ?" + _NUM + r" ?\]\]", re.I)


def _word_value(w: str | None) -> float | None:
    if not w:
        return None
    w = w.lower()
    return 1.0 if w in _YES else 0.0 if w in _NO else None


def _body(text: Any) -> tuple[list[str], str | None]:
    """The reply's non-empty lines after the think block (whitespace collapsed), or an error."""
    if text is None:
        return [], "empty"
    t = unicodedata.normalize("NFKC", str(text))  # full-width colons, digits and brackets become ASCII
    low = t.lower()
    end = low.rfind("</think>")
    if end >= 0:
        t = t[end + len("</think>"):]
    elif "<think>" in low:
        return [], "unclosed_think"
    lines = [ln for ln in (_SPACES.sub(" ", x).strip() for x in t.splitlines()) if ln]
    return lines, (None if lines else "empty")


def _clean(line: str) -> str:
    line = _DECOR.sub("", line).strip()
    line = _LEAD.sub("", line).strip()
    return _TRAIL.sub("", line).strip()


def _line_verdict(line: str) -> float | None:
    m = _VERDICT_LINE.fullmatch(_clean(line))
    return None if m is None else _word_value(m.group(1) or m.group(2))


def read_verdict(text: Any) -> Reading:
    """Read a YES/NO reply strictly (see the module docstring): 1.0, 0.0 or an error.

    Example:
        >>> [read_verdict(t).value for t in ["YES", "**Verdict:** no.", "\\\\boxed{YES}", "Final answer: [[NO]]"]]
        [1.0, 0.0, 1.0, 0.0]
        >>> [read_verdict(t).error for t in ["Yes, because 4 = 4.", "<think>yes", "", "Verdict: YES\\nVerdict: NO"]]
        ['no_final_verdict', 'unclosed_think', 'empty', 'conflicting_verdicts']
    """
    lines, err = _body(text)
    if err:
        return Reading(None, err)
    value = _line_verdict(lines[-1])
    if value is None:
        return Reading(None, "no_final_verdict")
    for line in lines[:-1]:
        for m in _VERDICT_ANY.finditer(_DECOR.sub("", line)):
            other = _word_value(m.group(1) or m.group(2))
            if other is not None and other != value:
                return Reading(None, "conflicting_verdicts")
    return Reading(value)


def _scaled(num: str, den: str | None, lo: float, hi: float) -> float | None:
    """Map ``num`` (on [lo, hi]) or ``num/den`` (a fraction) to [0, 1]; ``None`` if out of range."""
    v = float(num)
    if den is not None:
        d = float(den)
        if d <= 0 or not 0.0 <= v <= d:
            return None
        return v / d
    if not min(lo, hi) - 1e-9 <= v <= max(lo, hi) + 1e-9:
        return None
    return min(1.0, max(0.0, (v - lo) / (hi - lo)))


def _json_score(lines: list[str], lo: float, hi: float) -> Reading | None:
    blob = "\n".join(lines)
    if not blob.startswith("{"):
        return None
    try:
        obj = json.loads(blob)
    except ValueError:
        return None
    s = obj.get("score") if isinstance(obj, Mapping) else None
    if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s):
        return Reading(None, "no_final_score")
    v = _scaled(repr(float(s)), None, lo, hi)
    return Reading(None, "score_out_of_range") if v is None else Reading(v)


def read_score(text: Any, score_range: Sequence[float] = (0.0, 1.0)) -> Reading:
    """Read a numeric grade strictly from the final line and map it to [0, 1].

    Example:
        >>> [read_score(t, (0, 10)).value for t in ["Score: 7", "Rating: [[9]]", "x\\n**Score: 3/4**", "6"]]
        [0.7, 0.9, 0.75, 0.6]
        >>> [read_score(t, (0, 10)).error for t in ["Score: 15", "I'd say 7 or so", "Score: 7\\nRating: 9"]]
        ['score_out_of_range', 'no_final_score', 'several_scores']
    """
    lo, hi = float(score_range[0]), float(score_range[1])
    if lo == hi:
        return Reading(None, "score_out_of_range")
    lines, err = _body(text)
    if err:
        return Reading(None, err)
    js = _json_score(lines, lo, hi)
    if js is not None:
        return js
    m = _SCORE_LINE.fullmatch(_clean(lines[-1]))
    if m is None:
        several = sum(1 for line in lines for _ in _SCORE_ANY.finditer(_DECOR.sub("", line))) > 1
        return Reading(None, "several_scores" if several else "no_final_score")
    value = _scaled(m.group(1), m.group(2), lo, hi)
    if value is None:
        return Reading(None, "score_out_of_range")
    for line in lines[:-1]:
        for o in _SCORE_ANY.finditer(_DECOR.sub("", line)):
            num, den = (o.group(1), o.group(2)) if o.group(1) is not None else (o.group(3), None)
            other = _scaled(num, den, lo, hi)
            if other is None or abs(other - value) > 1e-9:
                return Reading(None, "several_scores")
    return Reading(value)


def parse_verdict(text: Any) -> float | None:
    """1.0 (YES), 0.0 (NO) or ``None`` (unparsable): :func:`read_verdict`'s value.

    Example:
        >>> [parse_verdict(t) for t in ["yes", "NO.", "Verdict: **Yes**", "maybe", "No. It says 'Verdict: YES'"]]
        [1.0, 0.0, 1.0, None, None]
    """
    return read_verdict(text).value


def parse_score(text: Any, score_range: Sequence[float] = (0.0, 1.0)) -> float | None:
    """The score mapped to [0, 1], or ``None``: :func:`read_score`'s value.

    Example:
        >>> parse_score('{"score": 0.25}'), parse_score("Rating: [[9]]", (1, 10)), parse_score("n/a")
        (0.25, 0.8888888888888888, None)
    """
    return read_score(text, score_range).value
