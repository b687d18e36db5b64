"""Multiple-choice answers: extract the chosen option letter.

Used for MMLU/GPQA-style RLVR (Hendrycks et al., 2021, "Measuring Massive Multitask
Language Understanding"; Rein et al., 2023, "GPQA").  Patterns, in priority order
(the last occurrence of the highest-priority pattern wins):

1. ``<answer>B</answer>``;  2. ``\\boxed{B}`` / ``\\boxed{\\text{(B)}}``;
3. "answer is (B)", "Answer: B", "option B";  4. a line that is only ``B``, ``(B)``,
``B.`` or ``**B**``;  5. the last parenthesised letter ``(B)``.

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
"""

from __future__ import annotations

import re
from typing import Any

from rewardkit.core.errors import ConfigError
from rewardkit.verify.budget import DEFAULT_BUDGETS
from rewardkit.verify.result import Verifier, VerifyResult

__all__ = ["MultipleChoiceVerifier", "extract_choice"]


def _patterns(letters: str) -> list[re.Pattern]:
    L = f"[{re.escape(letters)}]"
    # no two adjacent optional whitespace runs: keeps matching linear on adversarial input; \uff1a: CJK fullwidth colon
    return [
        re.compile(rf"<answer>[ \t]*\(?({L})\)?[^<]{{0,40}}</answer>", re.IGNORECASE),
        re.compile(rf"\\boxed\s*\{{(?:\\text(?:bf)?\{{)?\(?({L})\)?\}}?\}}"),
        re.compile(rf"(?:answer|option|choice)(?:[ \t]+is|[ \t]*[:\uff1a=])?[ \t]*(?:\*+[ \t]*)?\(?({L})\)?(?![A-Za-z])",
                   re.IGNORECASE),
        re.compile(rf"(?m)^[ \t]*(?:\*+)?\(?({L})[).:]?(?:\*+)?[ \t]*$"),
        re.compile(rf"\(({L})\)"),
    ]


def extract_choice(text: str, letters: str = "ABCDEFGHIJ") -> str | None:
    """The option letter chosen in ``text`` (upper case) or None."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    for pat in _patterns(letters):
        ms = pat.findall(text)
        if ms:
            return ms[-1].upper()
    return None


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
    """

    name = "multiple_choice"

    def __init__(self, letters: str = "ABCDEFGHIJ", answer_column: str = "answer"):
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
        pred = extract_choice(completion, self.letters)
        if gold is None:
            return VerifyResult(0.0, {"correct": 0.0}, pred, "missing_reference")
        if pred is None:
            return VerifyResult(0.0, {"correct": 0.0}, None, "no_answer")
        ok = pred == gold
        return VerifyResult(float(ok), {"correct": float(ok)}, pred)
