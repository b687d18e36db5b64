"""Multiple-choice answers: extract the chosen option letter.

Used for MMLU/GPQA-style RLVR (Hendrycks et al., 2021, "Measuring Massive Multitask
Language Understanding"; Rein et al., 2023, "GPQA").  Patterns, in priority order
(the last occurrence of the highest-priority pattern wins):

1. ``<answer>B</answer>``;  2. ``\\boxed{B}`` / ``\\boxed{\\text{(B)}}`` and "answer is (B)",
"Answer: B" (not "the answer is not B");  3. "option B";  4. a line that is only ``B``,
``(B)``, ``B.`` or ``**B**``;  5. the last parenthesised letter ``(B)``.

Tiers 1 and 2 are answer *statements*: several different letters there are a shotgun under
the one answer policy (:mod:`rewardkit.verify.answers`; ``multiple="reject"``, the default,
gives ``error="multiple_answers"``; ``"last"``/``"first"`` take one).  Tiers 3–5 are fallbacks
for text that discusses options; their last match wins.

A bare capital in running prose ("A cat ...") is never taken, so answer-less text and
master-key strings extract nothing.

.. math:: r = [\\hat c = c^*]

Example:
    >>> extract_choice("Let me think. The answer is (C).")
    'C'
    >>> extract_choice("A good start is to compute.") is None
    True
    >>> MultipleChoiceVerifier().verify("\\\\boxed{B}", answer=1).value   # index 1 = B
    1.0
    >>> MultipleChoiceVerifier().verify("Answer: A. Answer: B", answer="B").error
    'multiple_answers'

"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from rewardkit.core.errors import ConfigError
from rewardkit.verify.answers import check_policy, resolve_answers
from rewardkit.verify.budget import DEFAULT_BUDGETS
from rewardkit.verify.result import Verifier, VerifyResult

__all__ = ["CHOICE_POLICIES", "MultipleChoiceVerifier", "choice_answers", "extract_choice"]

#: the ``multiple`` policies multiple choice accepts (one gold letter, so no list answers)
CHOICE_POLICIES = ("reject", "last", "first")


@lru_cache(maxsize=32)
def _patterns(letters: str) -> list[re.Pattern]:
    L = f"[{re.escape(letters)}]"
    # no two adjacent optional whitespace runs: keeps matching linear on adversarial input; \uff1a: CJK fullwidth colon
    return [
        re.compile(rf"<answer>[ \t]*\(?({L})\)?[^<]{{0,40}}</answer>", re.IGNORECASE),
        re.compile(rf"\\boxed\s*\{{(?:\\text(?:bf)?\{{)?\(?({L})\)?\}}?\}}"),
        # an answer statement; "the answer is not (A)" states nothing
        re.compile(rf"answer(?:[ \t]+is(?![ \t]+not\b)|[ \t]*[:\uff1a=])?[ \t]*(?:\*+[ \t]*)?\(?({L})\)?(?![A-Za-z])",
                   re.IGNORECASE),
        re.compile(rf"(?:option|choice)(?:[ \t]+is|[ \t]*[:\uff1a=])?[ \t]*(?:\*+[ \t]*)?\(?({L})\)?(?![A-Za-z])",
                   re.IGNORECASE),
        re.compile(rf"(?m)^[ \t]*(?:\*+)?\(?({L})[).:]?(?:\*+)?[ \t]*$"),
        re.compile(rf"\(({L})\)"),
    ]


#: pattern tiers: the answers of one tier are pooled; tiers 0 and 1 are statements (the one
#: answer policy applies), the later ones are fallbacks whose last match wins
_TIERS = ((0,), (1, 2), (3,), (4,), (5,))


def _letter(text: str, m: re.Match) -> str | None:
    """The letter of a match; a lower-case letter counts only in brackets (``(b)``), so that
    "the answer is a bit longer" names no option."""
    c = m.group(1)
    if c.islower() and not (m.start(1) > 0 and text[m.start(1) - 1] == "(" and text[m.end(1):m.end(1) + 1] == ")"):
        return None
    return c.upper()


def choice_answers(text: str, letters: str = "ABCDEFGHIJ") -> tuple[list[str], bool]:
    """``(letters chosen by the first tier that matches, in text order; whether that tier is an
    answer statement)``.  Tiers: ``<answer>`` tags; boxes and "answer is/:" statements; "option
    B"/"choice B"; a line that is only a letter; ``(B)``.

    Example:
        >>> choice_answers("(A) is wrong. The answer is B. Answer: (C)")
        (['B', 'C'], True)
        >>> choice_answers("I like option A and then (C)")
        (['A'], False)
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    pats = _patterns(letters)
    for k, tier in enumerate(_TIERS):
        found = []
        for i in tier:
            for m in pats[i].finditer(text):
                c = _letter(text, m) if i >= 2 else m.group(1).upper()
                if c is not None:
                    found.append((m.start(), c))
        if found:
            found.sort()
            return [c for _, c in found], k <= 1
    return [], False


