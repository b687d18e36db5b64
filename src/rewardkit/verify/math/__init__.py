"""rewardkit.verify.math: rule-based rewards for math, GSM8K, short-answer QA and MCQ.

Importing this package registers the term types ``math_answer``, ``gsm8k``,
``qa_match`` and ``multiple_choice``.  See ``docs/verify-math.md``.
"""

from .choice import MultipleChoiceVerifier, extract_choice
from .equivalence import MathEquivalence, Verdict
from .exact import CompareOptions, exact_equal
from .extract import ExtractConfig, Extraction, extract_answer, find_boxed
from .gsm8k import GSM8KVerifier, extract_gsm8k
from .masterkeys import MASTER_KEYS, master_key_fpr
from .numeric import fast_equal, normalize_answer
from .pool import WorkerPool
from .qa import QAVerifier, exact_match, normalize_squad, sub_match, token_f1
from .verifier import MathVerifier, gold_answer
from . import terms  # noqa: F401  (registers the term types)

__all__ = [
    "MASTER_KEYS",
    "CompareOptions",
    "ExtractConfig",
    "Extraction",
    "GSM8KVerifier",
    "MathEquivalence",
    "MathVerifier",
    "MultipleChoiceVerifier",
    "QAVerifier",
    "Verdict",
    "WorkerPool",
    "exact_equal",
    "exact_match",
    "extract_answer",
    "extract_choice",
    "extract_gsm8k",
    "fast_equal",
    "find_boxed",
    "gold_answer",
    "master_key_fpr",
    "normalize_answer",
    "normalize_squad",
    "sub_match",
    "token_f1",
]
