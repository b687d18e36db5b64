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
from rewardkit.verify.budget import DEFAULT_BUDGETS, PARSE_LIMIT, Budget
from rewardkit.verify.result import Verifier, VerifyResult

from .equivalence import MathEquivalence, Verdict
from .exact import CompareOptions, exact_equal
from .extract import ExtractConfig, Extraction, extract_answer, find_boxed

__all__ = ["MathVerifier", "answer_limit", "gold_answer"]


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
    """The answer part of a gold reference: the ``\\boxed{}`` of a MATH solution (all of
    them joined with ``", "`` when there are several),
    the text after ``####`` of a GSM8K solution, else the string itself.

    Example:
        >>> gold_answer("She has 3+4=7 apples.\\n#### 7"), gold_answer("so $\\\\boxed{12}$"), gold_answer(5)
        ('7', '12', '5')
        >>> gold_answer("$x \\\\geq 5$")
        'x \\\\geq 5'
    """
    if gold is None:
        return None
    if isinstance(gold, float) and gold != gold:  # NaN
        return None
    s = str(gold).strip()
    if not s:
        return None
    if "\\boxed" in s or "\\fbox" in s:
        spans = find_boxed(s)
        outer = [p for p in spans if not any(q != p and q[0] <= p[0] and p[1] <= q[1] for q in spans)]
        if outer:  # several boxed answers in a reference: all of them (a set of answers)
            return ", ".join(dict.fromkeys(s[a:b].strip() for a, b in outer))
    if "####" in s:
        return s.rsplit("####", 1)[1].strip().replace(",", "") or None
    for lo, hi in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if len(s) > len(lo) + len(hi) and s.startswith(lo) and s.endswith(hi):
            return s[len(lo):-len(hi)].strip() or None
    return s


class MathVerifier(Verifier):
    """Math final-answer reward: configurable extraction + fast/symbolic equivalence.

    Args:
        answer_column: batch column holding the gold answer (a string, a number, a
            list of acceptable answers, or a full MATH/GSM8K solution).
        extract: an :class:`ExtractConfig` (default: answer tag, boxed, ``Answer:``,
            ``####``, last number).
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
        extractions: list[Extraction | None] = [None] * n
        pair_gold: list[str] = []
        pair_pred: list[str] = []
        pair_owner: list[tuple[int, int]] = []  # (sample index, alternative index)
        alt_count = [0] * n
        for i, (text, gold) in enumerate(zip(texts, golds, strict=False)):
            text = text if isinstance(text, str) else ("" if text is None else str(text))
            big = self.budget.too_large(text, self.incorrect, {"correct": 0.0})
            if big is not None:
                results[i] = big
                continue
            ex = extract_answer(text, self.extract_config)
            extractions[i] = ex
            alts = [gold_answer(g) for g in gold] if isinstance(gold, (list, tuple)) else [gold_answer(gold)]
            alts = [a for a in alts if a]
            if not alts:
                results[i] = VerifyResult(self.incorrect, {"correct": 0.0}, ex.answer, "missing_reference",
                                          info=_info(ex))
                continue
            if ex.answer is None or not ex.answer.strip():
                results[i] = VerifyResult(self.incorrect, {"correct": 0.0}, None, "no_answer", info=_info(ex))
                continue
            limit = answer_limit(ex.answer)
            cut = self.extract_config.max_answer_chars
            if limit is None and ex.span is not None and ex.span[1] - ex.span[0] > cut:
                limit = f"answer longer than {cut} characters"  # extraction cut it: never compare a prefix
            if limit is not None and limit.startswith(("exponent", "numeric exponent", "factorial")):
                # towers and big factorials only threaten sympy: the bounded fast path may still decide
                decided = [exact_equal(a, ex.answer, self.equivalence.options) for a in alts]
                if any(d is True for d in decided) or (decided and all(d is False for d in decided)):
                    ok = any(d is True for d in decided)
                    results[i] = VerifyResult(self.correct if ok else self.incorrect, {"correct": float(ok)}, ex.answer,
                                              None, info={**_info(ex), "method": "numeric", "cached": False})
                    continue
            if limit is not None:
                results[i] = VerifyResult(self.incorrect, {"correct": 0.0}, ex.answer, PARSE_LIMIT,
                                          info={**_info(ex), "message": limit})
                continue
            alt_count[i] = len(alts)
            for j, a in enumerate(alts):
                pair_gold.append(a)
                pair_pred.append(ex.answer)
                pair_owner.append((i, j))
        verdicts = self.equivalence.compare_many(pair_gold, pair_pred) if pair_gold else []
        per_sample: dict[int, list[Verdict]] = {}
        for (i, _), v in zip(pair_owner, verdicts, strict=False):
            per_sample.setdefault(i, []).append(v)
        elapsed = (time.perf_counter() - t0) / max(n, 1)
        for i, vs in per_sample.items():
            ex = extractions[i]
            best = next((v for v in vs if v.equal), vs[0])
            err = None if best.equal else next((v.error for v in vs if v.error), None)
            info = _info(ex)
            info["method"] = best.method
            info["cached"] = best.cached
            value = self.correct if best.equal else self.incorrect
            results[i] = VerifyResult(value, {"correct": float(best.equal)}, ex.answer, err, info=info)
        for r in results:
            if r is not None and not r.latency:
                r.latency = elapsed
        return results  # type: ignore[return-value]


def _info(ex: Extraction | None) -> dict[str, Any]:
    if ex is None:
        return {}
    return {"rule": ex.rule, "span": ex.span, "trace": list(ex.trace)}
