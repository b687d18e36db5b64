"""One linear-time extractor for ``<tag>…</tag>`` blocks in model output.

Every verifier that reads a tagged region (``<answer>``, ``<think>``, ``<tool_call>`` …) uses
:func:`find_tag_blocks`; nothing in :mod:`rewardkit.verify` scans tags with a lazy regex
(``<tag>(.*?)</tag>`` restarts at every opening tag, so ``'<answer>' * n`` costs O(n²)).

Grammar and case policy (the one policy for all verifiers):

* a tag is exactly ``<name>`` / ``</name>``: no attributes and no spaces inside the brackets;
* tag names match **ASCII case-insensitively** (``<answer>``, ``<ANSWER>`` and ``<Answer>`` are
  the same tag); only A–Z/a–z fold, so positions in the original text never shift;
* a block is a closing tag paired with the **nearest opening tag before it** that lies after
  the previous block.  Unclosed opening tags and stray closing tags form no block (they still
  count in :func:`count_tags`), so ``"<answer>1<answer>2</answer>"`` has one block, ``"2"``;
* blocks do not nest or overlap and come back in text order.

Several blocks of one tag follow the one answer policy of :mod:`rewardkit.verify.answers`:
:func:`tag_answers` returns every block's body, and ``tag_content(..., which="one")`` returns the
body only when every block says the same thing (``None`` for a shotgun such as
``<answer>41</answer><answer>42</answer>``); verifiers report such a response as
``error="multiple_answers"``.

Cost: one forward :meth:`str.find` for each closing tag and one bounded :meth:`str.rfind` for
its opening tag, each over a disjoint slice of the text, plus one ASCII case fold:
:math:`O(n)` time and :math:`O(n)` extra memory for a text of ``n`` characters, whatever it
contains.  Callers that need "exactly one block" compare :func:`count_tags` with the blocks.

Example:
    >>> t = "<think>2+2</think> <ANSWER> 4 </answer>"
    >>> [(b.tag, t[b.content_start:b.content_end]) for b in find_tag_blocks(t, ("think", "answer"))]
    [('think', '2+2'), ('answer', ' 4 ')]
    >>> tag_content(t, "answer")
    '4'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Iterable, Iterator

from .answers import MULTIPLE_ANSWERS, resolve_answers

__all__ = ["Fence", "TagBlock", "count_tags", "find_fences", "find_tag_blocks", "fold_ascii", "iter_fences",
           "last_tag_block", "tag_answers", "tag_content", "valid_tag_name"]

_TAG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")
_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class TagBlock:
    """One ``<tag>…</tag>`` block: ``start``/``end`` span the tags, ``content_start``/``content_end``
    the body (all indices into the original text)."""

    tag: str
    start: int
    content_start: int
    content_end: int
    end: int

    def content(self, text: str) -> str:
        """The body of this block in ``text`` (not stripped)."""
        return text[self.content_start:self.content_end]


def valid_tag_name(name: object) -> bool:
    """True if ``name`` can be a tag name (letters, digits, ``_ . : -``; not starting with a digit).

    Example:
        >>> valid_tag_name("tool_call"), valid_tag_name("a b"), valid_tag_name("")
        (True, False, False)
    """
    return isinstance(name, str) and bool(_TAG_NAME.match(name))


def fold_ascii(text: str) -> str:
    """``text`` with A–Z lower-cased and nothing else changed (same length, same positions;
    :meth:`str.lower` may change the length of non-ASCII text, e.g. ``"İ"``).

    Example:
        >>> fold_ascii("<ANSWER>İ</Answer>")
        '<answer>İ</answer>'
    """
    return text.translate(_FOLD)


def _names(tags: str | Iterable[str]) -> list[str]:
    names = [tags] if isinstance(tags, str) else list(tags)
    for t in names:
        if not valid_tag_name(t):
            raise ValueError(f"tag: got {t!r}, expected a tag name such as 'answer' (letters, digits, _ . : -)")
    return [fold_ascii(t) for t in names]


def _blocks_one(folded: str, tag: str) -> list[TagBlock]:
    op, cl = f"<{tag}>", f"</{tag}>"
    out: list[TagBlock] = []
    pos = 0
    while True:
        c = folded.find(cl, pos)
        if c < 0:
            return out
        o = folded.rfind(op, pos, c)
        if o >= 0:
            out.append(TagBlock(tag, o, o + len(op), c, c + len(cl)))
        pos = c + len(cl)


def find_tag_blocks(text: str, tags: str | Iterable[str] = "answer", *, folded: str | None = None) -> list[TagBlock]:
    """All ``<tag>…</tag>`` blocks of one or several tag names, in text order (policy above).

    With several names, each name is scanned on its own (blocks of different names may
    overlap, e.g. an ``<answer>`` inside a ``<think>``).  ``folded`` is ``fold_ascii(text)``
    when the caller already has it.  Raises ``ValueError`` for an invalid tag name.

    Example:
        >>> t = "<answer>1<answer>2</answer> x </answer><answer>3</answer>"
        >>> [t[b.content_start:b.content_end] for b in find_tag_blocks(t)]
        ['2', '3']
    """
    if not isinstance(text, str):
        return []
    names = _names(tags)
    low = fold_ascii(text) if folded is None else folded
    out: list[TagBlock] = []
    for t in names:
        out += _blocks_one(low, t)
    if len(names) > 1:
        out.sort(key=lambda b: b.start)
    return out


def count_tags(text: str, tags: str | Iterable[str], *, folded: str | None = None) -> dict[str, int]:
    """Occurrences of ``<tag>`` and ``</tag>`` (ASCII case-insensitive) for each tag name; keys
    are the lower-case tags.

    Example:
        >>> count_tags("<think>a</think><Answer>1</answer><answer>", ("think", "answer"))
        {'<think>': 1, '</think>': 1, '<answer>': 2, '</answer>': 1}
    """
    if not isinstance(text, str):
        text = ""
    low = fold_ascii(text) if folded is None else folded
    out: dict[str, int] = {}
    for t in _names(tags):
        out[f"<{t}>"] = low.count(f"<{t}>")
        out[f"</{t}>"] = low.count(f"</{t}>")
    return out


def last_tag_block(text: str, tag: str = "answer", *, folded: str | None = None) -> TagBlock | None:
    """The last ``<tag>…</tag>`` block, found with two reverse searches (no full scan), or ``None``.

    Always the same block as ``find_tag_blocks(text, tag)[-1]``.

    Example:
        >>> t = "<answer>1</answer> and <ANSWER> 2 </answer>"
        >>> b = last_tag_block(t); t[b.content_start:b.content_end]
        ' 2 '
    """
    if not isinstance(text, str):
        return None
    (name,) = _names(tag)
    low = fold_ascii(text) if folded is None else folded
    op, cl = f"<{name}>", f"</{name}>"
    hi = len(low)
    while True:
        c = low.rfind(cl, 0, hi)
        if c < 0:
            return None
        # the block's opening tag must come after the previous closing tag
        prev = low.rfind(cl, 0, c)
        lo = prev + len(cl) if prev >= 0 else 0
        o = low.rfind(op, lo, c)
        if o >= 0:
            return TagBlock(name, o, o + len(op), c, c + len(cl))
        hi = c  # a stray closing tag: look at the previous one


def tag_answers(text: str, tag: str = "answer") -> list[str]:
    """Stripped bodies of every ``<tag>…</tag>`` block, in text order (linear time).

    Example:
        >>> tag_answers("<answer> 4 </answer> <answer>5</answer>")
        ['4', '5']
    """
    return [b.content(text).strip() for b in find_tag_blocks(text, tag)]


def answer_block(text: str, tag: str = "answer") -> tuple[TagBlock | None, str | None]:
    """The one ``<tag>`` block a completion answers with, under the one answer policy.

    Returns ``(block, None)`` with the last block when every block has the same content (as
    :func:`rewardkit.verify.answers.answer_key` compares it: whitespace, ``$`` and trailing
    ``.``/``,``/``;`` ignored), ``(None, None)`` without blocks, and ``(None, "multiple_answers")``
    when blocks differ (a shotgun; :mod:`rewardkit.verify.answers`).  Used by the SQL and structured-output
    extractors.

    Example:
        >>> answer_block("<answer>SELECT 1</answer><answer>SELECT 2</answer>")
        (None, 'multiple_answers')
        >>> b, err = answer_block("<answer> x </answer> then <answer>x</answer>"); err, b is not None
        (None, True)
    """
    blocks = find_tag_blocks(text, tag) if isinstance(text, str) else []
    if not blocks:
        return None, None
    if resolve_answers([b.content(text).strip() for b in blocks]).error == MULTIPLE_ANSWERS:
        return None, MULTIPLE_ANSWERS
    return blocks[-1], None


def tag_content(text: str, tag: str = "answer", which: str = "last") -> str | None:
    """Stripped body of the last (``which="last"``) or first (``"first"``) block, or the body
    all blocks agree on (``"one"``, the one answer policy: ``None`` when they differ), or ``None``.

    Example:
        >>> tag_content("<answer> 4 </answer> <answer>5</answer>"), tag_content("<answer> 4 </answer>x", which="first")
        ('5', '4')
        >>> tag_content("<answer>4</answer> <answer>5</answer>", which="one") is None
        True
        >>> tag_content("<answer>4</answer> <answer> 4 </answer>", which="one")
        '4'
        >>> tag_content("no tags") is None
        True
    """
    if which not in ("last", "first", "one"):
        raise ValueError(f"which: got {which!r}, expected 'last', 'first' or 'one'")
    if which == "one":
        return resolve_answers(tag_answers(text, tag)).answer
    if which == "last":
        b = last_tag_block(text, tag)
    else:
        blocks = find_tag_blocks(text, tag)
        b = blocks[0] if blocks else None
    return None if b is None else b.content(text).strip()


_LANG = re.compile(r"[ \t]*([A-Za-z0-9_+-]*)")


@dataclass(frozen=True)
class Fence:
    """One Markdown code fence: ``lang`` is the info word after the opening backticks (may be
    empty), ``content_start``/``content_end`` the body (indices into the original text)."""

    lang: str
    content_start: int
    content_end: int

    def content(self, text: str) -> str:
        """The body of this fence in ``text``."""
        return text[self.content_start:self.content_end]


def find_fences(text: str) -> list[Fence]:
    r"""All fenced code blocks ```` ```lang\n…``` ```` in text order, in linear time.

    A fence opens at three backticks, its info line runs to the next newline, and its body
    runs to the next three backticks (the same blocks as the lazy regex
    ```` ```[ \t]*(\w*)[^\n]*\n(.*?)``` ````, which is quadratic on ```` '```' * n ````).

    Example:
        >>> t = "a ```sql\nSELECT 1\n``` b ```\nx\n```"
        >>> [(f.lang, f.content(t)) for f in find_fences(t)]
        [('sql', 'SELECT 1\n'), ('', 'x\n')]
    """
    return list(iter_fences(text))


def iter_fences(text: str) -> Iterator[Fence]:
    r"""The fences of :func:`find_fences`, one at a time (constant memory: a caller that keeps
    only the last matching fence never holds ``len(text) / 7`` objects at once).

    Example:
        >>> [f.lang for f in iter_fences("```py\n1\n``` ```js\n2\n```")]
        ['py', 'js']
    """
    if not isinstance(text, str):
        return
    pos = 0
    while True:
        o = text.find("```", pos)
        if o < 0:
            return
        nl = text.find("\n", o + 3)
        if nl < 0:
            return
        c = text.find("```", nl + 1)
        if c < 0:
            return
        m = _LANG.match(text, o + 3, nl)
        yield Fence(m.group(1) if m else "", nl + 1, c)
        pos = c + 3
