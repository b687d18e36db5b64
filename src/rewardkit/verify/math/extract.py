"""Configurable final-answer extraction with a trace of which rule fired.

A math reward first has to find the *final answer* in a free-form completion.  The
conventions differ between datasets and frameworks:

* ``\\boxed{...}`` / ``\\fbox{...}`` – MATH (Hendrycks et al., 2021, "Measuring
  Mathematical Problem Solving With the MATH Dataset").
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
The anchored rules (answer tags, boxes, answer sentences, ``####``) collect *every* answer
the completion states; several different ones are resolved by the one answer policy of
:mod:`rewardkit.verify.answers` (default: a shotgun, ``error="multiple_answers"``).
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
from rewardkit.verify.answers import MULTIPLE_ANSWERS, check_policy, resolve_answers
from rewardkit.verify.tags import find_tag_blocks, fold_ascii, last_tag_block

__all__ = [
    "RULES",
    "ExtractConfig",
    "Extraction",
    "extract_answer",
    "find_boxed",
    "first_math_span",
    "last_answer_tag",
    "last_math_span",
    "last_number",
    "looks_like_solution",
    "outer_boxes",
]

#: every rule name :func:`extract_answer` knows
RULES = ("answer_tag", "boxed", "answer_line", "hash", "bare", "last_math", "last_number")

_BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*(\{)?")
_BRACE_RE = re.compile(r"\\[{}]|[{}]")  # escaped braces are skipped as one token
# an answer anchor: "answer:", "The final answer is", "answer =" ...; a negated one ("the answer
# is not", "isn't") is matched too, so that it ends the previous answer sentence, but states nothing
_ANSWER_ANCHOR_RE = re.compile(  # \uff1a: the CJK fullwidth colon
    r"(?:final\s+answer|\banswer)\s*(?:(?:is|was|would\s+be|will\s+be)(?P<neg>n't|\s+not\b)?\s*[:\uff1a]?|[:\uff1a=])",
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
        multiple: what several *different* answers stated by the anchored rules get (the
            one answer policy, :mod:`rewardkit.verify.answers`): ``"reject"`` (default; a
            shotgun: ``answer=None``, ``error="multiple_answers"``, the distinct answers in
            ``answers``), ``"list"`` (the task declares a list answer: joined with ``", "``),
            ``"last"`` / ``"first"`` (the answer stated last / first; ``"last"`` is the MATH
            "last box" convention and the behaviour before issue #18).
        boxed: deprecated alias kept for configs written before ``multiple``: ``"last"``,
            ``"first"`` or ``"all"`` set ``multiple`` to ``"last"``, ``"first"`` or ``"list"``.
        latest_anchor: consecutive anchored rules (``boxed``, ``answer_line``, ``hash``) form
            one group whose answers are pooled (and, under ``multiple="last"``, the answer that
            ends last in the text wins: "Answer: 10 ... so \\boxed{12}" -> 12); when the
            group's last statement is a *final* one (a "final answer" sentence, a box inside
            one, or ``####``), only the final statements count ("\\boxed{200} ... \\boxed{255}
            ... Final Answer: 455" -> 455: the boxes were intermediate results); ``False``
            tries each rule on its own.
        tail_chars: only look at the last ``tail_chars`` characters (verl's GSM8K
            scorer uses 300); ``None`` looks at everything.
        max_answer_chars: longer answers are cut (the verifier then refuses them with
            ``parse_limit``: a prefix is never compared).

    Example:
        >>> ExtractConfig(rules=("hash", "last_number")).rules
        ('hash', 'last_number')
        >>> ExtractConfig(boxed="all").multiple
        'list'
    """

    rules: Sequence[str] = ("answer_tag", "boxed", "answer_line", "hash", "bare", "last_math", "last_number")
    multiple: str = "reject"
    boxed: str | None = None
    latest_anchor: bool = True
    tail_chars: int | None = None
    max_answer_chars: int = 1000

    def __post_init__(self) -> None:
        rules = tuple(self.rules)
        object.__setattr__(self, "rules", rules)
        for i, r in enumerate(rules):
            if r not in RULES:
                raise ConfigError(f"rules[{i}]", f"unknown extraction rule {r!r}", f"one of {', '.join(RULES)}")
        check_policy(self.multiple)
        if self.boxed is not None:
            if self.boxed not in _BOXED_ALIAS:
                raise ConfigError("boxed", f"got {self.boxed!r}", "'last', 'first' or 'all' (or None)")
            object.__setattr__(self, "multiple", _BOXED_ALIAS[self.boxed])
        if self.tail_chars is not None and (not isinstance(self.tail_chars, int) or self.tail_chars <= 0):
            raise ConfigError("tail_chars", f"got {self.tail_chars!r}", "a positive int or None")


