"""Short-answer QA rewards: exact match and sub-match with SQuAD normalisation.

Rajpurkar et al. (2016), "SQuAD: 100,000+ Questions for Machine Comprehension of
Text": answers are compared after lower-casing, removing punctuation, the articles
*a/an/the* and extra whitespace.  Search-R1 (Jin et al., 2025, "Search-R1: Training
LLMs to Reason and Leverage Search Engines with Reinforcement Learning") scores the
**last** ``<answer>…</answer>`` of the response by exact match (EM) or sub-match
(a gold occurs inside the prediction) against a list of golds.

.. math::

    \\mathrm{EM} = \\max_{g \\in G} [\\nu(\\hat a) = \\nu(g)], \\qquad
    \\mathrm{subEM} = \\max_{g \\in G} [\\nu(g) \\sqsubseteq \\nu(\\hat a)], \\qquad
    F_1 = \\max_{g} \\frac{2PR}{P+R}\\ \\text{over normalised tokens}

Anti-hacking: a response with more than ``tag_spam_limit`` answer tags has its
reward multiplied by ``tag_spam_factor`` (Search-R1-style), and an empty prediction
never sub-matches.

Example:
    >>> normalize_squad("The  Eiffel Tower!")
    'eiffel tower'
    >>> QAVerifier().verify("<answer>the eiffel tower</answer>", answer=["Eiffel Tower"]).value
    1.0
    >>> QAVerifier(mode="sub_match").verify("<answer>It is the Eiffel Tower in Paris</answer>", answer="Eiffel Tower").value
    1.0
"""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import Any

from rewardkit.core.errors import ConfigError
from rewardkit.verify.budget import DEFAULT_BUDGETS
from rewardkit.verify.result import Verifier, VerifyResult

__all__ = ["QAVerifier", "exact_match", "extract_tagged", "normalize_squad", "sub_match", "token_f1"]

_PUNCT = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_squad(s: Any) -> str:
    """SQuAD answer normalisation: lower, drop punctuation and articles, fix spaces."""
    s = "" if s is None else str(s)
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def _golds(gold: Any) -> list[str]:
    if isinstance(gold, dict):
        gold = gold.get("target", gold.get("answers", gold.get("answer")))
    if gold is None:
        return []
    if isinstance(gold, (str, bytes, int, float)):
        gold = [gold]
    return [normalize_squad(g) for g in gold if normalize_squad(g)]


def exact_match(pred: str, golds: Any) -> bool:
    """True when the normalised prediction equals a normalised gold."""
    p = normalize_squad(pred)
    return bool(p) and p in _golds(golds)


def sub_match(pred: str, golds: Any) -> bool:
    """True when a normalised gold occurs (as whole words) in the normalised prediction."""
    p = normalize_squad(pred)
    return bool(p) and any(re.search(r"(?<!\S)" + re.escape(g) + r"(?!\S)", p) for g in _golds(golds))


def token_f1(pred: str, golds: Any) -> float:
    """SQuAD token-level F1, maximised over golds."""
    pt = normalize_squad(pred).split()
    best = 0.0
    for g in _golds(golds):
        gt = g.split()
        common = sum((Counter(pt) & Counter(gt)).values())
        if common:
            prec, rec = common / len(pt), common / len(gt)
            best = max(best, 2 * prec * rec / (prec + rec))
    return best


def extract_tagged(text: str) -> tuple[str | None, int]:
    """``(content of the last <answer> tag or None, number of answer tags)``."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    from rewardkit.verify.tags import count_tags

    from .extract import last_answer_tag

    n_tags = sum(count_tags(text, "answer").values())
    span = last_answer_tag(text)
    return (text[span[0]:span[1]].strip() if span else None), n_tags


class QAVerifier(Verifier):
    """Short-answer QA reward by EM or sub-match (F1 reported as a component).

    Args:
        mode: ``"exact_match"`` or ``"sub_match"``.
        answer_column: golds (a string, a list, or ``{"target": [...]}`` as in verl).
        require_tags: only read the last ``<answer>`` tag; if False and no tag exists,
            the whole completion is the prediction.
        tag_spam_limit, tag_spam_factor: penalty for more answer tags than the limit.
    """

    name = "qa_match"

    def __init__(self, mode: str = "exact_match", answer_column: str = "answer", require_tags: bool = True,
                 tag_spam_limit: int = 10, tag_spam_factor: float = 0.25):
        if mode not in ("exact_match", "sub_match"):
            raise ConfigError("mode", f"got {mode!r}", "'exact_match' or 'sub_match'")
        self.mode = mode
        self.answer_column = answer_column
        self.reference_columns = (answer_column,)
        self.require_tags = bool(require_tags)
        self.tag_spam_limit = int(tag_spam_limit)
        self.tag_spam_factor = float(tag_spam_factor)

    def verify(self, completion: str, **references: Any) -> VerifyResult:
        big = DEFAULT_BUDGETS["qa"].too_large(completion, 0.0, {"correct": 0.0})
        if big is not None:
            return big
        golds = references.get(self.answer_column, references.get("answer"))
        pred, n_tags = extract_tagged(completion)
        if pred is None and not self.require_tags:
            pred = completion.strip()
        if not _golds(golds):
            return VerifyResult(0.0, {"correct": 0.0}, pred, "missing_reference")
        if not pred or not normalize_squad(pred):
            return VerifyResult(0.0, {"correct": 0.0, "f1": 0.0}, pred, "no_answer", info={"tags": n_tags})
        ok = exact_match(pred, golds) if self.mode == "exact_match" else sub_match(pred, golds)
        value = float(ok)
        spam = n_tags > self.tag_spam_limit
        if spam:
            value *= self.tag_spam_factor
        return VerifyResult(value, {"correct": float(ok), "f1": token_f1(pred, golds)}, pred,
                            info={"tags": n_tags, "tag_spam": spam, "mode": self.mode})
