"""Configurable final-answer extraction with a trace of which rule fired.

A math reward first has to find the *final answer* in a free-form completion.  The
conventions differ between datasets and frameworks:

* ``\\boxed{...}`` / ``\\fbox{...}`` – MATH (Hendrycks et al., 2021, "Measuring
  Mathematical Problem Solving With the MATH Dataset"); the last box is the answer.
* ``#### 42`` – GSM8K (Cobbe et al., 2021, "Training Verifiers to Solve Math Word
  Problems").
* ``Answer: ...`` – Minerva (Lewkowycz et al., 2022, "Solving Quantitative Reasoning
  Problems with Language Models") and DAPO's ``math_dapo`` scorer.
* ``<answer>...</answer>`` – R1-style templates (DeepSeek-AI, 2025, "DeepSeek-R1").
* the whole completion when it is a short non-prose string (the completion *is* the
  answer, e.g. ``-\\frac{10}{9}``);
* the last LaTeX math span (``$...$``, ``\\(...\\)``, ``\\[...\\]``) – what math-verify
  falls back to (Kydlíček et al., 2025, "Math-Verify");
* the last number in the text – the lenient fallback of lm-eval's flexible GSM8K filter.

:func:`extract_answer` tries the rules of an :class:`ExtractConfig` in order and
returns an :class:`Extraction` holding the answer string, the rule that fired, the
character span of the answer in the completion and a trace of every rule tried.
Extraction is linear-time regex/bracket scanning, never raises, and returns
``answer=None`` for answer-less text (the "master key" responses of Zhao et al., 2025,
"One Token to Fool LLM-as-a-Judge": ``" "``, ``":"``, ``"Thought process:"`` ...).

Example:
    >>> e = extract_answer("so x = 3, hence $\\\\boxed{\\\\frac{1}{2}}$.")
    >>> e.answer, e.rule
    ('\\\\frac{1}{2}', 'boxed')
    >>> extract_answer("Thought process:").answer is None
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from collections.abc import Sequence

from rewardkit.core.errors import ConfigError
from rewardkit.verify.tags import last_tag_block

__all__ = [
    "RULES",
    "ExtractConfig",
    "Extraction",
    "extract_answer",
    "find_boxed",
    "last_answer_tag",
    "last_math_span",
    "last_number",
]

#: every rule name :func:`extract_answer` knows
RULES = ("answer_tag", "boxed", "answer_line", "hash", "bare", "last_math", "last_number")

_BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*(\{)?")
_BRACE_RE = re.compile(r"\\[{}]|[{}]")  # escaped braces are skipped as one token
_ANSWER_LINE_RE = re.compile(  # \uff1a: the CJK fullwidth colon
    r"(?:final\s+answer|\banswer)\s*(?:(?:is|was|would\s+be|will\s+be)\s*[:\uff1a]?|[:\uff1a=])\s*(?P<ans>[^\n]*)",
    re.IGNORECASE)
_HASH_RE = re.compile(r"####\s*(?P<ans>[^\n]*)")
# integers with optional thousands separators, decimals, simple a/b fractions
_NUMBER_RE = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?(?![\d])|(?<![\w.])-?\.\d+")


@dataclass(frozen=True)
class ExtractConfig:
    """Which rules to try, in order, and how.

    Attributes:
        rules: rule names from :data:`RULES`, tried in order; the first that yields a
            non-empty answer wins.
        boxed: ``"last"`` (MATH convention), ``"first"``, or ``"all"`` (every box, joined
            with ``", "`` – several answers boxed separately, math-verify's default).
        latest_anchor: among adjacent anchored rules (``boxed``, ``answer_line``,
            ``hash``) take the answer that ends last in the text rather than the first
            rule that matches (a model that boxes an intermediate result and then states
            "Final answer: ..." is graded on the final statement).
        tail_chars: only look at the last ``tail_chars`` characters (verl's GSM8K
            scorer uses 300); ``None`` looks at everything.
        max_answer_chars: longer answers are cut (protects the symbolic step).

    Example:
        >>> ExtractConfig(rules=("hash", "last_number")).rules
        ('hash', 'last_number')
    """

    rules: Sequence[str] = ("answer_tag", "boxed", "answer_line", "hash", "bare", "last_math", "last_number")
    boxed: str = "last"
    latest_anchor: bool = True
    tail_chars: int | None = None
    max_answer_chars: int = 1000

    def __post_init__(self) -> None:
        rules = tuple(self.rules)
        object.__setattr__(self, "rules", rules)
        for i, r in enumerate(rules):
            if r not in RULES:
                raise ConfigError(f"rules[{i}]", f"unknown extraction rule {r!r}", f"one of {', '.join(RULES)}")
        if self.boxed not in ("last", "first", "all"):
            raise ConfigError("boxed", f"got {self.boxed!r}", "'last', 'first' or 'all'")
        if self.tail_chars is not None and (not isinstance(self.tail_chars, int) or self.tail_chars <= 0):
            raise ConfigError("tail_chars", f"got {self.tail_chars!r}", "a positive int or None")


@dataclass
class Extraction:
    """Result of :func:`extract_answer`.

    Attributes:
        answer: the extracted answer text, or ``None`` when no rule matched.
        rule: name of the rule that fired.
        span: ``(start, end)`` of the answer in the original completion.
        trace: one ``"rule: outcome"`` entry per rule tried, in order.
    """

    answer: str | None
    rule: str | None = None
    span: tuple[int, int] | None = None
    trace: list[str] = field(default_factory=list)


def find_boxed(text: str, which: str = "last") -> list[tuple[int, int]]:
    """Spans of the contents of ``\\boxed{...}`` / ``\\fbox{...}`` with nested braces.

    Unbalanced boxes (``"\\boxed{"`` at the end of a truncated output) are skipped.
    ``\\boxed 5`` (no braces) yields the next token.  Returns all spans in text order;
    ``which`` only matters to callers.  One pass over the braces (linear time, also on
    adversarial input such as thousands of unclosed boxes).

    Example:
        >>> t = "\\\\boxed{\\\\frac{1}{2}} and \\\\fbox{x^{2}}"
        >>> [t[a:b] for a, b in find_boxed(t)]
        ['\\\\frac{1}{2}', 'x^{2}']
    """
    openers: dict[int, int] = {}  # position of a box's "{" -> start of its content
    spans: list[tuple[int, int]] = []
    for m in _BOX_RE.finditer(text):
        if m.group(1) is not None:
            openers[m.end() - 1] = m.end()
        else:  # \boxed 5
            tok = re.match(r"[^\s$\\{]+", text[m.end():m.end() + 200])
            if tok:
                spans.append((m.end(), m.end() + tok.end()))
    if openers:
        stack: list[int] = []
        for m in _BRACE_RE.finditer(text):
            c = m.group()
            if c == "{":
                stack.append(m.start())
            elif c == "}" and stack:
                start = stack.pop()
                if start in openers:
                    spans.append((openers[start], m.start()))
    spans.sort()
    return spans


def last_number(text: str) -> tuple[int, int] | None:
    """Span of the last number (``-1,234.5``, ``3/4``, ``.5``) in ``text``, or None.

    Example:
        >>> t = "I have 3 apples and 1,250 pears."
        >>> a, b = last_number(t); t[a:b]
        '1,250'
    """
    last = None
    for m in _NUMBER_RE.finditer(text):
        last = m
    return (last.start(), last.end()) if last else None


def _clean_span(text: str, a: int, b: int) -> tuple[int, int]:
    """Trim whitespace, surrounding ``$``, and a trailing period/comma off a span."""
    while a < b and text[a] in " \t\r\n$":
        a += 1
    while b > a and text[b - 1] in " \t\r\n$.,;":
        b -= 1
    for lo, hi in (("\\(", "\\)"), ("\\[", "\\]")):
        if text.startswith(lo, a) and text.endswith(hi, a, b):
            a, b = _clean_span(text, a + 2, b - 2)
    return a, b


def extract_answer(completion: str, config: ExtractConfig | None = None) -> Extraction:
    """Extract the final answer of ``completion`` by the first rule that fires.

    Example:
        >>> extract_answer("... so she pays #### 1,200").answer
        '1,200'
        >>> e = extract_answer("<think>2+2</think><answer> 4 </answer>"); (e.answer, e.rule, e.span)
        ('4', 'answer_tag', (27, 28))
        >>> print(*extract_answer("\\\\boxed{}").trace, sep="\\n")
        answer_tag: no match
        boxed: empty
        answer_line: no match
        hash: no match
        bare: no match
        last_math: no match
        last_number: no match
    """
    cfg = config or _DEFAULT
    if not isinstance(completion, str):
        completion = "" if completion is None else str(completion)
    offset = 0
    text = completion
    if cfg.tail_chars is not None and len(text) > cfg.tail_chars:
        offset = len(text) - cfg.tail_chars
        text = text[offset:]
    trace: list[str] = []
    rules = list(cfg.rules)
    k = 0
    while k < len(rules):
        rule = rules[k]
        # consecutive "anchored" rules (boxed / answer_line / hash) form one group: the
        # answer stated *last* in the text wins ("Answer: 10 ... so \boxed{12}" -> 12)
        group = [rule]
        if cfg.latest_anchor and rule in _ANCHORED:
            while k + len(group) < len(rules) and rules[k + len(group)] in _ANCHORED:
                group.append(rules[k + len(group)])
        found = []
        for r in group:
            span, outcome, *joined = _RULE_FNS[r](text, cfg)
            trace.append(f"{r}: {outcome}")
            if span is not None:
                found.append((span[1], -len(found), r, span, joined))
        if found:
            _end, _order, r, (a, b), joined = max(found)
            answer = joined[0] if joined else text[a:b]
            return Extraction(answer[:cfg.max_answer_chars], r, (a + offset, b + offset), trace)
        k += len(group)
    return Extraction(None, None, None, trace)


def last_answer_tag(text: str) -> tuple[int, int] | None:
    """Span of the content of the last ``<answer>...</answer>`` block
    (:func:`rewardkit.verify.tags.last_tag_block`: ASCII case-insensitive, linear time).

    Example:
        >>> t = "<answer>1</answer> and <ANSWER> 2 </answer>"
        >>> a, b = last_answer_tag(t); t[a:b]
        ' 2 '
    """
    block = last_tag_block(text, "answer")
    return None if block is None else (block.content_start, block.content_end)


def _rule_answer_tag(text: str, cfg: ExtractConfig):
    span = last_answer_tag(text)
    if span is None:
        return None, "no match"
    a, b = span
    inner = text[a:b]
    boxes = find_boxed(inner)
    if boxes:  # <answer>\boxed{5}</answer>
        ba, bb = boxes[-1] if cfg.boxed == "last" else boxes[0]
        a, b = a + ba, a + bb
    a, b = _clean_span(text, a, b)
    return ((a, b), "matched") if b > a else (None, "empty")


def _rule_boxed(text: str, cfg: ExtractConfig):
    spans = find_boxed(text)
    if not spans:
        return None, ("unbalanced" if _BOX_RE.search(text) else "no match")
    if cfg.boxed == "all":
        parts = [(a, b) for a, b in (_clean_span(text, a, b) for a, b in spans) if b > a]
        if not parts:
            return None, "empty"
        outer = [p for p in parts if not any(q != p and q[0] <= p[0] and p[1] <= q[1] for q in parts)]
        joined = ", ".join(dict.fromkeys(text[a:b] for a, b in outer))  # unique, in order
        return (outer[0][0], outer[-1][1]), f"matched (all {len(outer)})", joined
    ordered = spans[::-1] if cfg.boxed == "last" else spans
    for a, b in ordered:
        a, b = _clean_span(text, a, b)
        if b > a:
            return (a, b), f"matched ({cfg.boxed} of {len(spans)})"
    return None, "empty"


_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")


def _is_prose(s: str) -> bool:
    """Two or more plain words of three or more letters (LaTeX commands excluded)."""
    return len(_WORD_RE.findall(s)) >= 2


def _rule_answer_line(text: str, cfg: ExtractConfig):
    last = None
    for m in _ANSWER_LINE_RE.finditer(text):
        a, b = _clean_span(text, *m.span("ans"))
        if b > a and "\\boxed" not in text[a:b] and "\\fbox" not in text[a:b]:
            last = (a, b)
    if not last:
        return None, "no match"
    a, b = last
    if _is_prose(text[a:b]):  # "Final Answer: The largest $n$ is 34." -> the last value in it
        cands = [c for c in (last_math_span(text[a:b]), last_number(text[a:b])) if c]
        inner = max(cands, key=lambda c: c[1]) if cands else None
        if inner is None:
            return None, "prose without a value"
        a, b = _clean_span(text, a + inner[0], a + inner[1])
        return ((a, b), "matched (value inside prose)") if b > a else (None, "empty")
    return (a, b), "matched"


_MATHY_RE = re.compile(r"\d|\\[A-Za-z]+|[=<>^]")


def _rule_bare(text: str, cfg: ExtractConfig):
    """The whole completion, when it is a short formula: no words of three or more
    letters, no line break, and a digit, a LaTeX command or a relation in it.  Lone
    words and punctuation ("Solution", ":") are not answers."""
    a, b = _clean_span(text, 0, len(text))
    s = text[a:b]
    if (b <= a or b - a > 80 or "\n" in s or _WORD_RE.search(s) or not _MATHY_RE.search(s)
            or "\\boxed" in s or "\\fbox" in s):
        return None, "no match"
    return (a, b), "matched"


def _rule_hash(text: str, cfg: ExtractConfig):
    last = None
    for m in _HASH_RE.finditer(text):
        a, b = _clean_span(text, *m.span("ans"))
        if b > a:
            last = (a, b)
    return (last, "matched") if last else (None, "no match")


_MATH_DELIM_RE = re.compile(r"(?<!\\)\$\$|(?<!\\)\$|\\\(|\\\)|\\\[|\\\]")  # "\$" is a dollar sign


def last_math_span(text: str) -> tuple[int, int] | None:
    """Content span of the last closed inline/display math (``$..$``, ``$$..$$``,
    ``\\(..\\)``, ``\\[..\\]``), found in one pass over the delimiters.

    Example:
        >>> t = "so $x$ and then $$x >= 5$$."
        >>> a, b = last_math_span(t); t[a:b]
        'x >= 5'
    """
    last = None
    open_tok, open_end = None, 0
    closers = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}
    for m in _MATH_DELIM_RE.finditer(text):
        tok = m.group()
        if open_tok is None:
            if tok in closers:
                open_tok, open_end = tok, m.end()
        elif tok == closers[open_tok]:
            if m.start() > open_end:
                last = (open_end, m.start())
            open_tok = None
    return last


def _rule_last_math(text: str, cfg: ExtractConfig):
    span = last_math_span(text)
    if span is None:
        return None, "no match"
    num = last_number(text)
    if num is not None and num[0] > span[1]:  # a value stated after the last formula is the answer
        return None, "a number follows"
    a, b = _clean_span(text, *span)
    return ((a, b), "matched") if b > a else (None, "empty")


def _rule_last_number(text: str, cfg: ExtractConfig):
    span = last_number(text)
    return (span, "matched") if span else (None, "no match")


_ANCHORED = frozenset({"boxed", "answer_line", "hash"})

_RULE_FNS = {
    "answer_tag": _rule_answer_tag,
    "boxed": _rule_boxed,
    "answer_line": _rule_answer_line,
    "hash": _rule_hash,
    "bare": _rule_bare,
    "last_math": _rule_last_math,
    "last_number": _rule_last_number,
}

_DEFAULT = ExtractConfig()