_BOXED_ALIAS = {"last": "last", "first": "first", "all": "list"}


@dataclass
class Extraction:
    """Result of :func:`extract_answer`.

    Attributes:
        answer: the extracted answer text, or ``None`` when no rule matched (or the
            completion states several different answers under ``multiple="reject"``).
        rule: name of the rule that fired.
        span: ``(start, end)`` of the answer in the original completion (of all the
            answers, when several).
        trace: one ``"rule: outcome"`` entry per rule tried, in order.
        answers: the distinct answers the winning rule(s) found, in text order (one entry
            for a single answer; several when the completion states several).
        error: ``"multiple_answers"`` when the policy rejected several answers, else None.
    """

    answer: str | None
    rule: str | None = None
    span: tuple[int, int] | None = None
    trace: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    error: str | None = None


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


def outer_boxes(text: str) -> list[tuple[int, int]]:
    """Content spans of the outermost boxes (:func:`find_boxed`), each unwrapped while its
    content is one more box (``\\boxed{\\boxed{3}}`` -> ``3``), in text order.  Linear after
    :func:`find_boxed` (spans are sorted by start, so containment is one sweep).

    Example:
        >>> t = "\\\\boxed{1}, \\\\boxed{\\\\boxed{2}} and \\\\boxed{x_{\\\\fbox{3}}}"
        >>> [t[a:b] for a, b in outer_boxes(t)]
        ['1', '2', 'x_{\\\\fbox{3}}']
    """
    spans = find_boxed(text)
    out: list[tuple[int, int]] = []
    first_inner = False  # the next span inside out[-1] is its first one (checked once: linear)
    for a, b in spans:
        if out and a < out[-1][1] and b <= out[-1][1]:
            if first_inner:
                first_inner = False
                oa, ob = out[-1]
                ca, cb = _clean_span(text, oa, ob)  # the outer box holds nothing but this one
                m = _BOX_RE.match(text, ca)
                if m is not None and not text[m.end():a].strip(" \t\r\n{") and not text[b:cb].strip(" \t\r\n}"):
                    out[-1] = (a, b)
                    first_inner = True  # \boxed{\boxed{\boxed{3}}}
            continue
        out.append((a, b))
        first_inner = True
    return out


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


#: a candidate answer: (start, end, strong).  A weak candidate is a value picked out of an
#: answer *sentence*; it only counts when no strong statement (box, tag, ``####``, an answer
#: line that is just a value) exists in its group.
_Cand = tuple[int, int, bool]


