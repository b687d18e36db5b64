"""The math-answer verifier: extract the final answer, then decide equivalence.

Reward (binary outcome reward of RLVR; Lambert et al., 2024, "Tülu 3: Pushing
Frontiers in Open Language Model Post-Training"; DeepSeek-AI, 2025, "DeepSeek-R1"):

.. math::

    r(o, a^*) = \\begin{cases} r_{+} & \\mathrm{extract}(o) \\neq \\varnothing \\wedge
        \\mathrm{extract}(o) \\equiv a^* \\\\ r_{-} & \\text{otherwise} \\end{cases}

with :math:`r_+ = 1, r_- = 0` by default (``incorrect=-1`` gives math_dapo's ±1).
An answer-less completion – including the "master key" responses of Zhao et al.
(2025, "One Token to Fool LLM-as-a-Judge") such as ``":"`` or ``"Thought process:"`` –
gets ``no_answer`` (value ``r_-``, ``error="no_answer"``) before any comparison.

:meth:`MathVerifier.verify_batch` groups the batch by gold answer (a GRPO group
shares its gold), so each gold is normalised and parsed once per group.

Example:
    >>> from rewardkit.core import SampleBatch
    >>> v = MathVerifier(symbolic=False)
    >>> b = SampleBatch(["q"] * 3, ["so \\\\boxed{\\\\dfrac{1}{2}}", "Answer: 0.5", ":"], {"answer": ["1/2"] * 3})
    >>> [(r.value, r.error) for r in v.verify_batch(b)]
    [(1.0, None), (1.0, None), (0.0, 'no_answer')]
"""

from __future__ import annotations

import re
import time
from typing import Any
from collections.abc import Sequence

from rewardkit.core import SampleBatch
from rewardkit.verify.answers import MULTIPLE_ANSWERS
from rewardkit.verify.budget import DEFAULT_BUDGETS, PARSE_LIMIT, Budget
from rewardkit.verify.result import Verifier, VerifyResult

from .equivalence import MathEquivalence
from .exact import CompareOptions, exact_equal
from .extract import ExtractConfig, Extraction, extract_answer, looks_like_solution, outer_boxes

__all__ = ["MAX_STATED_ANSWERS", "MathVerifier", "answer_limit", "gold_answer", "gold_elements", "stated_checks"]


def _group_before(s: str, end: int, limit: int = 200) -> str:
    """The bracket group ``(...)`` / ``{...}`` that closes at ``s[end]`` (at most ``limit`` chars)."""
    close = s[end]
    opener = "(" if close == ")" else "{"
    depth = 0
    for i in range(end, max(-1, end - limit), -1):
        if s[i] == close:
            depth += 1
        elif s[i] == opener:
            depth -= 1
            if depth == 0:
                return s[i:end + 1]
    return s[max(0, end - limit):end + 1]


def _exponent_depth(s: str) -> int:
    """Deepest nesting of exponents (``^{…}``, ``^x``, ``**``) in one linear pass."""
    s = s.replace("**", "^")
    level, best, stack = 0, 0, []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "^":
            j = i + 1
            while j < n and s[j] == " ":
                j += 1
            if j < n and s[j] == "{":
                stack.append(level)
                level += 1
                best = max(best, level)
                i = j + 1
                continue
            best = max(best, level + 1)
            k = j
            while k < n and (s[k].isalnum() or s[k] == "\\"):
                k += 1
            if k < n and s[k] == "^":  # a^b^c: a chained tower
                level += 1
            i = k
            continue
        if c == "{":
            stack.append(level)
        elif c == "}":
            level = stack.pop() if stack else 0
        i += 1
    return best


_VARIABLE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]")  # a letter that is not part of a LaTeX command
_TOKEN = re.compile(r"\\[A-Za-z]+|[A-Za-z0-9.]+|\S")  # a LaTeX command, a word or number, one symbol

#: pre-screen limits of an extracted answer (see :func:`answer_limit`)
MAX_ANSWER_CHARS = 1_000
MAX_ANSWER_TOKENS = 400
MAX_BRACKET_DEPTH = 32