def _choose(text: str, letters: str, multiple: str) -> tuple[str | None, list[str], str | None]:
    found, statement = choice_answers(text, letters)
    if not statement:
        return (found[-1] if found else None), found[-1:], None
    res = resolve_answers(found, multiple)
    return res.answer, res.distinct, res.error


def extract_choice(text: str, letters: str = "ABCDEFGHIJ", multiple: str = "reject") -> str | None:
    """The option letter chosen in ``text`` (upper case) or None (also when it states several
    different letters under ``multiple="reject"``)."""
    check_policy(multiple, allowed=CHOICE_POLICIES)
    return _choose(text, letters, multiple)[0]


def _gold_letter(gold: Any, letters: str) -> str | None:
    if gold is None:
        return None
    if isinstance(gold, bool):
        return None
    if isinstance(gold, int):
        return letters[gold] if 0 <= gold < len(letters) else None
    s = str(gold).strip().strip("()").strip().upper()
    if s.isascii() and s.isdigit():  # "²".isdigit() is True but int("²") fails
        k = int(s)
        return letters[k] if 0 <= k < len(letters) else None
    return s if len(s) == 1 and s in letters else None


class MultipleChoiceVerifier(Verifier):
    """Multiple-choice reward: 1 when the extracted letter is the gold letter.

    Args:
        letters: the allowed option letters.
        answer_column: gold as a letter (``"B"``, ``"(B)"``) or a 0-based index.
        multiple: several different letters stated: ``"reject"``, ``"last"`` or ``"first"``.
    """

    name = "multiple_choice"

    def __init__(self, letters: str = "ABCDEFGHIJ", answer_column: str = "answer", multiple: str = "reject"):
        self.multiple = check_policy(multiple, allowed=CHOICE_POLICIES)
        if not letters or not letters.isalpha() or not letters.isupper():
            raise ConfigError("letters", f"got {letters!r}", "upper-case option letters such as 'ABCD'")
        self.letters = letters
        self.answer_column = answer_column
        self.reference_columns = (answer_column,)

    def verify(self, completion: str, **references: Any) -> VerifyResult:
        big = DEFAULT_BUDGETS["choice"].too_large(completion, 0.0, {"correct": 0.0})
        if big is not None:
            return big
        gold = _gold_letter(references.get(self.answer_column, references.get("answer")), self.letters)
        pred, distinct, err = _choose(completion, self.letters, self.multiple)
        if gold is None:
            return VerifyResult(0.0, {"correct": 0.0}, pred, "missing_reference")
        if err is not None:
            return VerifyResult(0.0, {"correct": 0.0}, distinct, err, info={"answers": distinct})
        if pred is None:
            return VerifyResult(0.0, {"correct": 0.0}, None, "no_answer")
        ok = pred == gold
        return VerifyResult(float(ok), {"correct": float(ok)}, pred)
