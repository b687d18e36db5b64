"""The fast pre-pass: string normalisation and exact numeric comparison.

Most final answers in math RL are numbers written in one of a few surface forms
(``1/2``, ``\\frac{1}{2}``, ``\\dfrac12``, ``0.5``, ``50\\%``, ``1,000``,
``2\\sqrt{3}``, ``\\frac{\\pi}{4}``, ``3 \\text{ cm}``).  Deciding those with sympy
costs milliseconds per call; deciding them here costs microseconds.  The pre-pass
is *three-valued*: it answers ``True`` / ``False`` only when it is certain and
``None`` ("undecided") otherwise, so the symbolic step (math-verify) still sees every
hard case.

Normalisation follows the spirit of Hendrycks et al. (2021, "Measuring Mathematical
Problem Solving With the MATH Dataset", ``strip_string``): drop ``$``, ``\\left``,
``\\right``, spacing macros, ``\\text{}`` wrappers, degree signs and unit words,
``\\dfrac``/``\\tfrac`` → ``\\frac``, a leading ``x =``.

Tuples and intervals are compared element-wise (brackets must agree), finite sets
as multisets.  Polynomials in up to three single-letter variables are compared by
exact evaluation on a grid of (d+1)^n rational points, d the degree bound – two
polynomials of degree ≤ d per variable that agree on such a grid are identical
(a disagreement anywhere proves them different, also for rational functions).

Numeric values are evaluated by a small recursive-descent parser over
``+ - * / ^ ( ) \\frac \\sqrt \\pi \\cdot \\times`` with implicit multiplication.
Rational sub-expressions are computed *exactly* with :class:`fractions.Fraction`
(so ``1/2^{99}`` and ``1/2^{98}`` differ – math-verify's 6-digit float rounding
calls them equal), irrational ones as floats.  The decision rule is

.. math::

    \\mathrm{eq}(a, b) = \\begin{cases}
        [a = b] & a, b \\in \\mathbb{Q} \\text{ exact} \\\\
        \\text{True} & |a-b| \\le 10^{-12}\\max(1,|a|,|b|) \\\\
        \\text{False} & |a-b| > 10^{-6}\\max(1,|a|,|b|) \\\\
        \\text{undecided} & \\text{otherwise}
    \\end{cases}

and an exact decimal literal within ``1e-6`` relative of the other side is left
undecided (math-verify rounds to 6 digits; we defer to it there).  A percentage
``p%`` matches either ``p`` or ``p/100`` (as math-verify does).  Exponents are
bounded (|k| ≤ 4096, result ≤ 10⁴ bits) so ``9^{9^{9^9}}`` is undecided, not a hang.

Example:
    >>> fast_equal("\\\\dfrac{1}{2}", "0.5"), fast_equal("1,000", "1000"), fast_equal("2", "3")
    (True, True, False)
    >>> fast_equal("\\\\frac{\\\\sqrt{2}}{2}", "1/\\\\sqrt{2}")
    True
    >>> fast_equal("(x+1)^2", "x^2+2x+1"), fast_equal("\\\\{1,2\\\\}", "\\\\{2,1\\\\}")   # exact evaluation
    (True, True)
    >>> fast_equal("\\\\sin^2 x+\\\\cos^2 x", "1") is None   # symbolic: left to math-verify
    True
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

__all__ = ["NumericValue", "fast_equal", "normalize_answer", "numeric_value"]

_MAX_EXP = 4096
_MAX_BITS = 10_000

_UNWRAP_RE = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")
_SPACING_RE = re.compile(r"\\[,;:! ]|\\q?quad\b|~|\\displaystyle\b|\\left\b|\\right\b|\\middle\b")
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ\b|°|\\degree\b")
_ASSIGN_RE = re.compile(r"^[a-zA-Z](?:_\{?\w+\}?)?\s*=\s*(?=[^=]+$)")
# a number followed by up to four unit words ("5 cm", "12 square feet", "3 m/s", "9 m^2");
# words are separated by mandatory whitespace or "/", so matching is linear (no nested
# ambiguous quantifiers: the old form backtracked exponentially on long prose)
_UNIT_WORD = r"[a-z]+\.?(?:\^\{?\d\}?)?"
_UNIT_TAIL_RE = re.compile(r"^(?P<num>.{0,80}?[\d}])\s+(?P<unit>" + _UNIT_WORD + r"(?:(?:\s+|\s*/\s*)" + _UNIT_WORD
                           + r"){0,3})$")
# "1,234,567": groups of three after a first group that does not start with 0 ("0,111" is
# a decimal comma, not a thousands separator)
_THOUSANDS_RE = re.compile(r"^-?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$")
_MIXED_RE = re.compile(r"^(-?)(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}$")


# patterns used per call (compiled once: normalize_answer runs for every compared completion)
_TEXT_UNIT_RE = re.compile(r"(?<=[\d}])\s*\\(?:text|mbox|mathrm)\s*\{\s*[a-zA-Z][a-zA-Z .^/0-9]*\}\s*$")
_WS_RE = re.compile(r"\s+")
_COMMA_WS_RE = re.compile(r",\s+")
_INNER_WS_RE = re.compile(r"(?<!,)\s+")
_FRAC_DIGITS_RE = re.compile(r"\\frac\s*(\d)\s*(\d)")
_FRAC_GROUP_DIGIT_RE = re.compile(r"\\frac\s*\{([^{}]*)\}\s*(\d)")
_SQRT_DIGIT_RE = re.compile(r"\\sqrt\s*(\d)")


def normalize_answer(s: str) -> str:
    """Canonical surface form of an answer string (no maths, just text clean-up).

    Example:
        >>> normalize_answer("$x = \\\\dfrac{3}{4}\\\\text{ cm}$.")
        '\\\\frac{3}{4}'
        >>> normalize_answer("\\\\left( 1, 2 \\\\right)"), normalize_answer("32,  349")
        ('(1, 2)', '32, 349')
    """
    if not isinstance(s, str):
        s = "" if s is None else str(s)
    s = s.strip().replace("\\$", "")
    s = s.replace("$", "").replace("\\(", "").replace("\\)", "").replace("\\[", "").replace("\\]", "")
    had_text_unit = False
    # "\text{ cm}" after a number is a unit: drop it
    s2 = _TEXT_UNIT_RE.sub("", s)
    if s2 != s:
        s, had_text_unit = s2, True
    for _ in range(3):
        s2 = _UNWRAP_RE.sub(r"\1", s)
        if s2 == s:
            break
        s = s2
    s = _SPACING_RE.sub(" ", s)
    s = _DEGREE_RE.sub("", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\%", "%")
    s = _WS_RE.sub(" ", s).strip().rstrip(".").strip()
    s = _ASSIGN_RE.sub("", s)
    m = _UNIT_TAIL_RE.match(s) if len(s) <= 200 else None
    if m and not had_text_unit and len(m.group("unit").replace(" ", "")) >= 2:
        s = m.group("num")
    # drop whitespace, but keep one space after a comma: "32, 349" is a list, "32,349" a number
    s = _COMMA_WS_RE.sub(", ", s)
    s = _INNER_WS_RE.sub("", s)
    return s


class NumericValue:
    """A number that is exact (``Fraction``) when it can be, else a float."""

    __slots__ = ("deg", "exact", "value")

    def __init__(self, value: Fraction | float, exact: bool, deg: int | None = 0):
        self.value = value
        self.exact = exact
        self.deg = deg  # polynomial degree bound in the variables; None: not a polynomial

    def as_float(self) -> float:
        return float(self.value)

    def __repr__(self) -> str:
        return f"NumericValue({self.value!r}, exact={self.exact})"


class _Bail(Exception):
    """The string is not a simple numeric expression (leave it to sympy)."""


_TOKEN_RE = re.compile(r"\d+\.\d*|\.\d+|\d+|\\[a-zA-Z]+|[-+*/^(){}]|\S")
_NUM_TOKEN = re.compile(r"^(?:\d+\.\d*|\.\d+|\d+)$")


class _Parser:
    def __init__(self, s: str, env: dict[str, NumericValue] | None = None):
        self.env = env
        s = _FRAC_DIGITS_RE.sub(r"\\frac{\1}{\2}", s)
        s = _FRAC_GROUP_DIGIT_RE.sub(r"\\frac{\1}{\2}", s)
        s = _SQRT_DIGIT_RE.sub(r"\\sqrt{\1}", s)
        self.toks = _TOKEN_RE.findall(s)
        self.i = 0
        self.decimal = False

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, want: str | None = None) -> str:
        t = self.peek()
        if t is None or (want is not None and t != want):
            raise _Bail
        self.i += 1
        return t

    def parse(self) -> NumericValue:
        v = self.expr()
        if self.peek() is not None:
            raise _Bail
        return v

    def expr(self) -> NumericValue:
        v = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            w = self.term()
            v = _add(v, w) if op == "+" else _add(v, _neg(w))
        return v

    def term(self) -> NumericValue:
        v = self.unary()
        while True:
            t = self.peek()
            if t in ("*", "\\cdot", "\\times"):
                self.take()
                v = _mul(v, self.unary())
            elif t in ("/", "\\div"):
                self.take()
                v = _div(v, self.unary())
            elif t in ("(", "{", "\\frac", "\\sqrt", "\\pi") or (t is not None and len(t) == 1 and t.isalpha()):
                v = _mul(v, self.unary())  # implicit multiplication: 2\sqrt{3}, 3\pi, 2(4)
            else:
                return v

    def unary(self) -> NumericValue:
        t = self.peek()
        if t == "-":
            self.take()
            return _neg(self.unary())
        if t == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> NumericValue:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            if self.peek() in ("{", "("):
                exp = self.atom()
            else:
                t = self.take()
                if not (len(t) == 1 and t in "0123456789"):
                    raise _Bail  # x^23 (= x^2 * 3 in LaTeX), x^\pi ...: leave it to sympy
                exp = self._number(t)
            return _pow(base, exp)
        return base

    def _number(self, t: str) -> NumericValue:
        if "." in t:
            self.decimal = True
        return NumericValue(Fraction(t), True)

    def group(self) -> NumericValue:
        if self.peek() == "{":
            self.take()
            v = self.expr()
            self.take("}")
            return v
        return self.atom()

    def atom(self) -> NumericValue:
        t = self.take()
        if _NUM_TOKEN.match(t):
            if self.peek() is not None and _NUM_TOKEN.match(self.peek() or ""):
                raise _Bail  # "2 3": not a number we understand
            return self._number(t)
        if t == "(":
            v = self.expr()
            self.take(")")
            return v
        if t == "{":
            v = self.expr()
            self.take("}")
            return v
        if t == "\\frac":
            num = self.group()
            den = self.group()
            return _div(num, den)
        if t == "\\sqrt":
            if self.peek() == "[":
                raise _Bail
            return _root(self.group(), 2)
        if t == "\\pi":
            return NumericValue(math.pi, False)
        if len(t) == 1 and t.isalpha() and self.env is not None and t in self.env:
            return self.env[t]
        raise _Bail


def _deg_add(a: NumericValue, b: NumericValue) -> int | None:
    return None if a.deg is None or b.deg is None else max(a.deg, b.deg)


def _neg(a: NumericValue) -> NumericValue:
    return NumericValue(-a.value, a.exact, a.deg)


def _add(a: NumericValue, b: NumericValue) -> NumericValue:
    if a.exact and b.exact:
        return NumericValue(a.value + b.value, True, _deg_add(a, b))
    return NumericValue(a.as_float() + b.as_float(), False, _deg_add(a, b))


def _mul(a: NumericValue, b: NumericValue) -> NumericValue:
    deg = None if a.deg is None or b.deg is None else a.deg + b.deg
    if a.exact and b.exact:
        return NumericValue(a.value * b.value, True, deg)
    return NumericValue(a.as_float() * b.as_float(), False, deg)


def _div(a: NumericValue, b: NumericValue) -> NumericValue:
    if b.value == 0:
        raise _Bail
    deg = a.deg if b.deg == 0 else None
    if a.exact and b.exact:
        return NumericValue(Fraction(a.value) / Fraction(b.value), True, deg)
    return NumericValue(a.as_float() / b.as_float(), False, deg)


def _root(a: NumericValue, k: int) -> NumericValue:
    if a.value < 0 or a.deg != 0:
        raise _Bail
    if a.exact:
        fr = Fraction(a.value)
        n, d = math.isqrt(fr.numerator), math.isqrt(fr.denominator)
        if n * n == fr.numerator and d * d == fr.denominator:
            return NumericValue(Fraction(n, d), True)
    return NumericValue(math.sqrt(a.as_float()), False)


def _pow(a: NumericValue, b: NumericValue) -> NumericValue:
    if b.deg != 0:
        raise _Bail  # variable exponents: leave to sympy
    if b.exact and Fraction(b.value).denominator == 1:
        k = int(b.value)
        if abs(k) > _MAX_EXP:
            raise _Bail
        deg = None if a.deg is None or (k < 0 and a.deg) else a.deg * abs(k)
        if a.exact:
            fr = Fraction(a.value)
            bits = max(fr.numerator.bit_length(), fr.denominator.bit_length()) * abs(k)
            if bits > _MAX_BITS:
                raise _Bail
            if fr == 0 and k < 0:
                raise _Bail
            return NumericValue(fr ** k, True, deg)
        try:
            return NumericValue(a.as_float() ** k, False, deg)
        except (OverflowError, ZeroDivisionError):
            raise _Bail from None
    if a.deg != 0:
        raise _Bail
    if b.exact and Fraction(b.value) == Fraction(1, 2):
        return _root(a, 2)
    try:
        x = a.as_float() ** b.as_float()
    except (OverflowError, ZeroDivisionError):
        raise _Bail from None
    if isinstance(x, complex) or not math.isfinite(x):
        raise _Bail
    return NumericValue(x, False)


def numeric_value(s: str) -> tuple[NumericValue, bool, bool] | None:
    """Evaluate a *normalised* answer string as ``(value, is_percent, has_decimal)``.

    Returns ``None`` when the string is not a plain numeric expression.

    Example:
        >>> v, pct, dec = numeric_value("2\\\\sqrt{9}"); v.value, v.exact
        (Fraction(6, 1), True)
        >>> numeric_value("x+1") is None
        True
    """
    if not s or len(s) > 200:
        return None
    pct = False
    if s.endswith("%"):
        pct, s = True, s[:-1]
    if _THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    m = _MIXED_RE.match(s)
    try:
        if m:
            sign = -1 if m.group(1) else 1
            den = int(m.group(4))
            if den == 0:
                return None
            return NumericValue(sign * (int(m.group(2)) + Fraction(int(m.group(3)), den)), True), pct, False
        p = _Parser(s)
        v = p.parse()
    except (_Bail, ValueError, ZeroDivisionError, OverflowError, RecursionError, TypeError):
        return None
    if not v.exact and not math.isfinite(v.as_float()):
        return None
    return v, pct, p.decimal


def _compare_values(a: NumericValue, b: NumericValue, decimal: bool) -> bool | None:
    if a.exact and b.exact:
        if a.value == b.value:
            return True
        if decimal and _rel_diff(float(a.value), float(b.value)) < 1e-6:
            return None  # a rounded decimal: math-verify rounds to 6 digits, defer to it
        return False
    x, y = a.as_float(), b.as_float()
    d = _rel_diff(x, y)
    if d <= 1e-12:
        return True
    if d > 1e-6:
        return False
    return None


def _rel_diff(x: float, y: float) -> float:
    return abs(x - y) / max(1.0, abs(x), abs(y))


def fast_equal(gold: str, pred: str, normalized: bool = False) -> bool | None:
    """Three-valued equivalence of two answer strings: True, False or None (undecided).

    Example:
        >>> fast_equal("50\\\\%", "0.5"), fast_equal("50", "50\\\\%"), fast_equal("\\\\frac{1}{2^{99}}", "\\\\frac{1}{2^{98}}")
        (True, True, False)
    """
    g = gold if normalized else normalize_answer(gold)
    p = pred if normalized else normalize_answer(pred)
    if not g or not p:
        return None
    if g == p:
        return True
    sg, sp = _structure(g), _structure(p)
    if sg is not None or sp is not None:
        return _structure_equal(sg, sp)
    vg = numeric_value(g)
    vp = numeric_value(p) if vg is not None else None
    if vg is None or vp is None:
        return _poly_equal(g, p)
    (a, pa, da), (b, pb, db) = vg, vp
    decimal = da or db
    if not (pa or pb):
        return _compare_values(a, b, decimal)
    # a percentage matches either its face value or value/100
    cands_a = [a, _div(a, NumericValue(Fraction(100), True))] if pa else [a]
    cands_b = [b, _div(b, NumericValue(Fraction(100), True))] if pb else [b]
    verdicts = [_compare_values(x, y, decimal) for x in cands_a for y in cands_b]
    if any(v is True for v in verdicts):
        return True
    if all(v is False for v in verdicts):
        return False
    return None


# -- tuples, intervals and sets of simple answers -------------------------------------------
def _split_top(inner: str) -> list[str] | None:
    parts, depth, cur = [], 0, []
    for ch in inner:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return None
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts if depth == 0 else None


def _encloses(s: str) -> bool:
    """True when the first bracket of ``s`` closes only at its last character."""
    depth = 0
    for k, ch in enumerate(s):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and k != len(s) - 1:
                return False
    return depth == 0


def _structure(s: str) -> tuple[str, str, str, list[str]] | None:
    """``("set", ...)`` for ``\\{a,b\\}``; ``("seq", open, close, parts)`` for tuples/intervals."""
    if s.startswith("\\{") and s.endswith("\\}"):
        parts = _split_top(s[2:-2].replace("\\{", "{").replace("\\}", "}"))
        return ("set", "{", "}", parts) if parts else None
    if len(s) >= 2 and s[0] in "([" and s[-1] in ")]" and _encloses(s.replace("[", "(").replace("]", ")")):
        parts = _split_top(s[1:-1])
        if parts and len(parts) >= 2:
            return ("seq", s[0], s[-1], parts)
    return None


def _structure_equal(a, b) -> bool | None:
    if a is None or b is None or a[0] != b[0]:
        return None
    xs, ys = a[3], b[3]
    if a[0] == "seq":
        if len(xs) != len(ys):
            return False
        if (a[1], a[2]) != (b[1], b[2]):
            return False  # (a, b) vs [a, b]: open vs closed interval, tuple vs interval
        verdicts = [fast_equal(x, y, normalized=True) for x, y in zip(xs, ys, strict=True)]
        if all(v is True for v in verdicts):
            return True
        return False if any(v is False for v in verdicts) else None
    if len(xs) != len(ys):
        return None  # duplicates may make sets of different length equal
    table = [[fast_equal(x, y, normalized=True) for y in ys] for x in xs]
    if any(all(v is False for v in row) for row in table):
        return False
    used: set[int] = set()
    for row in table:  # equality is transitive here, so a greedy matching is exact
        j = next((j for j, v in enumerate(row) if v is True and j not in used), None)
        if j is None:
            return None
        used.add(j)
    return True


# -- polynomial identity by exact evaluation ---------------------------------------------------
_WORD_RE = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{2,}")
_VAR_RE = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z](?![a-zA-Z])")
_MAX_VARS = 3
_MAX_GRID = 256


def _variables(s: str) -> set[str] | None:
    if _WORD_RE.search(s):
        return None
    vs = set(_VAR_RE.findall(s))
    if vs & {"e", "i", "E", "I"}:
        return None  # Euler's number / the imaginary unit: sympy's business
    return vs


def _eval_at(s: str, env: dict[str, NumericValue]) -> tuple[NumericValue, bool] | None:
    try:
        p = _Parser(s, env)
        return p.parse(), p.decimal
    except (_Bail, ValueError, ZeroDivisionError, OverflowError, RecursionError, TypeError):
        return None


def _poly_equal(g: str, p: str) -> bool | None:
    """Identity of two polynomials in up to 3 variables by exact evaluation.

    Two polynomials of degree ≤ d in each of n variables that agree on a grid of
    (d+1)^n points are identical; one disagreement proves them different (also for
    rational functions, where only that direction is used).
    """
    if len(g) > 200 or len(p) > 200:
        return None
    vg, vp = _variables(g), _variables(p)
    if not vg or vg != vp or len(vg) > _MAX_VARS:
        return None
    names = sorted(vg)
    probe = {v: NumericValue(Fraction(3 + 2 * k, 7), True, 1) for k, v in enumerate(names)}
    eg, ep = _eval_at(g, probe), _eval_at(p, probe)
    if eg is None or ep is None:
        return None
    decimal = eg[1] or ep[1]
    first = _compare_values(eg[0], ep[0], decimal)
    if first is False:
        return False
    dg, dp = eg[0].deg, ep[0].deg
    if dg is None or dp is None:
        return None
    d = max(dg, dp)
    if (d + 1) ** len(names) > _MAX_GRID:
        return None
    axes = [[Fraction(2 * j + 1 + k, 5 + k) for j in range(d + 1)] for k in range(len(names))]
    undecided = first is None
    for point in _grid(axes):
        env = {v: NumericValue(x, True, 1) for v, x in zip(names, point, strict=True)}
        a, b = _eval_at(g, env), _eval_at(p, env)
        if a is None or b is None:
            return None
        verdict = _compare_values(a[0], b[0], decimal)
        if verdict is False:
            return False
        if verdict is None:
            undecided = True
    return None if undecided else True


def _grid(axes: list[list[Fraction]]):
    if not axes:
        yield ()
        return
    for x in axes[0]:
        for rest in _grid(axes[1:]):
            yield (x, *rest)