def _size_limit(answer: str, max_chars: int, max_tokens: int, max_depth: int) -> str | None:
    """Length, token count and bracket depth of an answer (linear; the regex has no backtracking)."""
    if len(answer) > max_chars:
        return f"answer longer than {max_chars} characters"
    tokens = sum(1 for _ in _TOKEN.finditer(answer))
    if tokens > max_tokens:
        return f"answer has more than {max_tokens} tokens"
    depth = best = 0
    for c in answer:
        if c in "([{":
            depth += 1
            best = max(best, depth)
        elif c in ")]}":
            depth = max(0, depth - 1)
    if best > max_depth:
        return f"brackets nested deeper than {max_depth}"
    return None


def answer_limit(answer: str, max_exponent_depth: int = 2, max_factorial_digits: int = 3,
                 max_chars: int = MAX_ANSWER_CHARS, max_tokens: int = MAX_ANSWER_TOKENS,
                 max_depth: int = MAX_BRACKET_DEPTH) -> str | None:
    """Why an extracted answer is too costly to compare symbolically, or ``None``.

    Answers longer than ``max_chars`` characters, with more than ``max_tokens`` tokens
    (LaTeX commands, words/numbers and single symbols) or brackets nested deeper than
    ``max_depth`` are refused: final answers are short, and parsing long or deeply nested
    text with sympy can take longer than the symbolic deadline (a YAML alias bomb inside
    ``<answer>`` is one).  Power towers (exponents nested deeper than ``max_exponent_depth``, e.g.
    ``9^{9^{9^{9}}}``) and factorials of large or exponential operands (``(10^{100})!``,
    ``12345!``) and numeric towers of depth two (``9^{9^{9}}``, ``9^9^9``; a tower with a
    variable such as ``x^{y^{z}}`` stays symbolic) make sympy evaluate numbers with
    astronomically many digits; they get
    ``error="parse_limit"`` without reaching the worker (one linear pass).

    Example:
        >>> answer_limit("9^{9^{9^{9}}}"), answer_limit("(10^{100})!"), answer_limit("2^{10}+(n+1)!") is None
        ('exponent tower deeper than 2', 'factorial of a huge operand', True)
        >>> answer_limit("x+" * 300 + "1"), answer_limit("(" * 40 + "1" + ")" * 40)
        ('answer has more than 400 tokens', 'brackets nested deeper than 32')
    """
    size = _size_limit(answer, max_chars, max_tokens, max_depth)
    if size is not None:
        return size
    depth = _exponent_depth(answer)
    if depth > max_exponent_depth:
        return f"exponent tower deeper than {max_exponent_depth}"
    if depth >= 2 and not _VARIABLE.search(answer):  # 9^{9^{9}} has 369 million digits
        return "numeric exponent tower"
    pos = answer.find("!")
    while pos > 0:
        j = pos - 1
        while j >= 0 and answer[j] == " ":
            j -= 1
        if j >= 0:
            if answer[j].isdigit():
                k = j
                while k >= 0 and answer[k].isdigit():
                    k -= 1
                if j - k > max_factorial_digits:
                    return "factorial of a huge operand"
            elif answer[j] in ")}":
                group = _group_before(answer, j)
                if "^" in group or "**" in group or any(len(t) > max_factorial_digits for t in
                                                       "".join(ch if ch.isdigit() else " " for ch in group).split()):
                    return "factorial of a huge operand"
        pos = answer.find("!", pos + 1)
    return None


def gold_answer(gold: Any) -> str | None:
    """The answer part of a gold reference (issue #19, family 12c: a gold that is a whole
    solution is read for its final answer first):

    * the ``\\boxed{}`` of a MATH solution (all of them joined with ``", "`` when there are
      several: a set of answers);
    * the text after the last ``####`` of a GSM8K solution;
    * the answer of the last "The answer is …" / "Final Answer: …" sentence of a worked
      solution (golds are trusted, so the last statement wins);
    * the last value of a solution written as several sentences or lines with neither;
    * else the string itself (without enclosing ``$``/``\\(``/``\\[``).

    Example:
        >>> gold_answer("She has 3+4=7 apples.\\n#### 7"), gold_answer("so $\\\\boxed{12}$"), gold_answer(5)
        ('7', '12', '5')
        >>> gold_answer("$x \\\\geq 5$"), gold_answer("Adding, 3 + 4 = 7 apples. The answer is 7.")
        ('x \\\\geq 5', '7')
    """
    if gold is None:
        return None
    if isinstance(gold, float) and gold != gold:  # NaN
        return None
    s = str(gold).strip()
    if not s:
        return None
    if "\\boxed" in s or "\\fbox" in s:
        outer = outer_boxes(s)
        if outer:  # several boxed answers in a reference: all of them (a set of answers)
            return ", ".join(dict.fromkeys(s[a:b].strip() for a, b in outer))
    if "####" in s:
        return s.rsplit("####", 1)[1].strip().replace(",", "") or None
    for lo, hi in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if len(s) > len(lo) + len(hi) and s.startswith(lo) and s.endswith(hi) and lo not in s[len(lo):-len(hi)]:
            return s[len(lo):-len(hi)].strip() or None
    if looks_like_solution(s):
        ex = extract_answer(s, _GOLD_EXTRACT)
        if ex.answer:
            return ex.answer
    return s