def extract_answer(completion: str, config: ExtractConfig | None = None) -> Extraction:
    """Extract the final answer of ``completion`` by the first rule that fires, resolving
    several stated answers by ``config.multiple`` (:class:`ExtractConfig`).

    Example:
        >>> extract_answer("... so she pays #### 1,200").answer
        '1,200'
        >>> e = extract_answer("<think>2+2</think><answer> 4 </answer>"); (e.answer, e.rule, e.span)
        ('4', 'answer_tag', (27, 28))
        >>> e = extract_answer("\\\\boxed{41} or maybe \\\\boxed{42}"); (e.answer, e.error, e.answers)
        (None, 'multiple_answers', ['41', '42'])
        >>> extract_answer("The answer is not $7$. The answer is $9$.").answer
        '9'
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
        group = [rule]
        if cfg.latest_anchor and rule in _ANCHORED:
            while k + len(group) < len(rules) and rules[k + len(group)] in _ANCHORED:
                group.append(rules[k + len(group)])
        found: list[tuple[int, int, bool, int, str]] = []  # (start, end, strong, rule order, rule)
        for order, r in enumerate(group):
            cands, outcome = _RULE_FNS[r](text, cfg)
            trace.append(f"{r}: {outcome}")
            found += [(a, b, strong, order, r) for a, b, strong in cands]
        if found:
            return _resolve(text, offset, found, cfg, trace)
        k += len(group)
    return Extraction(None, None, None, trace)


def _resolve(text: str, offset: int, found: list[tuple[int, int, bool, int, str]], cfg: ExtractConfig,
             trace: list[str]) -> Extraction:
    """One answer out of the candidates of the winning group, by the ``multiple`` policy."""
    cut = cfg.max_answer_chars
    if cfg.multiple == "last":  # the answer that ends last; on a tie the earlier rule
        a, b, _s, _o, r = max(found, key=lambda c: (c[1], -c[3]))
        return Extraction(text[a:b][:cut], r, (a + offset, b + offset), trace, [text[a:b][:cut]])
    if cfg.multiple == "first":
        a, b, _s, _o, r = min(found, key=lambda c: (c[0], c[3]))
        return Extraction(text[a:b][:cut], r, (a + offset, b + offset), trace, [text[a:b][:cut]])
    strong = [c for c in found if c[2]]
    cands = sorted(strong or found)
    if len(cands) > 1 and _is_final(text, max(cands, key=lambda c: c[1])):
        # the completion ends on a *final* answer statement ("Final Answer: …", "The final
        # answer is \boxed{…}", "####"): earlier boxes were intermediate results
        cands = [c for c in cands if _is_final(text, c)]
    res = resolve_answers([text[a:b] for a, b, *_ in cands], cfg.multiple)
    distinct = [d[:cut] for d in res.distinct]
    if len(res.distinct) == 1:  # the same answer, maybe stated several times: the last statement
        a, b, _s, _o, r = max(cands, key=lambda c: (c[1], -c[3]))
        return Extraction(text[a:b][:cut], r, (a + offset, b + offset), trace, distinct)
    span = (cands[0][0] + offset, max(c[1] for c in cands) + offset)
    rule = cands[-1][4]
    if res.error is not None:
        trace.append(f"{rule}: {len(res.distinct)} different answers ({cfg.multiple})")
        return Extraction(None, rule, span, trace, distinct, MULTIPLE_ANSWERS)
    assert res.answer is not None
    return Extraction(res.answer[:cut], rule, span, trace, distinct)


_FINAL_RE = re.compile(r"final\s+(?:answer|result)", re.IGNORECASE)


def _is_final(text: str, cand: tuple[int, int, bool, int, str]) -> bool:
    """A ``####`` answer, or one stated in a "final answer" sentence: the anchor precedes it on
    its line, within 120 characters (a bounded look-back)."""
    if cand[4] == "hash":
        return True
    start = cand[0]
    lo = max(0, start - 120)
    nl = text.rfind("\n", lo, start)
    return _FINAL_RE.search(text, nl + 1 if nl >= 0 else lo, start) is not None


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


def _rule_answer_tag(text: str, cfg: ExtractConfig) -> tuple[list[_Cand], str]:
    blocks = find_tag_blocks(text, "answer")
    if not blocks:
        return [], "no match"
    out: list[_Cand] = []
    for blk in blocks:
        inner = text[blk.content_start:blk.content_end]
        boxes = outer_boxes(inner) if "\\boxed" in inner or "\\fbox" in inner else []
        spans = [(blk.content_start + a, blk.content_start + b) for a, b in boxes] or \
            [(blk.content_start, blk.content_end)]  # <answer>\boxed{5}</answer> -> 5
        for a, b in spans:
            a, b = _clean_span(text, a, b)
            if b > a:
                out.append((a, b, True))
    return (out, f"matched ({len(out)})") if out else ([], "empty")


def _rule_boxed(text: str, cfg: ExtractConfig) -> tuple[list[_Cand], str]:
    spans = outer_boxes(text)
    if not spans:
        return [], ("unbalanced" if _BOX_RE.search(text) else "no match")
    out: list[_Cand] = []
    for a, b in spans:
        a, b = _clean_span(text, a, b)
        if b > a:
            out.append((a, b, True))
    return (out, f"matched ({len(out)} of {len(spans)})") if out else ([], "empty")


_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")
#: words that are notation, not prose (plain-text and Python spellings of functions and
#: constants, and the connective of a list of answers)
_MATH_WORDS = frozenset(
    "sqrt cbrt root sin cos tan cot sec csc arcsin arccos arctan asin acos atan sinh cosh tanh log exp abs "
    "inf infty infinity mod gcd lcm max min floor ceil det and "
    "matrix pmatrix bmatrix vmatrix smallmatrix array cases aligned".split())


def _words(s: str) -> list[str]:
    return [w for w in _WORD_RE.findall(s) if w.lower() not in _MATH_WORDS]


def _is_prose(s: str) -> bool:
    """Two or more plain words of three or more letters (LaTeX commands and notation words
    such as ``sqrt`` excluded)."""
    return len(_words(s)) >= 2


_SENTENCE_END_RE = re.compile(r"\.\s+(?=[A-Z])")
_MATH_OPEN_RE = re.compile(r"\$|\\\(|\\\[")


def _answer_sentence(text: str, a: int, b: int) -> _Cand | None:
    """The answer stated in ``text[a:b]``, the rest of an answer sentence after its anchor:
    a math span that opens it (``$B$. Indeed $x$ ...`` -> ``B``), else its first sentence
    when that is a value, else the last value inside that sentence (weak)."""
    while a < b and text[a] in " \t\r\n":
        a += 1
    if _MATH_OPEN_RE.match(text, a):
        span = first_math_span(text, a, b)
        if span is not None and span[0] - a <= 2:
            ca, cb = _clean_span(text, *span)
            return (ca, cb, True) if cb > ca else None
    m = _SENTENCE_END_RE.search(text, a, b)
    end = m.start() if m else b
    seg = text[a:end]
    if not _is_prose(seg):
        ca, cb = _clean_span(text, a, end)
        return (ca, cb, True) if cb > ca else None
    # "Final Answer: The largest $n$ is 34." -> the last value in the sentence, found on the
    # untrimmed sentence so that "$" delimiters keep their pairing
    cands = [c for c in (last_math_span(seg), last_number(seg)) if c]
    if not cands:
        return None
    ia, ib = max(cands, key=lambda c: c[1])
    ca, cb = _clean_span(text, a + ia, a + ib)
    return (ca, cb, False) if cb > ca else None


_CONNECTIVES = frozenset("so the and thus hence therefore that which my final indeed i.e. e.g. or".split())


def _trim_connectives(text: str, a: int, b: int) -> int:
    """End of ``text[a:b]`` without trailing punctuation and connective words ("; so the"):
    the words that lead into the next answer sentence (linear: each step drops characters)."""
    while b > a:
        while b > a and text[b - 1] in " \t\r.,;:!":
            b -= 1
        w = b
        while w > a and not text[w - 1].isspace():
            w -= 1
        if w == b or text[w:b].lower() not in _CONNECTIVES:
            return b
        b = w
    return b


def looks_like_solution(s: str) -> bool:
    """True when ``s`` reads as a worked solution rather than an answer: it has an answer
    sentence ("The answer is …", "Final Answer: …"), or it is prose over several sentences or
    lines (a text answer such as ``New York`` or ``\\text{Monday}`` is neither).

    Example:
        >>> looks_like_solution("3 + 4 = 7 apples.\\nThe answer is 7."), looks_like_solution("New York")
        (True, False)
    """
    if _ANSWER_ANCHOR_RE.search(s):
        return True
    return ("\n" in s or ". " in s) and len(_words(s)) >= 4


def _rule_answer_line(text: str, cfg: ExtractConfig) -> tuple[list[_Cand], str]:
    anchors = list(_ANSWER_ANCHOR_RE.finditer(text))
    out: list[_Cand] = []
    for i, m in enumerate(anchors):
        if m.group("neg"):  # "the answer is not 5": states nothing
            continue
        stop = anchors[i + 1].start() if i + 1 < len(anchors) else len(text)
        nl = text.find("\n", m.end(), stop)  # bounded by the next anchor: linear overall
        if nl >= 0:  # "Answer: \begin{bmatrix} ... \end{bmatrix}" over several lines
            nl = _extend_env(text, m.end(), nl, stop)
        stop, cut_by_anchor = (nl, False) if nl >= 0 else (stop, stop < len(text))
        if cut_by_anchor and not _MATHY_RE.search(text, m.end(), stop):  # "Final Answer: The final answer is $5$"
            continue
        box = _BOX_RE.search(text, m.end(), stop)
        if box is not None:  # a box starts a statement of its own: "Answer: 10 ... so \boxed{12}"
            end = _trim_connectives(text, m.end(), box.start())
            pre = text[m.end():end].strip(" \t$\\([")
            if not (pre and _VALUE_RE.search(pre)) or _LEADS_IN_RE.search(pre):
                continue  # "The final answer is $\boxed{5}$", "x = \boxed{5}": the box states it
            stop, cut_by_anchor = end, True
        if cut_by_anchor:  # "answer: 5; so the answer is 5" -> "5"
            stop = _trim_connectives(text, m.end(), stop)
        c = _answer_sentence(text, m.end(), stop)
        if c is not None and "\\boxed" not in text[c[0]:c[1]] and "\\fbox" not in text[c[0]:c[1]]:
            out.append(c)  # (an answer in a box, "The final answer is \boxed{5}", is the box's)
    if not out:
        return [], "no match"
    weak = sum(1 for c in out if not c[2])
    return out, f"matched ({len(out)}" + (f", {weak} inside prose)" if weak else ")")


_MATHY_RE = re.compile(r"\d|\\[A-Za-z]+|[=<>^]")
_VALUE_RE = re.compile(r"\d|\\[A-Za-z]+")
# text that leads into what follows: ends with an operator, a relation or an opening bracket
_LEADS_IN_RE = re.compile(
    r"(?:[=<>+\-*/^_{(,:]|\\(?:in|le|leq|ge|geq|ne|neq|approx|equiv|to|sim|cong|subset|subseteq|implies|"
    r"Rightarrow|rightarrow|iff|cdot|times|pm|mp))\s*$")
_ENV_RE = re.compile(r"\\begin\{[A-Za-z*]+\}")


def _is_formula(text: str, a: int, b: int) -> bool:
    """``text[a:b]`` is a formula: no prose word, one line or one LaTeX environment, and a
    digit, a LaTeX command or a relation in it (no box: boxes are their own rule)."""
    s = text[a:b]
    if b <= a or _words(s) or not _MATHY_RE.search(s) or "\\boxed" in s or "\\fbox" in s:
        return False
    return "\n" not in s or bool(_ENV_RE.match(s) and s.rstrip().endswith("}") and s.count("\\begin") == 1)


_EQ_RE = re.compile(r"(?<![<>!=:])=(?!=)")
_NAME_RE = re.compile(r"\s*[A-Za-z](?:_\{?\w+\}?|\([A-Za-z]\))?\s*")


def _is_working(s: str) -> bool:
    """A line of working rather than an answer: an ``=`` whose left side is not a name
    (``12/4 = 3``; ``y = 3x - 4`` and ``f(x) = x^2`` are answers), or several ``=``."""
    eqs = list(_EQ_RE.finditer(s))
    return len(eqs) > 1 or (len(eqs) == 1 and _NAME_RE.fullmatch(s, 0, eqs[0].start()) is None)


def _rule_bare(text: str, cfg: ExtractConfig) -> tuple[list[_Cand], str]:
    """The completion (after its last ``</think>``), when it is a formula (:func:`_is_formula`:
    no prose word (three or more letters that are not notation such as ``sqrt``), one line
    or one LaTeX environment such as a ``pmatrix``, and a digit, a LaTeX command or a
    relation in it); else its final line (or final environment) when that is a formula and
    not a line of working (``12/4 = 3``).  Its length is bounded by the answer budget, not
    by this rule: a long formula is still the answer (the verifier refuses it past
    ``max_answer_chars``), never its last number.  Lone words and punctuation ("Solution",
    ":") are not answers."""
    think = fold_ascii(text).rfind("</think>") if "</" in text else -1
    a, b = _clean_span(text, think + 8 if think >= 0 else 0, len(text))
    if _is_formula(text, a, b):
        return [(a, b, True)], "matched"
    nl = text.rfind("\n", a, b)
    if nl < 0:
        return [], "no match"
    la = nl + 1
    if text[la:b].lstrip().startswith("\\end{"):  # a final environment over several lines
        env = text.rfind("\\begin{", a, b)
        la = text.rfind("\n", a, env) + 1 if env >= 0 else la
    la, lb = _clean_span(text, la, b)
    if _is_formula(text, la, lb) and not _is_working(text[la:lb]):
        return [(la, lb, True)], "matched (final line)"
    return [], "no match"


_BEGIN_ENV_RE = re.compile(r"\\begin\{([A-Za-z*]+)\}")


def _extend_env(text: str, a: int, b: int, limit: int) -> int:
    """End of ``text[a:b]`` extended to the ``\\end{env}`` of a LaTeX environment it opens but
    does not close (a matrix written over several lines), searched in ``text[b:limit]``; else ``b``.

    Example:
        >>> bs, nl = chr(92), chr(10)
        >>> t = "#### " + bs + "begin{bmatrix}" + nl + "1 & 2" + nl + bs + "end{bmatrix} done"
        >>> _extend_env(t, 5, t.index(nl), len(t)) == t.index(" done")
        True
    """
    opened = list(_BEGIN_ENV_RE.finditer(text, a, b))
    if not opened:
        return b
    end_tag = "\\end{" + opened[-1].group(1) + "}"
    if text.find(end_tag, opened[-1].end(), b) >= 0:
        return b
    close = text.find(end_tag, b, limit)
    return b if close < 0 else close + len(end_tag)


def _rule_hash(text: str, cfg: ExtractConfig) -> tuple[list[_Cand], str]:
    out: list[_Cand] = []
    for m in _HASH_RE.finditer(text):
        a, b = m.span("ans")
        b = _extend_env(text, a, b, len(text))
        a, b = _clean_span(text, a, b)
        if b > a and "\\boxed" not in text[a:b] and "\\fbox" not in text[a:b]:
            out.append((a, b, True))
    return (out, f"matched ({len(out)})") if out else ([], "no match")


_MATH_DELIM_RE = re.compile(r"(?<!\\)\$\$|(?<!\\)\$|\\\(|\\\)|\\\[|\\\]")  # "\$" is a dollar sign
_CLOSERS = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}


def _math_spans(text: str, start: int = 0, end: int | None = None):
    """Content spans of closed math spans in ``text[start:end]``, in order, one pass over the
    delimiters (an opening delimiter pairs with the next matching closer)."""
    open_tok, open_end = None, 0
    for m in _MATH_DELIM_RE.finditer(text, start, len(text) if end is None else end):
        tok = m.group()
        if open_tok is None:
            if tok in _CLOSERS:
                open_tok, open_end = tok, m.end()
        elif tok == _CLOSERS[open_tok]:
            if m.start() > open_end:
                yield (open_end, m.start())
            open_tok = None


def first_math_span(text: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """Content span of the first closed math span in ``text[start:end]``, or None.

    Example:
        >>> t = "is $A$. Then $B$"
        >>> a, b = first_math_span(t); t[a:b]
        'A'
    """
    return next(_math_spans(text, start, end), None)


def last_math_span(text: str) -> tuple[int, int] | None:
    """Content span of the last closed inline/display math (``$..$``, ``$$..$$``,
    ``\\(..\\)``, ``\\[..\\]``), found in one pass over the delimiters.

    Example:
        >>> t = "so $x$ and then $$x >= 5$$."
        >>> a, b = last_math_span(t); t[a:b]
        'x >= 5'
    """
    last = None
    for span in _math_spans(text):
        last = span
    return last


def _rule_last_math(text: str, cfg: ExtractConfig) -> tuple[list[_Cand], str]:
    span = last_math_span(text)
    if span is None:
        return [], "no match"
    num = last_number(text)
    if num is not None and num[0] > span[1]:  # a value stated after the last formula is the answer
        return [], "a number follows"
    a, b = _clean_span(text, *span)
    return ([(a, b, True)], "matched") if b > a else ([], "empty")


def _rule_last_number(text: str, cfg: ExtractConfig) -> tuple[list[_Cand], str]:
    span = last_number(text)
    return ([(span[0], span[1], True)], "matched") if span else ([], "no match")


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
