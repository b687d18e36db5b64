"""Registered term types of the math verifiers (``type:`` names in reward configs).

Example:
    >>> from rewardkit.core import build_reward, SampleBatch
    >>> r = build_reward({"terms": [{"type": "gsm8k", "params": {"method": "flexible"}}]})
    >>> r(SampleBatch(["q", "q"], ["so 72", "no idea"], {"answer": ["#### 72", "#### 72"]})).tolist()
    [1.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence

from rewardkit.core import register_term
from rewardkit.verify.result import VerifierTerm

from .choice import MultipleChoiceVerifier
from .extract import ExtractConfig
from .gsm8k import GSM8KVerifier
from .qa import QAVerifier
from .verifier import MathVerifier

__all__ = ["gsm8k", "math_answer", "multiple_choice", "qa_match"]


@register_term("math_answer", batch_kind="sample")
def math_answer(answer_column: str = "answer",
                rules: Sequence[str] = ("answer_tag", "boxed", "answer_line", "hash", "bare", "last_math", "last_number"),
                multiple: str = "reject", boxed: str | None = None, tail_chars: int | None = None,
                latest_anchor: bool = True, symbolic: bool = True, workers: int = 1,
                deadline: float = 1.0, float_rounding: int = 6, correct: float = 1.0, incorrect: float = 0.0,
                name: str = "math_answer",
                form: str = "value", tolerance: float | None = None, sig_figs: int | None = None,
                locale: str = "en", precision: str = "exact") -> VerifierTerm:
    """Math final-answer correctness (extraction + exact fast path + math-verify); ``multiple`` is the
    answer policy for several stated answers (``boxed`` its old alias); ``form``, ``tolerance``,
    ``sig_figs``, ``locale``, ``precision``: see ``CompareOptions``."""
    extract = ExtractConfig(rules=tuple(rules), multiple=multiple, boxed=boxed, tail_chars=tail_chars,
                            latest_anchor=latest_anchor)
    v = MathVerifier(answer_column, extract, symbolic=symbolic,
                     workers=workers, deadline=deadline, float_rounding=float_rounding,
                     correct=correct, incorrect=incorrect,
                     form=form, tolerance=tolerance, sig_figs=sig_figs, locale=locale, precision=precision)
    return VerifierTerm(v, name)


@register_term("gsm8k", batch_kind="sample")
def gsm8k(method: str = "strict", answer_column: str = "answer", score: float = 1.0, format_score: float = 0.0,
          numeric: bool = False, tail_chars: int | None = None, multiple: str = "reject",
          name: str = "gsm8k") -> VerifierTerm:
    """GSM8K '####' answer (strict) or last number (flexible) vs the gold."""
    return VerifierTerm(GSM8KVerifier(method, answer_column, score, format_score, numeric, tail_chars, multiple),
                        name)


@register_term("qa_match", batch_kind="sample")
def qa_match(mode: str = "exact_match", answer_column: str = "answer", require_tags: bool = True,
             tag_spam_limit: int = 10, tag_spam_factor: float = 0.25, multiple: str = "reject",
             name: str = "qa_match") -> VerifierTerm:
    """Short-answer QA exact match / sub-match with SQuAD normalisation (numbers kept whole)."""
    return VerifierTerm(QAVerifier(mode, answer_column, require_tags, tag_spam_limit, tag_spam_factor, multiple),
                        name)


@register_term("multiple_choice", batch_kind="sample")
def multiple_choice(letters: str = "ABCDEFGHIJ", answer_column: str = "answer", multiple: str = "reject",
                    name: str = "multiple_choice") -> VerifierTerm:
    """Multiple-choice option letter vs the gold letter (or 0-based index)."""
    return VerifierTerm(MultipleChoiceVerifier(letters, answer_column, multiple), name)