#: how a solution-like gold is read: its stated answers, the last one wins (golds are trusted)
_GOLD_EXTRACT = ExtractConfig(rules=("answer_line", "last_math", "last_number"), multiple="last")

#: most different answers one completion may state before the shotgun check stops comparing
MAX_STATED_ANSWERS = 8


def gold_elements(gold: str) -> list[str] | None:
    """The elements of a gold that is a set or list (``\\{1,2,3\\}``, ``1, 2, 3``), else None.

    Elements are split at top-level commas or semicolons (outside brackets); a tuple or an
    interval in brackets (``(1,2)``, ``[0,1)``) is one object, and a number with thousands
    separators (``1,000``) is one number.  Linear.

    Example:
        >>> gold_elements("\\\\{1, 2, 3\\\\}"), gold_elements("-2; 5"), gold_elements("(1,2)"), gold_elements("1,000")
        (['1', '2', '3'], ['-2', '5'], None, None)
    """
    s = gold.strip().replace("\\left", "").replace("\\right", "")
    if s.startswith("\\{") and s.endswith("\\}"):
        s = s[2:-2]
    elif s.startswith("{") and s.endswith("}") and s.count("{") == 1:  # a LaTeX group {1,2,3}: a set
        s = s[1:-1]
    elif _THOUSANDS_RE.fullmatch(s):
        return None
    parts: list[str] = []
    depth, last = 0, 0
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] in "{}":
            depth += 1 if s[i + 1] == "{" else -1
            i += 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c in ",;" and depth == 0:
            parts.append(s[last:i].strip())
            last = i + 1
        i += 1
    parts.append(s[last:].strip())
    parts = [p for p in parts if p]
    return parts if len(parts) >= 2 else None


_THOUSANDS_RE = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _joined_like(gold: str, answers: Sequence[str]) -> str:
    """The answers written as one collection in the gold's form (``\\{a, b\\}`` or ``a, b``)."""
    body = ", ".join(a.strip() for a in answers)
    g = gold.strip().replace("\\left", "").replace("\\right", "")
    return f"\\{{{body}\\}}" if g.startswith(("\\{", "{")) and g.endswith("}") else body


def stated_checks(gold: str, answers: Sequence[str]) -> list[str]:
    """What must equal ``gold`` for a completion that states several different ``answers``
    (the one answer policy of :mod:`rewardkit.verify.answers`, issue #19 family 1):

    * the answers together, when the gold is a collection of exactly that many elements and
      each answer is one element (``\\boxed{1}, \\boxed{2}, \\boxed{3}`` for ``{1,2,3}``);
    * otherwise every one of them (``\\boxed{1/2} = \\boxed{0.5}`` passes,
      ``\\boxed{41} \\boxed{42}`` fails for ``42``): a shotgun never passes.

    Example:
        >>> stated_checks("\\\\{1,2,3\\\\}", ["3", "1", "2"]), stated_checks("42", ["41", "42"])
        (['\\\\{3, 1, 2\\\\}'], ['41', '42'])
    """
    elems = gold_elements(gold)
    if elems is not None and len(elems) == len(answers) and all(gold_elements(a) is None for a in answers):
        return [_joined_like(gold, answers)]
    return list(answers)


