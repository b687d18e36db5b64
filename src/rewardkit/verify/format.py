"""Tag-grammar format reward: ``<think>…</think><answer>…</answer>`` with anti-spam tag counts.

Reference: DeepSeek-AI (Guo et al., 2025), *DeepSeek-R1: Incentivizing Reasoning Capability in
LLMs via Reinforcement Learning* – the rule-based "format reward" that asks the model to put
its reasoning between ``<think>`` tags and its answer between ``<answer>`` tags:

.. math::

    r_{fmt}(y) = \\mathbb{1}\\big[y \\in \\texttt{\\s* <think> T </think> \\s* <answer> A </answer> \\s*}
                 \\wedge \\#\\text{each tag}(y) = 1 \\wedge T, A \\neq \\emptyset\\big]

Requiring *exactly one* of each tag closes the tag-spam hack (several answer blocks, one of
which is right; cf. Search-R1's ">10 tags" rule and open-r1 issues #359/#418).  With
``prefilled_think=True`` the chat template already emitted ``<think>`` (DeepSeek-R1-distill,
Qwen3 thinking templates), so the completion must *not* contain an opening ``<think>`` and the
grammar starts inside the think block (TRL issue #6966).
"""

from __future__ import annotations

import re
from typing import Any

from rewardkit.core import ConfigError, register_term

from .budget import DEFAULT_BUDGETS, Budget
from .result import Verifier, VerifierTerm, VerifyResult
from .tags import count_tags, find_tag_blocks, fold_ascii, tag_content, valid_tag_name

__all__ = ["TagFormatVerifier", "extract_tag", "tag_counts"]


def tag_counts(text: str, tags: tuple[str, ...]) -> dict[str, int]:
    """Occurrences of ``<tag>`` and ``</tag>`` for each tag (ASCII case-insensitive, see
    :mod:`rewardkit.verify.tags`).

    Example:
        >>> tag_counts("<think>a</think><answer>1</answer><ANSWER>2</answer>", ("think", "answer"))
        {'<think>': 1, '</think>': 1, '<answer>': 2, '</answer>': 2}
    """
    return count_tags(text, tags)


def extract_tag(text: str, tag: str = "answer", last: bool = True) -> str | None:
    """Content of the last (or first) ``<tag>…</tag>`` block, stripped; ``None`` if absent
    (:func:`rewardkit.verify.tags.tag_content`, linear time).

    Example:
        >>> extract_tag("<answer> 4 </answer> <answer>5</answer>")
        '5'
        >>> extract_tag("no tags") is None
        True
    """
    if not isinstance(text, str):
        return None
    return tag_content(text, tag, "last" if last else "first")


_WS = re.compile(r"\s*")


