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

Numbers keep their sign and decimal point (issue #19, family 11): SQuAD's punctuation
removal would make ``-71.08``, ``71.08`` and ``7108`` one string.  :func:`normalize_squad`
writes every number in one canonical form first (``−71.080`` -> ``-71.08``, ``1,000`` ->
``1000``, ``.5`` -> ``0.5``, ``+3`` -> ``3``, ``2.0i`` -> ``2i``), as its own token, and keeps
``+``/``-`` operators as tokens (a hyphen inside a word is still dropped), so a list compares
element by element (``1, 2, 3`` = ``1 2 3`` ≠ ``12, 3``), ``-71.08`` ≠ ``71.08``,
``3 - 2i`` ≠ ``3 + 2i`` and ``-0x3eb2`` ≠ ``0x3eb2``.

Anti-hacking: several ``<answer>`` blocks with different (normalised) content are a shotgun
under the one answer policy (:mod:`rewardkit.verify.answers`; ``multiple="reject"`` gives 0
and ``error="multiple_answers"``; ``"last"`` is Search-R1's last tag, ``"list"`` joins them
for list answers); a response with more than ``tag_spam_limit`` answer tags has its
reward multiplied by ``tag_spam_factor`` (Search-R1-style), and an empty prediction
never sub-matches.

Example:
    >>> normalize_squad("The  Eiffel Tower!"), normalize_squad("It is −71.080, not 1,000.")
    ('eiffel tower', 'it is -71.08 not 1000')
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

from rewardkit.core.cache import LRUCache
from rewardkit.core.errors import ConfigError
from rewardkit.verify.answers import MULTIPLE_ANSWERS, check_policy, resolve_answers
from rewardkit.verify.budget import DEFAULT_BUDGETS
from rewardkit.verify.result import Verifier, VerifyResult
from rewardkit.verify.tags import count_tags, tag_answers

__all__ = ["QAVerifier", "exact_match", "extract_tagged", "normalize_squad", "sub_match", "token_f1"]

_ARTICLES = re.compile(r"\b(a|an|the)\b")


# a number that is a word of its own: optional sign (ASCII or U+2212), thousands groups or
# digits, optional decimals (or a bare ".5"); not inside a word ("x2", "v1.2"); letters may
# follow ("2.0i", "5th", "0x3eb2")
_NUMBER = re.compile(r"(?<![\w.])([-+\u2212]?)(?:(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?|(\.\d+))(?![\d_]|\.\d)")


def _canonical_number(m: re.Match, glued: bool) -> str:
    """The number of ``m`` in canonical form; ``glued``: letters follow (``-0x3eb2``, ``2.0i``),
    so its sign belongs to that token even when the number is 0."""
    sign, whole, frac, bare = m.group(1), m.group(2), m.group(3), m.group(4)
    whole = (whole or "0").replace(",", "").lstrip("0") or "0"
    frac = (frac or bare or "").rstrip("0")
    frac = "" if frac == "." else frac
    neg = sign in ("-", "\u2212") and (whole != "0" or bool(frac) or glued)
    return f" {'-' if neg else ''}{whole}{frac}"


_DROP_PUNCT = str.maketrans("", "", string.punctuation)
_OPERATOR = re.compile(r"[-+\u2212]")


def _strip_punct(s: str, start: int, end: int) -> str:
    """``s[start:end]`` without punctuation, except ``+``/``-`` operators, kept as tokens
    (``3 - 2i`` ≠ ``3 + 2i``); a hyphen inside a word is dropped (``well-known``)."""
    parts, pos = [], start
    for m in _OPERATOR.finditer(s, start, end):
        i = m.start()
        parts.append(s[pos:i].translate(_DROP_PUNCT))
        if not (0 < i < len(s) - 1 and s[i - 1].isalpha() and s[i + 1].isalpha()):
            parts.append(" + " if m.group() == "+" else " - ")
        pos = i + 1
    parts.append(s[pos:end].translate(_DROP_PUNCT))
    return "".join(parts)


def normalize_squad(s: Any) -> str:
    """SQuAD answer normalisation (lower, drop punctuation and articles, fix spaces), with
    numbers kept whole: sign, decimal point and value survive (module docstring), and
    ``+``/``-`` operators stay tokens.  Linear.

    Example:
        >>> normalize_squad("-71.08") == normalize_squad("71.08"), normalize_squad("1,2,3")
        (False, '1 2 3')
        >>> normalize_squad("3.0 - 2.0i"), normalize_squad("-0x3EB2"), normalize_squad("well-known")
        ('3 - 2i', '-0x3eb2', 'wellknown')
    """
    s = "" if s is None else str(s)
    s = s.lower()
    parts, pos = [], 0
    for m in _NUMBER.finditer(s):
        parts.append(_strip_punct(s, pos, m.start()))
        glued = s[m.end():m.end() + 1].isalpha()  # 2.0i -> 2i, 5th stays a word
        parts.append(_canonical_number(m, glued))
        if not glued:
            parts.append(" ")
        pos = m.end()
    parts.append(_strip_punct(s, pos, len(s)))
    s = _ARTICLES.sub(" ", "".join(parts))
    return " ".join(s.split())


def _golds(gold: Any) -> list[str]:
    if isinstance(gold, dict):
        gold = gold.get("target", gold.get("answers", gold.get("answer")))
    if gold is None:
        return []
    if isinstance(gold, (str, bytes, int, float)):
        gold = [gold]
    return [n for n in (_gold_norm(g) for g in gold) if n]


#: normalised gold aliases: a prompt's golds come back with every completion of its group
_GOLD_NORMS: LRUCache[str, str] = LRUCache(8192)


def _gold_norm(g: Any) -> str:
    return _GOLD_NORMS.get_or(g, lambda: normalize_squad(g)) if isinstance(g, str) else normalize_squad(g)


def exact_match(pred: str, golds: Any) -> bool:
    """True when the normalised prediction equals a normalised gold."""
    return _em(normalize_squad(pred), _golds(golds))


def sub_match(pred: str, golds: Any) -> bool:
    """True when a normalised gold occurs (as whole words) in the normalised prediction."""
    return _sub(normalize_squad(pred), _golds(golds))


def token_f1(pred: str, golds: Any) -> float:
    """SQuAD token-level F1, maximised over golds."""
    return _f1(normalize_squad(pred), _golds(golds))


def _em(p: str, golds: list[str]) -> bool:
    return bool(p) and p in golds


def _sub(p: str, golds: list[str]) -> bool:
    # normalised texts are words joined by single spaces: a whole-word occurrence is a substring
    # test on space-padded strings (no per-gold regex)
    padded = f" {p} "
    return bool(p) and any(f" {g} " in padded for g in golds)


def _f1(p: str, golds: list[str]) -> float:
    pt = Counter(p.split())
    n = sum(pt.values())
    best = 0.0
    for g in golds:
        gt = Counter(g.split())
        common = sum((pt & gt).values())
        if common:
            prec, rec = common / n, common / sum(gt.values())
            best = max(best, 2 * prec * rec / (prec + rec))
    return best


def extract_tagged(text: str, multiple: str = "reject") -> tuple[str | None, int]:
    """``(the answer of the <answer> tags or None, number of answer tags)``: the body the
    blocks agree on, resolved by ``multiple`` (:mod:`rewardkit.verify.answers`; ``"last"`` is
    Search-R1's last tag; ``None`` for different bodies under ``"reject"``).

    Example:
        >>> extract_tagged("<answer>Paris</answer> <answer> paris. </answer>")
        ('Paris', 4)
        >>> t = "<answer>Rome</answer> <answer>Paris</answer>"
        >>> extract_tagged(t), extract_tagged(t, "last")
        ((None, 4), ('Paris', 4))
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    n_tags = sum(count_tags(text, "answer").values())
    return resolve_answers(tag_answers(text, "answer"), multiple, key=normalize_squad).answer, n_tags


class QAVerifier(Verifier):
    """Short-answer QA reward by EM or sub-match (F1 reported as a component).

    Args:
        mode: ``"exact_match"`` or ``"sub_match"``.
        answer_column: golds (a string, a list, or ``{"target": [...]}`` as in verl).
        require_tags: only read the ``<answer>`` tags; if False and no tag exists,
            the whole completion is the prediction.
        multiple: several ``<answer>`` blocks with different content: ``"reject"`` (0,
            ``multiple_answers``), ``"list"`` (joined with ``", "``), ``"last"``, ``"first"``.
        tag_spam_limit, tag_spam_factor: penalty for more answer tags than the limit.
    """

    name = "qa_match"

    def __init__(self, mode: str = "exact_match", answer_column: str = "answer", require_tags: bool = True,
                 tag_spam_limit: int = 10, tag_spam_factor: float = 0.25, multiple: str = "reject"):
        if mode not in ("exact_match", "sub_match"):
            raise ConfigError("mode", f"got {mode!r}", "'exact_match' or 'sub_match'")
        self.mode = mode
        self.multiple = check_policy(multiple)
        self.answer_column = answer_column
        self.reference_columns = (answer_column,)
        self.require_tags = bool(require_tags)
        self.tag_spam_limit = int(tag_spam_limit)
        self.tag_spam_factor = float(tag_spam_factor)

    def verify(self, completion: str, **references: Any) -> VerifyResult:
        big = DEFAULT_BUDGETS["qa"].too_large(completion, 0.0, {"correct": 0.0})
        if big is not None:
            return big
        golds = _golds(references.get(self.answer_column, references.get("answer")))
        norms: dict[str, str] = {}  # each block is normalised once

        def key(s: str) -> str:
            if s not in norms:
                norms[s] = normalize_squad(s)
            return norms[s]

        res = resolve_answers(tag_answers(completion, "answer"), self.multiple, key=key)
        pred, n_tags = res.answer, sum(count_tags(completion, "answer").values())
        if pred is None and res.error is None and not self.require_tags:
            pred = completion.strip()
        if not golds:
            return VerifyResult(0.0, {"correct": 0.0}, pred, "missing_reference")
        if res.error is not None:
            return VerifyResult(0.0, {"correct": 0.0, "f1": 0.0}, res.distinct, MULTIPLE_ANSWERS,
                                info={"tags": n_tags, "answers": res.distinct})
        p = key(pred) if pred else ""
        if not p:
            return VerifyResult(0.0, {"correct": 0.0, "f1": 0.0}, pred, "no_answer", info={"tags": n_tags})
        ok = _em(p, golds) if self.mode == "exact_match" else _sub(p, golds)
        value = float(ok)
        spam = n_tags > self.tag_spam_limit
        if spam:
            value *= self.tag_spam_factor
        return VerifyResult(value, {"correct": float(ok), "f1": _f1(p, golds)}, pred,
                            info={"tags": n_tags, "tag_spam": spam, "mode": self.mode})