class MathVerifier(Verifier):
    """Math final-answer reward: configurable extraction + fast/symbolic equivalence.

    Args:
        answer_column: batch column holding the gold answer (a string, a number, a
            list of acceptable answers, or a full MATH/GSM8K solution).
        extract: an :class:`ExtractConfig` (default: answer tag, boxed, ``Answer:``,
            ``####``, bare formula, last math span, last number; several different stated
            answers are a shotgun, ``multiple="reject"``).
        symbolic, workers, deadline, float_rounding: see :class:`MathEquivalence`.
        correct, incorrect: rewards for a right / wrong (or missing) answer.
        equivalence: share one :class:`MathEquivalence` (and its caches) between verifiers.
        form, tolerance, sig_figs, locale, precision: comparison options, see
            :class:`~rewardkit.verify.math.exact.CompareOptions` (defaults: value only, exact,
            ``"en"`` decimal point, no rounding to the gold's precision).

    Budget per sample: a completion over 400,000 characters gets ``incorrect`` and
    ``too_large`` before extraction (which is linear below the cap); an answer that
    :func:`answer_limit` flags (over 1,000 characters or 400 tokens, brackets deeper than 32,
    power towers, huge factorials) gets ``parse_limit`` without a symbolic step; the symbolic
    step runs in a warmed-up worker process killed after ``deadline`` seconds (default 1.0;
    ``timeout``), so a sample finishes within 2 s.

    Several different stated answers (the one answer policy, :mod:`rewardkit.verify.answers`)
    are right only as :func:`stated_checks` says: together, when the gold is a collection of
    that many elements, or each one on its own; otherwise ``error="multiple_answers"``.

    Example:
        >>> v = MathVerifier(symbolic=False)
        >>> r = v.verify("\\\\boxed{41} \\\\boxed{42}", answer="42"); (r.value, r.error)
        (0.0, 'multiple_answers')
        >>> v.verify("\\\\boxed{-1}, \\\\boxed{2}", answer="\\\\{2, -1\\\\}").value
        1.0
    """

    name = "math_answer"

    def __init__(self, answer_column: str = "answer", extract: ExtractConfig | None = None,
                 symbolic: bool = True, workers: int = 1, deadline: float = 1.0, float_rounding: int = 6,
                 correct: float = 1.0, incorrect: float = 0.0, equivalence: MathEquivalence | None = None,
                 form: str = "value", tolerance: float | None = None, sig_figs: int | None = None,
                 locale: str = "en", precision: str = "exact"):
        self.answer_column = answer_column
        self.reference_columns = (answer_column,)
        self.extract_config = extract or ExtractConfig()
        options = CompareOptions(form=form, tolerance=tolerance, sig_figs=sig_figs, locale=locale,
                                 precision=precision)
        self.equivalence = equivalence or MathEquivalence(symbolic=symbolic, workers=workers, deadline=deadline,
                                                          float_rounding=float_rounding, options=options)
        self.correct = float(correct)
        self.incorrect = float(incorrect)
        base = DEFAULT_BUDGETS["math"]
        self.budget = Budget(base.max_chars, self.equivalence.deadline, base.memory_mb)

    # -- one sample -------------------------------------------------------------------
    def verify(self, completion: str, **references: Any) -> VerifyResult:
        gold = references.get(self.answer_column, references.get("answer"))
        return self._verify_many([completion], [gold])[0]

    def verify_batch(self, batch: SampleBatch) -> list[VerifyResult]:
        texts = batch.completion_texts()
        golds = batch.column(self.answer_column)
        try:
            return self._verify_many(texts, golds)
        except Exception:  # a bug must not kill the run: fall back to per-sample guarding
            return [self.safe_verify(t, **{self.answer_column: g}) for t, g in zip(texts, golds, strict=False)]

    # -- batched core ---------------------------------------------------------------------
    def _verify_many(self, texts: Sequence[str], golds: Sequence[Any]) -> list[VerifyResult]:
        t0 = time.perf_counter()
        n = len(texts)
        results: list[VerifyResult | None] = [None] * n
        pair_gold: list[str] = []
        pair_pred: list[str] = []
        # per sample: its extraction and one list of pair indices per gold alternative; the
        # sample is right when every pair of one alternative is equal
        pending: dict[int, tuple[Extraction, list[list[int]]]] = {}
        for i, (text, gold) in enumerate(zip(texts, golds, strict=False)):
            prepared = self._prepare(text, gold)
            if isinstance(prepared, VerifyResult):
                results[i] = prepared
                continue
            ex, per_alt = prepared
            idx_alt = []
            for g, preds in per_alt:
                idx_alt.append(list(range(len(pair_gold), len(pair_gold) + len(preds))))
                pair_gold += [g] * len(preds)
                pair_pred += preds
            pending[i] = (ex, idx_alt)
        verdicts = self.equivalence.compare_many(pair_gold, pair_pred) if pair_gold else []
        elapsed = (time.perf_counter() - t0) / max(n, 1)
        for i, (ex, idx_alt) in pending.items():
            ok_alt = next((idx for idx in idx_alt if all(verdicts[p].equal for p in idx)), None)
            flat = [verdicts[p] for idx in idx_alt for p in idx]
            best = verdicts[ok_alt[-1]] if ok_alt else flat[0]
            several = ex.error == MULTIPLE_ANSWERS
            if ok_alt:
                err = None
            elif several:
                err = MULTIPLE_ANSWERS
            else:
                err = next((v.error for v in flat if v.error), None)
            info = _info(ex)
            info["method"] = best.method
            info["cached"] = best.cached
            extracted: Any = ex.answer
            if several:
                info["answers"] = list(ex.answers)
                extracted = pair_pred[ok_alt[0]] if ok_alt and len(ok_alt) == 1 else list(ex.answers)
            value = self.correct if ok_alt else self.incorrect
            results[i] = VerifyResult(value, {"correct": float(bool(ok_alt))}, extracted, err, info=info)
        for r in results:
            if r is not None and not r.latency:
                r.latency = elapsed
        return results  # type: ignore[return-value]

    def _prepare(self, text: Any, gold: Any) -> VerifyResult | tuple[Extraction, list[tuple[str, list[str]]]]:
        """A final result for one sample, or its extraction and, per gold alternative, the
        answers that must all equal that gold (:func:`stated_checks`)."""
        text = text if isinstance(text, str) else ("" if text is None else str(text))
        big = self.budget.too_large(text, self.incorrect, {"correct": 0.0})
        if big is not None:
            return big
        ex = extract_answer(text, self.extract_config)
        alts = [gold_answer(g) for g in gold] if isinstance(gold, (list, tuple)) else [gold_answer(gold)]
        alts = [a for a in alts if a]
        fail = {"correct": 0.0}
        if not alts:
            return VerifyResult(self.incorrect, fail, ex.answer, "missing_reference", info=_info(ex))
        several = ex.error == MULTIPLE_ANSWERS
        stated = ex.answers if several else ([ex.answer] if ex.answer and ex.answer.strip() else [])
        if not stated:
            return VerifyResult(self.incorrect, fail, None, "no_answer", info=_info(ex))
        if len(stated) > MAX_STATED_ANSWERS:
            return VerifyResult(self.incorrect, fail, stated, MULTIPLE_ANSWERS,
                                info={**_info(ex), "message": f"more than {MAX_STATED_ANSWERS} answers"})
        limit = next((lim for lim in map(answer_limit, stated) if lim is not None), None)
        cut = self.extract_config.max_answer_chars
        if limit is None and ex.span is not None and not several and ex.span[1] - ex.span[0] > cut:
            limit = f"answer longer than {cut} characters"  # extraction cut it: never compare a prefix
        if limit is not None and not several and limit.startswith(("exponent", "numeric exponent", "factorial")):
            # towers and big factorials only threaten sympy: the bounded fast path may still decide
            decided = [exact_equal(a, ex.answer, self.equivalence.options) for a in alts]
            if any(d is True for d in decided) or (decided and all(d is False for d in decided)):
                ok = any(d is True for d in decided)
                return VerifyResult(self.correct if ok else self.incorrect, {"correct": float(ok)}, ex.answer, None,
                                    info={**_info(ex), "method": "numeric", "cached": False})
        if limit is not None:
            return VerifyResult(self.incorrect, fail, ex.answer, PARSE_LIMIT, info={**_info(ex), "message": limit})
        if self.extract_config.multiple == "list" and len(ex.answers) > 1:  # a declared list, in the gold's form
            return ex, [(g, [_joined_like(g, ex.answers)]) for g in alts]
        return ex, [(g, stated_checks(g, stated) if several else stated) for g in alts]


def _info(ex: Extraction | None) -> dict[str, Any]:
    if ex is None:
        return {}
    info: dict[str, Any] = {"rule": ex.rule, "span": ex.span, "trace": list(ex.trace)}
    if ex.error:
        info["extract_error"] = ex.error
    return info