def _skip_ws(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


class TagFormatVerifier(Verifier):
    """Binary format reward for a think/answer tag grammar.

    Args:
        think_tag, answer_tag: tag names (default ``think`` / ``answer``).
        prefilled_think: the prompt already opened ``<think>``; the completion must start inside it.
        require_think: if False, the think block is optional (answer-only outputs pass).
        require_nonempty: think and answer bodies must contain non-whitespace.
        allow_trailing_text: allow text after ``</answer>`` (default: only whitespace).
        budget: the per-sample :class:`~rewardkit.verify.budget.Budget` (default: 1,000,000 chars).

    Tags follow :mod:`rewardkit.verify.tags` (ASCII case-insensitive names, no attributes).
    ``components``: ``tag_counts_ok`` (exactly one of each tag), ``grammar_ok`` (order and nothing
    outside the tags), ``nonempty_ok``; ``value`` is 1 only when all hold.  ``extracted`` is
    the answer body.  Errors: ``tag_spam``, ``missing_tag``, ``bad_grammar``, ``empty_block``,
    ``too_large``.  Linear time in the completion length.

    Example:
        >>> v = TagFormatVerifier()
        >>> v.verify("<think>2+2=4</think>\\n<answer>4</answer>").value
        1.0
        >>> v.verify("<think>x</think><answer>4</answer><answer>5</answer>").error
        'tag_spam'
        >>> TagFormatVerifier(prefilled_think=True).verify("2+2=4</think><answer>4</answer>").value
        1.0
    """

    name = "think_answer_format"

    def __init__(self, think_tag: str = "think", answer_tag: str = "answer", prefilled_think: bool = False,
                 require_think: bool = True, require_nonempty: bool = True, allow_trailing_text: bool = False,
                 budget: Budget | None = None):
        for field, tag in (("think_tag", think_tag), ("answer_tag", answer_tag)):
            if not valid_tag_name(tag):
                raise ConfigError(field, f"got {tag!r}", "a tag name such as 'think' (letters, digits, _ . : -)")
        if fold_ascii(think_tag) == fold_ascii(answer_tag):
            raise ConfigError("answer_tag", "equals think_tag", "two different tag names")
        self.think_tag, self.answer_tag = fold_ascii(think_tag), fold_ascii(answer_tag)
        self.prefilled_think = bool(prefilled_think)
        self.require_think = bool(require_think) or self.prefilled_think
        self.require_nonempty = bool(require_nonempty)
        self.allow_trailing_text = bool(allow_trailing_text)
        self.budget = budget or DEFAULT_BUDGETS["format"]

    def _grammar(self, text: str, low: str) -> tuple[bool, str | None, str | None]:
        """``(grammar_ok, think_body, answer_body)`` by one left-to-right walk: optional
        whitespace, the think block, whitespace, the answer block, then whitespace (or
        anything with ``allow_trailing_text``).  Each tag ends at its first closing tag,
        except that without trailing text the answer runs to the final ``</answer>``."""
        ot, ct, oa, ca = (f"<{self.think_tag}>", f"</{self.think_tag}>", f"<{self.answer_tag}>",
                          f"</{self.answer_tag}>")
        think = None
        pos = 0
        if self.prefilled_think:
            c = low.find(ct)
            if c < 0:
                return False, None, None
            think, pos = text[:c], c + len(ct)
        else:
            s = _skip_ws(text, 0)
            if low.startswith(ot, s):
                c = low.find(ct, s + len(ot))
                if c < 0:
                    return False, None, None
                think, pos = text[s + len(ot):c], c + len(ct)
            elif self.require_think:
                return False, None, None
        a = _skip_ws(text, pos)
        if not low.startswith(oa, a):
            return False, think, None
        a += len(oa)
        if self.allow_trailing_text:
            c = low.find(ca, a)
        else:
            e = len(text.rstrip())
            c = e - len(ca) if e - len(ca) >= a and low.startswith(ca, e - len(ca)) else -1
        if c < 0:
            return False, think, None
        return True, think, text[a:c]

    def verify(self, completion: str, **_: Any) -> VerifyResult:
        text = completion or ""
        big = self.budget.too_large(text, 0.0, {"tag_counts_ok": 0.0, "grammar_ok": 0.0, "nonempty_ok": 0.0})
        if big is not None:
            return big
        low = fold_ascii(text)
        counts = count_tags(text, (self.think_tag, self.answer_tag), folded=low)
        ot, ct = f"<{self.think_tag}>", f"</{self.think_tag}>"
        oa, ca = f"<{self.answer_tag}>", f"</{self.answer_tag}>"
        expected = {oa: 1, ca: 1}
        if self.prefilled_think:
            expected.update({ot: 0, ct: 1})
        elif self.require_think or counts[ot] or counts[ct]:
            expected.update({ot: 1, ct: 1})
        else:
            expected.update({ot: 0, ct: 0})
        counts_ok = all(counts[k] == v for k, v in expected.items())
        grammar_ok, think_body, answer_body = self._grammar(text, low)
        if grammar_ok:
            answer = (answer_body or "").strip()
        else:
            blocks = find_tag_blocks(text, self.answer_tag, folded=low)
            answer = blocks[-1].content(text).strip() if blocks else None
        nonempty_ok = True
        if grammar_ok and self.require_nonempty:
            nonempty_ok = bool(answer) and (think_body is None or bool(think_body.strip()))
        comps = {"tag_counts_ok": float(counts_ok), "grammar_ok": float(grammar_ok), "nonempty_ok": float(nonempty_ok)}
        error = None
        if not counts_ok:
            error = "tag_spam" if any(counts[k] > v for k, v in expected.items()) else "missing_tag"
        elif not grammar_ok:
            error = "bad_grammar"
        elif not nonempty_ok:
            error = "empty_block"
        value = float(counts_ok and grammar_ok and nonempty_ok)
        return VerifyResult(value, comps, answer, error=error, info={"tag_counts": counts})


@register_term("think_answer_format", batch_kind="sample")
def think_answer_format(think_tag: str = "think", answer_tag: str = "answer", prefilled_think: bool = False,
                        require_think: bool = True, require_nonempty: bool = True,
                        allow_trailing_text: bool = False, name: str = "think_answer_format") -> VerifierTerm:
    """1 if the completion is exactly ``<think>…</think><answer>…</answer>`` (one of each tag), else 0."""
    return TagFormatVerifier(think_tag, answer_tag, prefilled_think, require_think, require_nonempty,
                             allow_trailing_text).as_term(name)
