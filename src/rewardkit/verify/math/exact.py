"""The fast equivalence path: an own parser from the answer grammar to exact values.

Most answers a math reward sees are numbers, radicals, multiples of π, complex numbers,
intervals and unions, sets, tuples, matrices, one-variable relations and polynomials,
written in LaTeX or in plain/Python syntax (``x**2 + 6*x - 7``, ``4*sqrt(11)``, ``pi/4``).
:func:`exact_equal` reads both answers with one small recursive-descent parser (no
latex2sympy, no sympy) and decides them itself; it returns ``None`` ("undecided") only
for forms it does not read, which then go to math-verify.

Grammar (tokens by one linear regex scan; ≤ 400 tokens, nesting ≤ 48, ≤ 400 element
comparisons between two lists or sets)::

    answer   := disj ((',' | ';') disj)*               a list when there are several
    disj     := union ('or' union)*                    'x<1 or x>2' is a union
    union    := rel (('\\cup' | 'U') rel)*
    rel      := expr (relop expr)*                     x>-8, -2\\le x\\le 7, x\\ne 2, x=5, x\\in S
    expr     := ['+'|'-'] term (('+'|'-') term)*
    term     := unary (('*'|'\\cdot'|'\\times'|'/'|'\\div'| implicit) unary)*
    unary    := ('-'|'+') unary | power
    power    := postfix (('^'|'**') unary)?            right-associative
    postfix  := atom ('!' | '%')*
    atom     := number | 0x.. 0b.. 0o.. | 0.\\overline{3} | variable | \\pi | e | i | \\infty
              | '(' expr ')' | '(' expr (',' expr)+ ')'  (also '[', ']': tuples and intervals)
              | '\\{' list '\\}' | \\frac g g | \\sqrt[n] g | \\binom g g | func arg | |expr|
              | \\begin{pmatrix} … \\end{pmatrix}

Values (numbers are compared in this order):

1. **exact rationals** (:class:`fractions.Fraction`) when every operation stays rational,
   so ``1/2006!`` ≠ ``1/2004!`` however small they are;
2. otherwise **high precision** (mpmath, complex, evaluated at 40 and 60 digits; the
   60-digit value's error is bounded by :math:`\\varepsilon = 10^{-15}|a_{60}-a_{40}|`): a
   value within :math:`10\\varepsilon` of 0 is 0; two non-zero values are equal when
   :math:`|a-b| \\le 10^{-30}\\max(|a|,|b|) + 10(\\varepsilon_a+\\varepsilon_b)`, different
   otherwise, so a relative test never passes values that differ by orders of magnitude;
3. decimal literals are exact rationals: two decimals are equal only when their values are
   (``-12.582507840`` ≠ ``-12.582507841``); a decimal (``0.333``) within :math:`10^{-6}`
   relative of an exact non-decimal value (``1/3``, ``\\sqrt 2``) without being equal is left
   undecided (math-verify rounds to 6 digits) unless a tolerance option decides it.

Expressions with free variables are compared by **randomised identity testing** at three
points derived from a hash of the pair.  For rational functions the evaluation is exact
(Fractions) at points whose coordinates are drawn from :math:`S=\\{1,\\dots,2^{32}\\}`; by
the Schwartz–Zippel lemma a nonzero difference with numerator of total degree
:math:`D \\le 256` vanishes at one point with probability :math:`\\le D/|S| \\le 2^{-24}`,
so a wrong "equal" has probability :math:`\\le (2^{-24})^3 = 2^{-72} \\approx 2\\times10^{-22}`
per pair (degrees above 256 are not decided here).  Expressions with radicals,
exponentials or trigonometric functions of variables are evaluated in high precision at
three points in :math:`[1, 3]^n`; a nonzero analytic difference with Z zeros in that box
and slope at least m there falls inside the :math:`\\tau = 10^{-30}` band with probability
:math:`\\le Z\\tau/m` per point, i.e. :math:`\\le (Z\\tau/m)^3 < 10^{-9}` unless the
difference is flatter than :math:`10^{-27}` near all its zeros.

Example:
    >>> exact_equal("x**2 + 6*x - 7", "(x+7)(x-1)"), exact_equal("0x1854", "6228"), exact_equal("a3", "3a")
    (True, True, False)
    >>> exact_equal("x > -8", "(-8, \\\\infty)"), exact_equal("\\\\frac{1}{2006!}", "\\\\frac{1}{2004!}")
    (True, False)
    >>> exact_equal("e^{i\\\\pi}", "-1"), exact_equal("0.\\\\overline{9}", "1")
    (True, True)
    >>> exact_equal("4.1\\\\times10^{8}", "410{,}000{,}000")
    True
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from rewardkit.core.cache import LRUCache
from rewardkit.core.errors import ConfigError

__all__ = ["FORMS", "LOCALES", "PRECISIONS", "CompareOptions", "exact_equal", "parse_answer_value"]

#: accepted values of the ``form`` option
FORMS = ("value", "gold")
#: accepted values of the ``locale`` option: the decimal mark is ``.`` for "en", ``,`` otherwise
LOCALES = ("en", "de", "fr", "es", "it", "pt", "ru", "nl", "pl", "comma")
#: accepted values of the ``precision`` option
PRECISIONS = ("exact", "gold")

_MAX_CHARS = 1000
_MAX_TOKENS = 400
_MAX_DEPTH = 48
_MAX_EXP = 4096
_MAX_BITS = 40_000
_MAX_FACT = 3000
_MAX_DEG = 256
_POINTS = 3
_MAX_PAIRS = 400
_LO_DPS, _HI_DPS = 40, 60
_EQ_REL = 1e-30
_DEFER_REL = 1e-6


@dataclass(frozen=True)
class CompareOptions:
    """How two answers are compared (all default to "value only, exact").

    Attributes:
        form: ``"value"`` (default): any spelling of the same value passes; ``"gold"``: the
            answer must also have the gold's form when the gold has one of these forms – a
            reduced fraction ``a/b``, a prime factorisation (``2^3\\cdot 5``, any order and
            product sign), a sorted list (same order), a decimal with k significant figures.
        tolerance: relative tolerance for numbers (``|a-b| <= tolerance*max(|a|,|b|)``);
            ``None`` (default) compares exactly.
        sig_figs: numbers are equal when they agree after rounding both to this many
            significant figures; ``None`` (default) compares exactly.
        locale: ``"en"`` (default: ``.`` is the decimal mark, ``1,000`` a thousands group) or a
            decimal-comma locale (``"de"``, ``"fr"``, …, ``"comma"``: ``2,74`` = 2.74,
            ``1000,99`` = 1000.99).
        precision: ``"exact"`` (default) or ``"gold"``: when the gold is a decimal with n
            digits after the point, an answer that rounds to it at n digits passes.

    Example:
        >>> exact_equal("0.0123", "0.012345", CompareOptions(sig_figs=3))
        True
        >>> CompareOptions(form="shape")
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.ConfigError: form: got 'shape'; expected one of ('value', 'gold')
    """

    form: str = "value"
    tolerance: float | None = None
    sig_figs: int | None = None
    locale: str = "en"
    precision: str = "exact"

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ConfigError("form", f"got {self.form!r}", f"one of {FORMS}")
        if self.locale not in LOCALES:
            raise ConfigError("locale", f"got {self.locale!r}", f"one of {LOCALES}")
        if self.precision not in PRECISIONS:
            raise ConfigError("precision", f"got {self.precision!r}", f"one of {PRECISIONS}")
        tol = self.tolerance
        if tol is not None and not (isinstance(tol, (int, float)) and not isinstance(tol, bool) and 0 <= tol < 1):
            raise ConfigError("tolerance", f"got {tol!r}", "a relative tolerance in [0, 1) or null")
        sf = self.sig_figs
        if sf is not None and not (isinstance(sf, int) and not isinstance(sf, bool) and 1 <= sf <= 30):
            raise ConfigError("sig_figs", f"got {sf!r}", "an int in 1..30 or null")

    @property
    def is_default(self) -> bool:
        return self == _DEFAULT


_DEFAULT = CompareOptions()


class _Bail(Exception):
    """Not a form this parser reads (leave it to the next step)."""


class _NotQ(Exception):
    """The value leaves the rationals (evaluate in high precision instead)."""


# -- clean-up -------------------------------------------------------------------------------------
_UNWRAP_RE = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|operatorname|boxed|bm)\s*\{([^{}]*)\}")
_DEGREE_RE = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|°|\\degree\b|\\circ\b")
_SIZING_RE = re.compile(r"\\(?:left|right|middle|displaystyle|textstyle|big|Big|bigg|Bigg)(?![a-zA-Z])")
_THIN_RE = re.compile(r"(?<=\d)(?:\{,\}|\\[,;: ]|\\thinspace|~|\u2009|\u202f|\u00a0)(?=\d{3}(?!\d))")
_SPACE_RE = re.compile(r"\\[,;:! ]|\\q?quad(?![a-zA-Z])|~")
_THOUSANDS_RE = re.compile(r"^[-+]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$")
#: "<name> = <rest>" with no comma or "=" in the name: the value of an assignment
_NAMED_RE = re.compile(r"^([^=,]*=\s*)([^=]*)$")
_EU_THOUSANDS_RE = re.compile(r"^[-+]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?$")
_BASED_RE = re.compile(r"^\(?([0-9A-Za-z]+)\)?_\{?\(?(\d{1,2})\)?\}?$")
_CODE_RE = re.compile(r"^[A-Za-z0-9]+$")
_PERCENT_WORD_RE = re.compile(r"(?<=\d)\s*(?:pct|percent)\b")
#: a unit after a final number ("22 m", "22\\,\\mathrm{cm}^2", "3 hours"): dropped, the number is the answer.  Not
#: single letters that are also constants or common variables (e, i, x, n, in)
_UNIT_RE = re.compile(
    r"(?<=\d)\s*(?:(?:k|c|m|n|micro)?m|(?:k|m)?g|s|ms|sec|secs|seconds?|min|mins|minutes?|h|hr|hrs|hours?|days?|weeks?|"
    r"years?|mL|ml|L|N|kN|J|kJ|W|kW|V|mV|A|mA|Pa|kPa|Hz|kHz|mph|kph|km/h|m/s|ft|feet|foot|inches|yd|yards?|"
    r"miles?|mi|lbs?|oz|units?|dollars?|cents?|meters?|metres?|centimeters?|kilometers?|grams?|kilograms?|"
    r"liters?|litres?|degrees?)(?:\s*\^\s*\{?\s*[23]\s*\}?)?\s*$")
_AMBIGUOUS_COMMA = re.compile(r"^\s*\$?\s*-?(?:0|\d{4,}|\d{1,3}),(?:\d{1,2}|\d{4,})\s*\$?\s*$|^\s*\$?\s*-?0,\d+\s*\$?\s*$")
# patterns used per call (compiled once: the fast path runs for every completion)
_FRAC_RE = re.compile(r"\\[dtc]frac(?![a-zA-Z])")
_BINOM_RE = re.compile(r"\\[dt]binom(?![a-zA-Z])")
_COMMA_BANG_RE = re.compile(r"(?<=\d),\\!\s*(?=\d{3}(?!\d))")
_BRACE_COMMA_RE = re.compile(r"(?<=\d)\{,\}(?=\d)")
_DECIMAL_COMMA_RE = re.compile(r"(?<=\d),(?=\d)")
_EXPONENT_RE = re.compile(r"[eE]([-+]?\d+)$")
_PY_CALL_RE = re.compile(r"\b(?:sqrt|pi|exp|log)\(")
_SIG_RE = re.compile(r"[-+]?(\d*)\.(\d+)|[-+]?(\d+)")
_DECIMALS_RE = re.compile(r"[-+]?\d*\.(\d+)")
_SIMPLE_TEXT_RE = re.compile(r"\\(?:text|mathrm|texttt)\s*\{([^{}]*)\}")
_COEF_VARS_RE = re.compile(r"\d+[A-Za-z]{1,3}")
_LITERAL_INT_RE = re.compile(r"0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|\d+")
_UNICODE = {"\u2212": "-", "\u00d7": "\\times ", "\u00b7": "\\cdot ", "\u22c5": "\\cdot ", "\u00f7": "/",
            "\u2264": "\\le ", "\u2265": "\\ge ", "\u2260": "\\ne ", "\u221e": "\\infty ", "\u03c0": "\\pi ",
            "\u221a": "\\sqrt ", "\u222a": "\\cup ", "\u2208": "\\in "}


def _clean(s: str, locale: str) -> str:
    s = s.strip()
    for k, v in _UNICODE.items():
        if k in s:
            s = s.replace(k, v)
    s = s.replace("\\\\", " \\cr ")  # a matrix row break, before any other backslash rule
    s = s.replace("\\$", "").replace("$", "")
    s = s.replace("Interval.open(", "IntervalOpen(").replace("Interval.Lopen(", "IntervalLopen(")
    s = s.replace("Interval.Ropen(", "IntervalRopen(")
    for a in ("\\(", "\\)", "\\[", "\\]"):
        s = s.replace(a, " ")
    s = _SIZING_RE.sub("", s)
    s = _FRAC_RE.sub(r"\\frac", s)
    s = _BINOM_RE.sub(r"\\binom", s)
    for _ in range(3):
        s2 = _UNWRAP_RE.sub(r" \1 ", s)
        if s2 == s:
            break
        s = s2
    if locale == "en":
        s = _COMMA_BANG_RE.sub("", s)  # 11,\!111: a thousands group
    s = _DEGREE_RE.sub("", s).replace("\\%", "%").replace("\\!", "")
    s = _PERCENT_WORD_RE.sub("%", s)
    if locale == "en":
        s = _THIN_RE.sub("", s)
    else:
        s = _BRACE_COMMA_RE.sub(".", s)
        s = _THIN_RE.sub("", s)
    s = _SPACE_RE.sub(" ", s).strip()
    s = _UNIT_RE.sub("", s).strip()
    while s.endswith(".") and not s.endswith(".."):
        s = s[:-1].rstrip()
    if locale == "en":
        if _THOUSANDS_RE.match(s):
            s = s.replace(",", "")
        else:  # "x = 808,024,579": the grouped number named by an assignment
            named = _NAMED_RE.match(s)
            if named is not None and _THOUSANDS_RE.match(named.group(2)):
                s = named.group(1) + named.group(2).replace(",", "")
    else:
        if _EU_THOUSANDS_RE.match(s):
            s = s.replace(".", "")
        s = _DECIMAL_COMMA_RE.sub(".", s)
    return s


# -- tokens ----------------------------------------------------------------------------------------
_TOKEN_RE = re.compile(
    r"(?P<base>0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+)(?![0-9a-zA-Z])"
    r"|(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<env>\\(?:begin|end)\s*\{[a-zA-Z]+\})"
    r"|(?P<cmd>\\[a-zA-Z]+|\\[{}|])"
    r"|(?P<op>\*\*|<=|>=|!=|==|[-+*/^_(){}\[\]<>=!,;|&%'])"
    r"|(?P<word>[a-zA-Z]+)"
    r"|(?P<ws>\s+)"
    r"|(?P<other>.)")

_FUNCS = {"sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "asin", "acos", "atan",
          "sinh", "cosh", "tanh", "exp", "log", "ln", "sqrt", "abs", "Abs"}
_RELOPS = {"<": "<", ">": ">", "<=": "<=", ">=": ">=", "!=": "!=", "=": "=", "==": "=",
           "\\lt": "<", "\\gt": ">", "\\le": "<=", "\\leq": "<=", "\\leqslant": "<=", "\\ge": ">=",
           "\\geq": ">=", "\\geqslant": ">=", "\\ne": "!=", "\\neq": "!=", "\\in": "in", "\\approx": "~"}
_GREEK = {"alpha", "beta", "gamma", "delta", "theta", "phi", "varphi", "lambda", "mu", "sigma", "omega",
          "tau", "rho", "psi", "xi", "eta", "zeta", "kappa", "nu", "chi", "epsilon", "varepsilon"}
_UNITS = {"cm", "mm", "km", "kg", "mg", "ml", "ft", "yd", "mi", "lb", "lbs", "oz", "hr", "hrs", "min", "sec",
          "deg", "rad", "cal", "in", "mph", "sq", "cu", "th", "st", "nd", "rd", "and", "or", "the", "is", "are"}
# sympy's str of sets and matrices (Interval.open etc. are renamed by _clean); brackets of intervals
_SYMPY_NAMES = {"Interval": ("[", "]"), "IntervalOpen": ("(", ")"), "IntervalLopen": ("(", "]"),
                "IntervalRopen": ("[", ")"), "Union": ("", ""), "FiniteSet": ("", ""), "Matrix": ("", "")}
_MATRIX_ENVS = ("pmatrix", "bmatrix", "Bmatrix", "vmatrix", "matrix", "smallmatrix")


def _tokenize(s: str, python: bool) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    words = 0
    prev_end, prev_kind = -1, ""
    for m in _TOKEN_RE.finditer(s):
        kind = m.lastgroup or "other"
        t = m.group()
        if kind == "ws":
            continue
        spaced_after_number = prev_kind == "num" and m.start() > prev_end
        prev_end, prev_kind = m.end(), kind
        if kind == "env":
            t = "\\" + t[1:4] + ":" + t[t.index("{") + 1:-1] if t.startswith("\\end") else \
                "\\begin:" + t[t.index("{") + 1:-1]
        if kind == "other":
            raise _Bail
        if kind == "cmd" and t in ("\\cdot", "\\times", "\\ast"):
            kind, t = "op", "*"
        elif kind == "cmd" and t == "\\div":
            kind, t = "op", "/"
        elif kind == "word":
            if t in _FUNCS or t in _SYMPY_NAMES or t in ("pi", "oo", "inf", "infty", "infinity", "or", "and", "U"):
                kind = "name"
            elif python and t in ("I", "E"):
                kind = "name"
            elif len(t) > 1:
                words += 1
                if len(t) > 3 or t in _UNITS or words > 2 or spaced_after_number:
                    raise _Bail  # a word: units, prose or a code (not a product of letters)
                for ch in t:  # "xy": implicit product of one-letter variables
                    out.append(("var", ch))
                    if len(out) > _MAX_TOKENS:
                        raise _Bail
                continue
            else:
                kind = "var"
        out.append((kind, t))
        if len(out) > _MAX_TOKENS:
            raise _Bail
    return out


# -- AST ----------------------------------------------------------------------------------------
# scalar nodes: ("num", Fraction, is_decimal, text) ("var", name) ("pi",) ("e",) ("i",) ("inf",)
#   ("add", a, b) ("mul", a, b) ("div", a, b) ("neg", a) ("pow", a, b) ("fn", name, a)
#   ("root", a, n) ("fact", a) ("binom", a, b) ("pct", a)
# structures: ("seq", open, close, items) ("set", items) ("list", items) ("mat", rows)
#   ("ivl", [(lo, lo_closed, hi, hi_closed), ...]) ("rel", [exprs], [ops]) ("or", items)
#   ("cup", items) ("reals",) ("empty",)
_STRUCT = {"seq", "set", "list", "mat", "ivl", "rel", "or", "cup", "reals", "empty"}


class _Parser:
    def __init__(self, toks: list[tuple[str, str]]):
        self.toks = toks
        self.i = 0
        self.depth = 0

    def peek(self, k: int = 0) -> tuple[str, str] | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def pv(self) -> str | None:
        t = self.peek()
        return None if t is None else t[1]

    def take(self, want: str | None = None) -> tuple[str, str]:
        t = self.peek()
        if t is None or (want is not None and t[1] != want):
            raise _Bail
        self.i += 1
        return t

    def enter(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _Bail

    # structure
    def answer(self) -> tuple:
        items = [self.disj()]
        while self.pv() in (",", ";"):
            self.take()
            items.append(self.disj())
        if self.peek() is not None:
            raise _Bail
        return items[0] if len(items) == 1 else ("list", items)

    def disj(self) -> tuple:
        items = [self.union()]
        while self.pv() in ("or", "\\lor", "\\vee"):
            self.take()
            items.append(self.union())
        return items[0] if len(items) == 1 else ("or", items)

    def union(self) -> tuple:
        items = [self.rel()]
        while self.pv() in ("\\cup", "U"):
            self.take()
            items.append(self.rel())
        return items[0] if len(items) == 1 else ("cup", items)

    def rel(self) -> tuple:
        exprs = [self.expr()]
        ops: list[str] = []
        while self.pv() in _RELOPS:
            ops.append(_RELOPS[self.take()[1]])
            exprs.append(self.expr())
        return exprs[0] if not ops else ("rel", exprs, ops)

    # arithmetic
    def expr(self) -> tuple:
        self.enter()
        if self.pv() in ("-", "+"):
            neg = self.take()[1] == "-"
            v = self.term()
            v = ("neg", v) if neg else v
        else:
            v = self.term()
        while self.pv() in ("+", "-"):
            op = self.take()[1]
            w = self.term()
            v = ("add", v, w if op == "+" else ("neg", w))
        self.depth -= 1
        return v

    def _starts_atom(self) -> bool:
        t = self.peek()
        if t is None:
            return False
        kind, val = t
        if kind in ("num", "var", "base", "name"):
            return val not in ("or", "and", "U")
        if kind == "cmd":
            return val not in _RELOPS and val not in ("\\cup", "\\}", "\\\\", "\\lor", "\\vee", "\\pm", "\\mp", "\\cr")
        return val in ("(", "{")

    def term(self) -> tuple:
        v = self.unary()
        while True:
            t = self.pv()
            if t == "*":
                self.take()
                v = ("mul", v, self.unary())
            elif t == "/":
                self.take()
                v = ("div", v, self.unary())
            elif self._starts_atom():
                if self.peek()[0] == "num" and _ends_with_number(v):  # type: ignore[index]
                    raise _Bail  # "2 3": not a product we trust
                v = ("mul", v, self.power())
            else:
                return v

    def unary(self) -> tuple:
        t = self.pv()
        if t == "-":
            self.take()
            return ("neg", self.unary())
        if t == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> tuple:
        base = self.postfix()
        if self.pv() in ("^", "**"):
            self.take()
            self.enter()
            if self.pv() == "{":
                exp = self.braced()
            else:
                exp = self.unary_exp()
            self.depth -= 1
            return self.postfix_tail(("pow", base, exp))
        return base

    def unary_exp(self) -> tuple:
        t = self.pv()
        if t == "-":
            self.take()
            return ("neg", self.unary_exp())
        if t == "+":
            self.take()
            return self.unary_exp()
        return self.power()

    def postfix(self) -> tuple:
        return self.postfix_tail(self.atom())

    def postfix_tail(self, v: tuple) -> tuple:
        while self.pv() in ("!", "%"):
            v = ("fact", v) if self.take()[1] == "!" else ("pct", v)
        if self.pv() in ("'", "_"):
            raise _Bail
        return v

    def braced(self) -> tuple:
        self.take("{")
        v = self.expr()
        self.take("}")
        return v

    def group(self) -> tuple:
        """A macro argument: ``{...}`` or a single digit / letter (``\\frac12``)."""
        t = self.peek()
        if t is None:
            raise _Bail
        if t[1] == "{":
            return self.braced()
        if t[0] == "num":
            self.i += 1
            txt = t[1]
            if len(txt) > 1:
                if not txt.isdigit():
                    raise _Bail
                self.toks.insert(self.i, ("num", txt[1:]))
            return ("num", Fraction(int(txt[0])), False, txt[0])
        if t[0] == "var":
            self.i += 1
            return ("var", t[1])
        if t[1] in ("\\pi",):
            self.i += 1
            return ("pi",)
        raise _Bail

    def func_arg(self) -> tuple:
        t = self.pv()
        if t in ("(", "{"):
            close = ")" if t == "(" else "}"
            self.take()
            v = self.expr()
            self.take(close)
            return v
        # "\sin 2x": the implicit product of the following plain atoms
        v = self.power()
        while self.peek() is not None and self.peek()[0] == "var":  # type: ignore[index]
            v = ("mul", v, self.power())
        return v

    def seq_or_paren(self, open_: str) -> tuple:
        self.enter()
        items = [self.expr()]
        while self.pv() == ",":
            self.take()
            items.append(self.expr())
        close = self.take()[1]
        if close not in (")", "]"):
            raise _Bail
        self.depth -= 1
        if len(items) == 1:
            if (open_ == "(" and close == ")") or (open_ == "[" and close == "]"):
                return items[0]
            raise _Bail
        return ("seq", open_, close, items)

    def atom(self) -> tuple:
        kind, t = self.take()
        if kind == "num":
            return _number(t)
        if kind == "base":
            return ("num", Fraction(int(t, 0)), False, t)
        if kind == "var":
            return _CONST_NODES.get(t, ("var", t)) if t in ("e", "i") else ("var", t)
        if kind == "name":
            if t in _FUNCS:
                return self.function(t)
            if t in _SYMPY_NAMES:
                return self.sympy_object(t)
            if t in _NAME_NODES:
                return _NAME_NODES[t]
            raise _Bail
        if kind == "env":
            return self.matrix(t)
        if kind == "cmd":
            return self.command(t[1:])
        if t in ("(", "["):
            return self.seq_or_paren(t)
        if t == "{":
            self.enter()
            v = self.expr()
            if self.pv() == ",":  # {1, 2}: a set in plain / Python syntax
                items = [v]
                while self.pv() == ",":
                    self.take()
                    items.append(self.expr())
                v = ("set", items)
            self.take("}")
            self.depth -= 1
            return v
        if t == "|":
            v = self.expr()
            self.take("|")
            return ("fn", "abs", v)
        raise _Bail

    def sympy_object(self, name: str) -> tuple:
        """``Interval(a, b)``, ``Interval.open(a, b)``, ``Union(A, B)``, ``FiniteSet(1, 2)``,
        ``Matrix([[1, 2], [3, 4]])``: sympy's ``str`` of a set or a matrix."""
        self.take("(")
        items = [self.disj()]
        while self.pv() == ",":
            self.take()
            items.append(self.disj())
        self.take(")")
        if name == "FiniteSet":
            return ("set", items)
        if name == "Union":
            return ("cup", items)
        if name == "Matrix":
            rows = items[0]
            if len(items) != 1 or rows[0] != "seq" or rows[1] != "[":
                raise _Bail
            out = [r[3] if r[0] == "seq" and r[1] == "[" else [r] for r in rows[3]]
            if any(len(r) != len(out[0]) for r in out):
                raise _Bail
            return ("mat", out)
        if len(items) != 2:
            raise _Bail
        lo, hi = _SYMPY_NAMES[name]
        return ("seq", lo, hi, items)

    def command(self, name: str) -> tuple:
        if name in _CMD_NODES:
            return _CMD_NODES[name]
        if name in _GREEK:
            return ("var", name)
        handler = getattr(self, "cmd_" + name, None) if name.isalpha() else None
        if handler is not None:
            return handler()
        if name in _FUNCS or name in ("arcsin", "arccos", "arctan"):
            return self.function(name)
        if name == "{":
            return self.brace_set()
        raise _Bail

    def cmd_frac(self) -> tuple:
        return ("div", self.group(), self.group())

    def cmd_binom(self) -> tuple:
        return ("binom", self.group(), self.group())

    def cmd_sqrt(self) -> tuple:
        if self.pv() == "[":
            self.take()
            n = self.expr()
            self.take("]")
            return ("root", self.group(), n)
        return ("root", self.group(), _TWO)

    def cmd_mathbb(self) -> tuple:
        self.take("{")
        r = self.take()
        self.take("}")
        if r[1] != "R":
            raise _Bail
        return ("reals",)

    def cmd_langle(self) -> tuple:
        items = [self.expr()]
        while self.pv() == ",":
            self.take()
            items.append(self.expr())
        self.take("\\rangle")
        return ("seq", "(", ")", items) if len(items) > 1 else items[0]

    def cmd_lvert(self) -> tuple:
        v = self.expr()
        self.take("\\rvert")
        return ("fn", "abs", v)

    def cmd_vert(self) -> tuple:
        v = self.expr()
        self.take("\\vert")
        return ("fn", "abs", v)

    def function(self, name: str) -> tuple:
        name = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "Abs": "abs"}.get(name, name)
        if name == "sqrt":
            return ("root", self.func_arg(), _TWO)
        power = None
        if name == "log" and self.pv() == "_":
            self.take()
            b = self.group()
            return ("div", ("fn", "ln", self.func_arg()), ("fn", "ln", b))
        if self.pv() in ("^", "**"):  # \sin^2 x
            self.take()
            power = self.braced() if self.pv() == "{" else self.unary_exp()
            if power[0] == "neg" and power[1][0] == "num" and power[1][1] == 1:  # \tan^{-1}: the inverse
                if name not in ("sin", "cos", "tan"):
                    raise _Bail
                return ("fn", "arc" + name, self.func_arg())
        v: tuple = ("fn", "ln" if name == "log" else name, self.func_arg())
        return ("pow", v, power) if power is not None else v

    def brace_set(self) -> tuple:
        if self.pv() == "\\}":
            self.take()
            return ("empty",)
        items = [self.disj()]
        while self.pv() in (",", ";"):
            self.take()
            items.append(self.disj())
        self.take("\\}")
        return ("set", items)

    def matrix(self, begin: str) -> tuple:
        env = begin.split(":", 1)[1]
        if env not in _MATRIX_ENVS:
            raise _Bail
        end = "\\end:" + env
        rows: list[list[tuple]] = [[]]
        while True:
            if self.pv() == end:
                self.take()
                break
            rows[-1].append(self.expr())
            t = self.take()[1]
            if t == "&":
                continue
            if t == "\\cr":
                if self.pv() != end:
                    rows.append([])
                continue
            if t == end:
                break
            raise _Bail
        if not rows or any(len(r) != len(rows[0]) for r in rows) or not rows[0]:
            raise _Bail
        return ("mat", rows)


def _ends_with_number(v: tuple) -> bool:
    while v[0] in ("mul", "add"):
        v = v[2]
    return v[0] == "num" or (v[0] == "neg" and v[1][0] == "num")


_OVERLINE_RE = re.compile(r"(\d*)\.(\d*)\\(?:overline|dot)\s*\{(\d+)\}")


_TWO = ("num", Fraction(2), False, "2")
_CONST_NODES = {"e": ("e",), "i": ("i",)}
_NAME_NODES = {"pi": ("pi",), "oo": ("inf",), "inf": ("inf",), "infty": ("inf",), "infinity": ("inf",),
               "I": ("i",), "E": ("e",)}
_CMD_NODES = {"pi": ("pi",), "infty": ("inf",), "emptyset": ("empty",), "varnothing": ("empty",)}


def _number(t: str) -> tuple:
    dec = "." in t or "e" in t or "E" in t
    m = _EXPONENT_RE.search(t)
    if len(t) > 2000 or (m is not None and abs(int(m.group(1))) > _MAX_EXP):
        raise _Bail  # 9e514096: a number with half a million digits
    return ("num", Fraction(t), dec, t)


def _repeating(s: str) -> str:
    """``0.1\\overline{6}`` → an exact ``\\frac{..}{..}`` (repeating decimals are exact)."""
    def sub(m: re.Match) -> str:
        ip, fp, rep = m.group(1) or "0", m.group(2), m.group(3)
        n = len(fp)
        val = Fraction(int(ip)) + (Fraction(int(fp), 10 ** n) if fp else 0)
        val += Fraction(int(rep), (10 ** len(rep) - 1) * 10 ** n)
        return f"\\frac{{{val.numerator}}}{{{val.denominator}}}"
    return _OVERLINE_RE.sub(sub, s)


# -- parsing entry point -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Answer:
    node: tuple
    text: str


def parse_answer_value(s: Any, locale: str = "en") -> tuple | None:
    """The parsed answer as a small tuple tree (see the module grammar), or ``None``.

    Example:
        >>> parse_answer_value("x > -8")[0], parse_answer_value("\\\\begin{pmatrix}1\\\\\\\\2\\\\end{pmatrix}")[0]
        ('rel', 'mat')
        >>> parse_answer_value("The cat sat") is None
        True
    """
    a = _parse(s, locale, cached=False)  # a tree handed out may be changed by its caller: not the cached one
    return None if a is None else a.node


#: parsed golds by ``(text, locale)``: the gold of a GRPO group is compared with every distinct
#: answer of the group and is parsed once, not once per pair (parse trees are never mutated).
#: Answers are not kept: each is new to the verifier (repeats hit the verdict cache), and keeping
#: them would only grow the heap the garbage collector walks
_PARSE_CACHE: LRUCache[tuple[str, str], _Answer | None] = LRUCache(1024)


def _parse(s: Any, locale: str, cached: bool = True) -> _Answer | None:
    if not isinstance(s, str):
        if s is None or isinstance(s, bool):
            return None
        s = str(s)
    if len(s) > _MAX_CHARS:
        return None
    if not cached:
        return _parse_uncached(s, locale)
    return _PARSE_CACHE.get_or((s, locale), lambda: _parse_uncached(s, locale))


def _parse_uncached(s: str, locale: str) -> _Answer | None:
    c = _clean(s, locale)
    if not c:
        return None
    if "\\overline" in c or "\\dot" in c:
        c = _repeating(c)
    python = "**" in c or _PY_CALL_RE.search(c) is not None or "*" in c
    try:
        toks = _tokenize(c, python)
        if not toks:
            return None
        node = _Parser(toks).answer()
    except (_Bail, ValueError, ZeroDivisionError, RecursionError, IndexError):
        return None
    return _Answer(node, c)


# -- evaluation ------------------------------------------------------------------------------------
def _qeval(n: tuple, env: dict[str, Fraction]) -> tuple[Fraction, bool]:
    """Exact rational value and whether a decimal literal took part."""
    k = n[0]
    if k == "num":
        return n[1], n[2]
    if k == "var":
        if n[1] not in env:
            raise _NotQ
        return env[n[1]], False
    if k == "neg":
        v, d = _qeval(n[1], env)
        return -v, d
    f = _Q_OPS.get(k)
    if f is None or (k == "fn" and n[1] != "abs"):
        raise _NotQ
    return f(n, env)


def _q_arith(n: tuple, env: dict[str, Fraction]) -> tuple[Fraction, bool]:
    a, da = _qeval(n[1], env)
    b, db = _qeval(n[2], env)
    if n[0] == "add":
        r = a + b
    elif n[0] == "mul":
        r = a * b
    else:
        if b == 0:
            raise _Bail
        r = a / b
    if max(r.numerator.bit_length(), r.denominator.bit_length()) > _MAX_BITS:
        raise _Bail
    return r, da or db


def _q_pow(n: tuple, env: dict[str, Fraction]) -> tuple[Fraction, bool]:
    a, da = _qeval(n[1], env)
    b, db = _qeval(n[2], env)
    if b.denominator == 1:
        return _qpow(a, int(b)), da or db
    if b.denominator == 2 and a >= 0:
        r = _qsqrt(a)
        if r is not None:
            return _qpow(r, b.numerator), da or db
    raise _NotQ


def _q_root(n: tuple, env: dict[str, Fraction]) -> tuple[Fraction, bool]:
    a, da = _qeval(n[1], env)
    m, _ = _qeval(n[2], env)
    r = None
    if m == 2 and a >= 0:
        r = _qsqrt(a)
    elif m.denominator == 1 and 2 <= m <= 64:
        r = _qroot(a, int(m))
    if r is None:
        raise _NotQ
    return r, da


def _q_fact(n: tuple, env: dict[str, Fraction]) -> tuple[Fraction, bool]:
    a, da = _qeval(n[1], env)
    if a.denominator != 1 or a < 0 or a > _MAX_FACT:
        raise _Bail
    return Fraction(math.factorial(int(a))), da


def _q_binom(n: tuple, env: dict[str, Fraction]) -> tuple[Fraction, bool]:
    a, da = _qeval(n[1], env)
    b, db = _qeval(n[2], env)
    if a.denominator != 1 or b.denominator != 1 or a < 0 or a > _MAX_FACT:
        raise _Bail
    return Fraction(math.comb(int(a), int(b)) if b >= 0 else 0), da or db


def _q_abs(n: tuple, env: dict[str, Fraction]) -> tuple[Fraction, bool]:
    a, da = _qeval(n[2], env)
    return abs(a), da


_Q_OPS = {"add": _q_arith, "mul": _q_arith, "div": _q_arith, "pow": _q_pow, "root": _q_root, "fact": _q_fact,
          "binom": _q_binom, "fn": _q_abs}


def _qpow(a: Fraction, k: int) -> Fraction:
    if abs(k) > _MAX_EXP:
        raise _Bail
    if max(a.numerator.bit_length(), a.denominator.bit_length()) * abs(k) > _MAX_BITS:
        raise _Bail
    if a == 0 and k < 0:
        raise _Bail
    return a ** k


def _qsqrt(a: Fraction) -> Fraction | None:
    n, d = math.isqrt(a.numerator), math.isqrt(a.denominator)
    return Fraction(n, d) if n * n == a.numerator and d * d == a.denominator else None


def _qroot(a: Fraction, m: int) -> Fraction | None:
    sign = -1 if a < 0 else 1
    if sign < 0 and m % 2 == 0:
        return None
    a = abs(a)
    out = []
    for x in (a.numerator, a.denominator):
        r = round(x ** (1.0 / m)) if x.bit_length() < 1000 else None
        if r is None:
            return None
        hit = next((c for c in (r - 1, r, r + 1) if c >= 0 and c ** m == x), None)
        if hit is None:
            return None
        out.append(hit)
    return sign * Fraction(out[0], out[1])


def _meval(n: tuple, env: dict[str, Any], mp: Any) -> Any:
    """Complex value in mpmath at the context's precision."""
    k = n[0]
    if k == "num":
        return mp.mpf(n[1].numerator) / n[1].denominator
    if k == "var":
        if n[1] not in env:
            raise _Bail
        return env[n[1]]
    if k == "pi":
        return mp.pi
    if k == "e":
        return mp.e
    if k == "i":
        return mp.mpc(0, 1)
    if k == "neg":
        return -_meval(n[1], env, mp)
    f = _M_OPS.get(k)
    if f is None:
        raise _Bail  # infinity, structures
    return f(n, env, mp)


def _m_arith(n: tuple, env: dict[str, Any], mp: Any) -> Any:
    a, b = _meval(n[1], env, mp), _meval(n[2], env, mp)
    if n[0] == "add":
        return a + b
    if n[0] == "mul":
        return a * b
    if b == 0:
        raise _Bail
    return a / b


def _m_pow(n: tuple, env: dict[str, Any], mp: Any) -> Any:
    a, b = _meval(n[1], env, mp), _meval(n[2], env, mp)
    if abs(b) > _MAX_EXP or (abs(a) > 0 and abs(mp.re(b) * mp.log(abs(a)))) > 1e5:
        raise _Bail
    if a == 0:
        if mp.re(b) <= 0:
            raise _Bail
        return mp.mpf(0)
    if mp.im(b) == 0 and mp.re(b) == int(mp.re(b)):
        return a ** int(mp.re(b))
    return mp.power(a, b)


def _m_root(n: tuple, env: dict[str, Any], mp: Any) -> Any:
    a, m = _meval(n[1], env, mp), _meval(n[2], env, mp)
    if m == 0:
        raise _Bail
    if mp.im(a) == 0 and mp.re(a) < 0 and mp.im(m) == 0 and int(mp.re(m)) == mp.re(m) and int(mp.re(m)) % 2:
        return -mp.power(-mp.re(a), 1 / mp.re(m))  # real odd root of a negative number
    return mp.power(a, 1 / m)


def _m_fact(n: tuple, env: dict[str, Any], mp: Any) -> Any:
    a = _meval(n[1], env, mp)
    if mp.im(a) != 0 or mp.re(a) < 0 or mp.re(a) > _MAX_FACT:
        raise _Bail
    return mp.factorial(mp.re(a)) if mp.re(a) == int(mp.re(a)) else mp.gamma(mp.re(a) + 1)


def _m_binom(n: tuple, env: dict[str, Any], mp: Any) -> Any:
    a, b = _meval(n[1], env, mp), _meval(n[2], env, mp)
    if abs(a) > _MAX_FACT:
        raise _Bail
    return mp.binomial(a, b)


_RECIPROCAL = {"sec": "cos", "csc": "sin", "cot": "tan"}
_MP_FUNCS = {"sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
             "sinh": "sinh", "cosh": "cosh", "tanh": "tanh"}


def _m_fn(n: tuple, env: dict[str, Any], mp: Any) -> Any:
    a = _meval(n[2], env, mp)
    f = n[1]
    if f == "abs":
        return abs(a)
    if f == "ln":
        if a == 0:
            raise _Bail
        return mp.log(a)
    if f == "exp":
        if abs(mp.re(a)) > 1e5:
            raise _Bail
        return mp.exp(a)
    if abs(a) > 1e6:
        raise _Bail
    if f in _RECIPROCAL:
        d = getattr(mp, _RECIPROCAL[f])(a)
        if d == 0:
            raise _Bail
        return 1 / d
    if f not in _MP_FUNCS:
        raise _Bail
    return getattr(mp, _MP_FUNCS[f])(a)


_M_OPS = {"add": _m_arith, "mul": _m_arith, "div": _m_arith, "pow": _m_pow, "root": _m_root, "fact": _m_fact,
          "binom": _m_binom, "fn": _m_fn}


def _variables(n: Any, out: set[str]) -> set[str]:
    if isinstance(n, tuple):
        if n and n[0] == "var":
            out.add(n[1])
        else:
            for x in n[1:]:
                _variables(x, out)
    elif isinstance(n, list):
        for x in n:
            _variables(x, out)
    return out


def _has(n: Any, kinds: set[str]) -> bool:
    if isinstance(n, tuple):
        if n and n[0] in kinds:
            return True
        return any(_has(x, kinds) for x in n[1:])
    if isinstance(n, list):
        return any(_has(x, kinds) for x in n)
    return False


def _degree(n: tuple) -> tuple[int, int]:
    """(numerator, denominator) degree bounds of a rational function AST."""
    k = n[0]
    if k == "var":
        return 1, 0
    if k in ("num", "pi", "e", "i"):
        return 0, 0
    if k in ("neg", "pct"):
        return _degree(n[1])
    if k == "fn":
        return _degree(n[2])
    if k in ("add", "mul", "div"):
        (na, da), (nb, db) = _degree(n[1]), _degree(n[2])
        if k == "add":
            return max(na + db, nb + da), da + db
        if k == "mul":
            return na + nb, da + db
        return na + db, da + nb
    if k == "pow":
        na, da = _degree(n[1])
        e = n[2]
        sign = 1
        while e[0] == "neg":
            e, sign = e[1], -sign
        if e[0] == "num" and e[1].denominator == 1:
            m = int(e[1]) * sign
            return (na * m, da * m) if m >= 0 else (da * -m, na * -m)
        return (0, 0) if (na, da) == (0, 0) else (_MAX_DEG + 1, 0)
    if k in ("root", "fact", "binom"):
        na, da = _degree(n[1])
        return (0, 0) if (na, da) == (0, 0) else (_MAX_DEG + 1, 0)
    return _MAX_DEG + 1, 0


# -- comparison ----------------------------------------------------------------------------------
_mp_cache: dict[int, Any] = {}
_CONST_CACHE: LRUCache[tuple, tuple] = LRUCache(8192)


def _mpctx(dps: int) -> Any:
    ctx = _mp_cache.get(dps)
    if ctx is None:
        from mpmath.ctx_mp import MPContext

        ctx = MPContext()
        ctx.dps = dps
        _mp_cache[dps] = ctx
    return ctx


def _mp_value(n: tuple, env_lo: dict[str, Any], env_hi: dict[str, Any]) -> tuple[complex, Any, Any]:
    lo, hi = _mpctx(_LO_DPS), _mpctx(_HI_DPS)
    a_hi = _meval(n, env_hi, hi)
    a_lo = _meval(n, env_lo, lo)
    # the 60-digit value is ~1e-20 more accurate than the 40-digit one; 1e-15 keeps a margin
    err = abs(hi.mpc(a_hi) - hi.mpc(a_lo)) * hi.mpf("1e-15")
    return hi.mpc(a_hi), err, hi


def _close_mp(a: Any, ea: Any, b: Any, eb: Any, mp: Any, dec: bool, opts: CompareOptions) -> bool | None:
    if not (mp.isfinite(a.real) and mp.isfinite(a.imag) and mp.isfinite(b.real) and mp.isfinite(b.imag)):
        return None
    d = abs(a - b)
    scale = max(abs(a), abs(b))
    za, zb = abs(a) <= 10 * ea, abs(b) <= 10 * eb  # zero within the evaluation error
    if za or zb:
        return za and zb
    tol = _tol_verdict(d, scale, a, b, mp, opts)
    if tol is not None:
        return tol
    if d <= _EQ_REL * scale + 10 * (ea + eb):
        return True
    if dec and d <= _DEFER_REL * scale:
        return None
    return False


def _tol_verdict(d: Any, scale: Any, a: Any, b: Any, mp: Any, opts: CompareOptions) -> bool | None:
    if opts.tolerance is not None:
        return bool(d <= opts.tolerance * scale)
    if opts.sig_figs is not None:
        if mp.im(a) != 0 or mp.im(b) != 0:
            return bool(d == 0)
        return _round_sig(mp.re(a), opts.sig_figs, mp) == _round_sig(mp.re(b), opts.sig_figs, mp)
    return None


def _round_sig(x: Any, k: int, mp: Any) -> Fraction:
    if x == 0:
        return Fraction(0)
    e = int(mp.floor(mp.log10(abs(x)))) - k + 1
    q = Fraction(int(mp.nint(x / mp.mpf(10) ** e) if e >= 0 else mp.nint(x * mp.mpf(10) ** (-e))))
    return q * Fraction(10) ** e


def _rand_points(key: str, names: list[str], rational: bool) -> list[dict[str, Fraction]]:
    seed = int.from_bytes(hashlib.blake2b(key.encode("utf-8", "replace"), digest_size=8).digest(), "big")
    rng = random.Random(seed)
    pts = []
    for _ in range(_POINTS):
        if rational:
            pts.append({v: Fraction(rng.randrange(1, 2 ** 32)) for v in names})
        else:
            pts.append({v: 1 + Fraction(rng.randrange(1, 2 ** 32), 2 ** 31) for v in names})
    return pts


def _scalar_equal(a: tuple, b: tuple, opts: CompareOptions, key: str) -> bool | None:
    if a == b:
        return True
    pa, pb = a[0] == "pct", b[0] == "pct"
    if pa or pb:  # a percentage matches its face value or value/100
        ca = [a[1], ("div", a[1], ("num", Fraction(100), False, "100"))] if pa else [a]
        cb = [b[1], ("div", b[1], ("num", Fraction(100), False, "100"))] if pb else [b]
        vs = [_scalar_equal(x, y, opts, key) for x in ca for y in cb]
        if any(v is True for v in vs):
            return True
        return False if all(v is False for v in vs) else None
    ia, ib = _endpoint(a), _endpoint(b)
    if ia is not None or ib is not None:  # ±infinity against ±infinity or a finite value
        if ia is not None and ib is not None:
            return ia == ib
        return None if _has(b if ia is not None else a, {"inf"}) else False
    if _has(a, {"pct", "inf"} | _STRUCT) or _has(b, {"pct", "inf"} | _STRUCT):
        return None
    names = sorted(_variables(a, set()) | _variables(b, set()))
    if not names:
        return _const_equal(a, b, opts)
    return _identity(a, b, names, opts, key)


def _const_value(n: tuple) -> tuple:
    """``("q", Fraction, has_decimal)``, ``("mp", value, error)`` or ``("bail",)``; cached, so the
    elements of two long lists are evaluated once each, not once per pair."""
    try:
        return _CONST_CACHE.get_or(n, lambda: _const_value_uncached(n))
    except TypeError:  # an unhashable node
        return _const_value_uncached(n)


def _const_value_uncached(n: tuple) -> tuple:
    try:
        q, d = _qeval(n, {})
        return ("q", q, d)
    except _NotQ:
        pass
    except (_Bail, OverflowError, ValueError, ZeroDivisionError):
        return ("bail",)
    try:
        v, e, _ = _mp_value(n, {}, {})
    except (_Bail, OverflowError, ValueError, ZeroDivisionError, TypeError):
        return ("bail",)
    return ("mp", v, e)


def _const_equal(a: tuple, b: tuple, opts: CompareOptions) -> bool | None:
    ca, cb = _const_value(a), _const_value(b)
    if ca[0] == "bail" or cb[0] == "bail":
        return None
    if ca[0] == "q" and cb[0] == "q":
        return _q_verdict(ca[1], cb[1], ca[2] != cb[2], opts)
    mp = _mpctx(_HI_DPS)
    va, ea = (mp.mpc(mp.mpf(ca[1].numerator) / ca[1].denominator), mp.mpf(0)) if ca[0] == "q" else (ca[1], ca[2])
    vb, eb = (mp.mpc(mp.mpf(cb[1].numerator) / cb[1].denominator), mp.mpf(0)) if cb[0] == "q" else (cb[1], cb[2])
    return _close_mp(va, ea, vb, eb, mp, _has_decimal(a) != _has_decimal(b), opts)


def _has_decimal(n: Any) -> bool:
    if isinstance(n, tuple):
        if n and n[0] == "num":
            return bool(n[2])
        return any(_has_decimal(x) for x in n[1:])
    return False


def _q_verdict(x: Fraction, y: Fraction, dec: bool, opts: CompareOptions) -> bool | None:
    if opts.tolerance is not None:
        return abs(x - y) <= Fraction(opts.tolerance) * max(abs(x), abs(y))
    if opts.sig_figs is not None:
        return _qround_sig(x, opts.sig_figs) == _qround_sig(y, opts.sig_figs)
    if x == y:
        return True
    scale = max(abs(x), abs(y))
    if dec and abs(x - y) <= Fraction(1, 10 ** 6) * scale:
        return None  # a rounded decimal: math-verify rounds to 6 digits, defer to it
    return False


def _qround_sig(x: Fraction, k: int) -> Fraction:
    if x == 0:
        return x
    e = len(str(abs(x.numerator) // abs(x.denominator))) if abs(x) >= 1 else -_leading_zeros(abs(x))
    shift = k - e
    scaled = x * Fraction(10) ** shift
    r = math.floor(scaled + Fraction(1, 2)) if scaled >= 0 else -math.floor(-scaled + Fraction(1, 2))
    return Fraction(r) / Fraction(10) ** shift


def _leading_zeros(x: Fraction) -> int:
    z = 0
    while x < Fraction(1, 10):
        x *= 10
        z += 1
    return z


def _identity(a: tuple, b: tuple, names: list[str], opts: CompareOptions, key: str) -> bool | None:
    """Randomised identity test (see the module docstring for the bound)."""
    if len(names) > 6:
        return None
    rational = not _has(a, {"pi", "e", "i", "root", "fn", "fact", "binom"}) and \
        not _has(b, {"pi", "e", "i", "root", "fn", "fact", "binom"})
    if rational:
        (na, da), (nb, db) = _degree(a), _degree(b)
        if max(na + db, nb + da) > _MAX_DEG:
            rational = False
    pts = _rand_points(key, names, rational)
    dec = _has_decimal(a) != _has_decimal(b)  # one side rounded, the other exact
    undecided = False
    for env in pts:
        if rational:
            try:
                qa, _ = _qeval(a, env)
                qb, _ = _qeval(b, env)
            except (_Bail, _NotQ, ZeroDivisionError, OverflowError):
                return None
            if qa == qb:
                continue
            if dec and abs(qa - qb) <= Fraction(1, 10 ** 6) * max(abs(qa), abs(qb)):
                undecided = True
                continue
            return False
        lo, hi = _mpctx(_LO_DPS), _mpctx(_HI_DPS)
        env_lo = {k: lo.mpf(v.numerator) / v.denominator for k, v in env.items()}
        env_hi = {k: hi.mpf(v.numerator) / v.denominator for k, v in env.items()}
        try:
            va, ea, mp = _mp_value(a, env_lo, env_hi)
            vb, eb, _ = _mp_value(b, env_lo, env_hi)
        except (_Bail, OverflowError, ValueError, ZeroDivisionError, TypeError):
            return None
        v = _close_mp(va, ea, vb, eb, mp, dec, CompareOptions())
        if v is False:
            return False
        if v is None:
            undecided = True
    return None if undecided else True


# -- intervals, sets, lists, matrices -----------------------------------------------------------
def _endpoint(n: tuple) -> tuple | None:
    """An interval endpoint: ("inf", ±1) or a finite scalar."""
    sign = 1
    while n[0] == "neg":
        n, sign = n[1], -sign
    if n[0] == "inf":
        return ("inf", sign)
    return None


def _as_intervals(n: tuple) -> list[tuple] | None:
    """An interval / union / one-variable relation as [(lo, lo_closed, hi, hi_closed)]."""
    k = n[0]
    if k == "reals":
        return [(_NEG_INF, False, _POS_INF, False)]
    if k == "seq" and len(n[3]) == 2:
        lo, hi = n[3]
        return [(lo, n[1] == "[", hi, n[2] == "]")]
    if k == "cup":
        out: list[tuple] = []
        for x in n[1]:
            iv = _as_intervals(x)
            if iv is None:
                return None
            out.extend(iv)
        return out
    if k == "or":
        return _as_intervals(("cup", n[1]))
    if k == "rel":
        return _relation_intervals(n)
    return None


_NEG_INF = ("neg", ("inf",))
_POS_INF = ("inf",)
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "!=": "!=", "=": "="}


def _relation_intervals(n: tuple) -> list[tuple] | None:
    exprs, ops = n[1], n[2]
    vars_pos = [j for j, e in enumerate(exprs) if e[0] == "var"]
    if len(vars_pos) != 1:
        return None
    j = vars_pos[0]
    others = [e for m, e in enumerate(exprs) if m != j]
    if any(_variables(e, set()) for e in others):
        return None
    if "in" in ops:
        return _as_intervals(exprs[1]) if len(exprs) == 2 and j == 0 and ops == ["in"] else None
    if len(exprs) == 2:
        op = ops[0] if j == 0 else _FLIP[ops[0]]
        c = exprs[1 - j]
        if op == ">":
            return [(c, False, _POS_INF, False)]
        if op == ">=":
            return [(c, True, _POS_INF, False)]
        if op == "<":
            return [(_NEG_INF, False, c, False)]
        if op == "<=":
            return [(_NEG_INF, False, c, True)]
        if op == "!=":
            return [(_NEG_INF, False, c, False), (c, False, _POS_INF, False)]
        return None
    if len(exprs) == 3 and j == 1 and ops[0] in ("<", "<=") and ops[1] in ("<", "<="):
        return [(exprs[0], ops[0] == "<=", exprs[2], ops[1] == "<=")]
    if len(exprs) == 3 and j == 1 and ops[0] in (">", ">=") and ops[1] in (">", ">="):
        return [(exprs[2], ops[1] == ">=", exprs[0], ops[0] == ">=")]
    return None


def _ep_equal(a: tuple, b: tuple, opts: CompareOptions, key: str) -> bool | None:
    ia, ib = _endpoint(a), _endpoint(b)
    if ia is not None or ib is not None:
        return ia == ib
    return _scalar_equal(a, b, opts, key)


def _ep_float(a: tuple) -> float | None:
    e = _endpoint(a)
    if e is not None:
        return math.inf * e[1]
    try:
        q, _ = _qeval(a, {})
        return float(q)
    except (_Bail, _NotQ, OverflowError, ZeroDivisionError):
        pass
    try:
        v, _, mp = _mp_value(a, {}, {})
    except (_Bail, OverflowError, ValueError, ZeroDivisionError, TypeError):
        return None
    return float(mp.re(v)) if mp.im(v) == 0 else None


def _order(iv: list[tuple], opts: CompareOptions, key: str) -> list[tuple] | None:
    """Intervals sorted by their endpoints, touching ones merged (``[1,2]∪(2,3]`` = ``[1,3]``)."""
    keyed = []
    for t in iv:
        lo, hi = _ep_float(t[0]), _ep_float(t[2])
        if lo is None or hi is None:
            return None
        keyed.append(((lo, hi), t))
    keyed.sort(key=lambda p: p[0])
    out: list[tuple] = []
    last_hi = None
    for (lo, hi), t in keyed:
        if out and last_hi is not None and lo <= last_hi:
            prev = out[-1]
            touch = _ep_equal(prev[2], t[0], opts, key)
            if lo < last_hi or (touch is True and (prev[3] or t[1])):
                if hi >= last_hi:
                    out[-1] = (prev[0], prev[1], t[2], t[3])
                    last_hi = hi
                continue
            if touch is None:
                return None
        out.append(t)
        last_hi = hi
    return out


def _intervals_equal(xs: list[tuple], ys: list[tuple], opts: CompareOptions, key: str) -> bool | None:
    xo, yo = _order(xs, opts, key), _order(ys, opts, key)
    if xo is None or yo is None:
        return None
    if len(xo) != len(yo):
        return False
    undecided = False
    for x, y in zip(xo, yo, strict=True):
        if x[1] != y[1] or x[3] != y[3]:
            return False
        for u, v in ((x[0], y[0]), (x[2], y[2])):
            r = _ep_equal(u, v, opts, key)
            if r is False:
                return False
            if r is None:
                undecided = True
    return None if undecided else True


def _elements_equal(xs: list, ys: list, opts: CompareOptions, key: str) -> bool | None:
    if len(xs) != len(ys):
        return False
    undecided = False
    for x, y in zip(xs, ys, strict=True):
        r = _node_equal(x, y, opts, key)
        if r is False:
            return False
        if r is None:
            undecided = True
    return None if undecided else True


def _set_equal(xs: list, ys: list, opts: CompareOptions, key: str) -> bool | None:
    if len(xs) * len(ys) > _MAX_PAIRS:
        return None  # bounded: at most _MAX_PAIRS element comparisons per answer
    table = [[_node_equal(x, y, opts, key) for y in ys] for x in xs]
    # every element of each side must equal some element of the other (sets: duplicates collapse)
    undecided = False
    for row in table:
        if all(v is False for v in row):
            return False
        if not any(v is True for v in row):
            undecided = True
    for j in range(len(ys)):
        col = [row[j] for row in table]
        if all(v is False for v in col):
            return False
        if not any(v is True for v in col):
            undecided = True
    return None if undecided else True


def _node_equal(a: tuple, b: tuple, opts: CompareOptions, key: str) -> bool | None:
    ka, kb = a[0], b[0]
    # two equations: the same when lhs - rhs agree up to sign
    if _is_equation(a) and _is_equation(b) and not (_is_assign(a) and _is_assign(b)):
        return _equation_equal(a, b, opts, key)
    # assignments "x = 5" and memberships "x \in S" stand for their right-hand side
    a, b = _strip_assign(a), _strip_assign(b)
    ka, kb = a[0], b[0]
    if ka == "or" and not _as_intervals(a):
        a, ka = ("list", a[1]), "list"
    if kb == "or" and not _as_intervals(b):
        b, kb = ("list", b[1]), "list"
    if ka in ("list", "set") and kb in ("list", "set"):
        xs, ys = _flatten(a[1]), _flatten(b[1])
        if any(x[0] == "seq" for x in xs) != any(y[0] == "seq" for y in ys):
            return None  # "p=5, q=2; p=7, q=2" against "(5,2), (7,2)": pairs written two ways
        return _set_equal(xs, ys, opts, key)
    if ka in ("set", "empty") and kb in ("set", "empty"):
        return ka == kb
    if ka == "mat" or kb == "mat":
        return _matrix_equal(a, b, opts, key)
    if ka == "seq" and kb == "seq":
        if (a[1], a[2]) != (b[1], b[2]):
            return False
        return _elements_equal(a[3], b[3], opts, key)
    ia, ib = _as_intervals(a), _as_intervals(b)
    if ia is not None and ib is not None:
        return _intervals_equal(ia, ib, opts, key)
    if ka in _STRUCT or kb in _STRUCT:
        return _mixed_equal(a, b, opts, key)
    return _scalar_equal(a, b, opts, key)


def _matrix_equal(a: tuple, b: tuple, opts: CompareOptions, key: str) -> bool | None:
    ra, rb = (a[1], b[1]) if a[0] == b[0] else (_rows(a), _rows(b))
    mat, other = (a, b) if a[0] == "mat" else (b, a)
    if (ra is None or rb is None) and other[0] not in _STRUCT and not _has(other, _STRUCT):
        m = mat[1]
        return _node_equal(m[0][0], other, opts, key) if len(m) == 1 and len(m[0]) == 1 else False
    if ra is None or rb is None:
        return None
    if len(ra) != len(rb) or len(ra[0]) != len(rb[0]):
        return False
    return _elements_equal([x for r in ra for x in r], [y for r in rb for y in r], opts, key)


def _mixed_equal(a: tuple, b: tuple, opts: CompareOptions, key: str) -> bool | None:
    """A structure against something else."""
    ka, kb = a[0], b[0]
    if (ka in _STRUCT) != (kb in _STRUCT) and not _has(b if ka in _STRUCT else a, _STRUCT):
        st, sc = (a, b) if ka in _STRUCT else (b, a)  # a structure against a single value
        if st[0] in ("list", "set") and len(st[1]) == 1:
            return _node_equal(st[1][0], sc, opts, key)
        return False  # several answers for one (a shotgun), an interval, an equation, a tuple
    return None


def _flatten(items: list) -> list:
    out: list = []
    for x in items:
        x = _strip_assign(x)
        if x[0] == "or" and not _as_intervals(x):
            out.extend(_flatten(x[1]))
        else:
            out.append(x)
    return out


def _is_equation(n: tuple) -> bool:
    return n[0] == "rel" and n[2] == ["="] and not _has(n[1], _STRUCT)


def _is_assign(n: tuple) -> bool:
    return _is_equation(n) and n[1][0][0] == "var" and n[1][0][1] not in _variables(n[1][1], set())


def _equation_equal(a: tuple, b: tuple, opts: CompareOptions, key: str) -> bool | None:
    da = ("add", a[1][0], ("neg", a[1][1]))
    db = ("add", b[1][0], ("neg", b[1][1]))
    same = _scalar_equal(da, db, opts, key)
    if same is True:
        return True
    flipped = _scalar_equal(da, ("neg", db), opts, key)
    if flipped is True:
        return True
    if same is False and flipped is False:
        # the same equation scaled by a constant c != 0: lhs-rhs = c (lhs'-rhs')
        names = sorted(_variables(da, set()) | _variables(db, set()))
        try:
            env = _rand_points(key + "\x01", names, True)[0]
            qa, _ = _qeval(da, env)
            qb, _ = _qeval(db, env)
        except (_Bail, _NotQ, ArithmeticError):
            return None
        if qa == 0 or qb == 0:
            return None
        c = qa / qb
        scaled = _scalar_equal(da, ("mul", ("num", c, False, str(c)), db), opts, key)
        return scaled
    return None


def _strip_assign(n: tuple) -> tuple:
    """``x = 5``, ``f(x) = 1``, ``|AB| = 1``, ``x = 5+5+1 = 11``, ``x \\in S``: the value named."""
    if n[0] != "rel":
        return n
    exprs, ops = n[1], n[2]
    if len(exprs) == 2 and ops == ["in"] and exprs[0][0] == "var":
        return exprs[1]
    if not set(ops) <= {"=", "~"}:
        return n
    if "~" in ops and "=" in ops:  # x = 1/3 \approx 0.33: the exact value stated before the first \approx
        cut = ops.index("~")
        exprs, ops = exprs[:cut + 1], ops[:cut]
    if len(exprs) == 1:
        return exprs[0]
    if len(exprs) == 2 and exprs[0][0] == "var":
        return exprs[1]
    if len(exprs) == 2 and _is_call(exprs[0], _variables(exprs[1], set())):
        return exprs[1]  # "p(x) = -9x^2 - 2x - 1": the function named is not in its value
    last = exprs[-1]
    if (_is_name(exprs[0]) or not _variables(exprs[0], set())) and not _variables(last, set()) \
            and not _has(last, _STRUCT):
        return last  # "x = 5+5+1 = 11", "f(x) = 1", "1/2 = 10/9": the value stated last
    return n


def _is_call(n: tuple, rhs_vars: set[str]) -> bool:
    """``f(x)``, ``p(x, y)`` read as a product ``f·x``: the head ``f`` is a variable absent from the
    right-hand side, and every argument is a variable that the right-hand side uses."""
    if n[0] != "mul" or n[1][0] != "var" or n[1][1] in rhs_vars:
        return False
    args = n[2][1] if n[2][0] in ("seq", "list") and isinstance(n[2][1], list) else [n[2]]
    return bool(args) and all(a[0] == "var" and a[1] in rhs_vars for a in args)


def _is_name(n: tuple) -> bool:
    """A left-hand side that names a quantity: ``AB``, ``f(x)``, ``|AB|``, ``\\frac{NO}{BO}``."""
    k = n[0]
    if k == "var":
        return True
    if k in ("mul", "div"):
        return _is_name(n[1]) and _is_name(n[2])
    if k == "fn" and n[1] == "abs":
        return _is_name(n[2])
    return False


def _rows(n: tuple) -> list[list[tuple]] | None:
    if n[0] == "mat":
        rows = n[1]
        if len(rows) > 1 and len(rows[0]) == 1:  # a column vector reads like a tuple
            return [[r[0] for r in rows]]
        return rows
    if n[0] == "seq" and n[1] == "(" and n[2] == ")":
        return [n[3]]
    return None


# -- forms ---------------------------------------------------------------------------------------
def _int_node(n: tuple) -> int | None:
    sign = 1
    while n[0] == "neg":
        n, sign = n[1], -sign
    if n[0] == "num" and not n[2] and n[1].denominator == 1:
        return sign * int(n[1])
    return None


def _fraction_form(n: tuple) -> tuple[int, int] | None:
    sign = 1
    while n[0] == "neg":
        n, sign = n[1], -sign
    if n[0] == "div":
        p, q = _int_node(n[1]), _int_node(n[2])
        if p is not None and q is not None and q != 0:
            return sign * p, q
    return None


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    if n < 4:
        return True
    if n % 2 == 0:
        return False
    return all(n % d for d in range(3, math.isqrt(n) + 1, 2)) if n < 10 ** 12 else False


def _factor_form(n: tuple) -> bool:
    """A product of primes / prime powers (any order, any product sign)."""
    factors: list[tuple] = []

    def flat(x: tuple) -> None:
        if x[0] == "mul":
            flat(x[1])
            flat(x[2])
        else:
            factors.append(x)
    flat(n)
    for f in factors:
        base = f[1] if f[0] == "pow" else f
        b = _int_node(base)
        if b is None or not _is_prime(b):
            return False
        if f[0] == "pow" and (_int_node(f[2]) is None or (_int_node(f[2]) or 0) < 1):
            return False
    return len(factors) > 1 or factors[0][0] == "pow"


def _sig_digits(text: str) -> int | None:
    m = _SIG_RE.fullmatch(text)
    if not m:
        return None
    digits = (m.group(1) or "") + (m.group(2) or "") if m.group(2) is not None else m.group(3)
    digits = digits.lstrip("0")
    if m.group(2) is None:
        digits = digits.rstrip("0") or digits
    return len(digits) or 1


def _form_ok(g: _Answer, p: _Answer) -> bool:
    gn, pn = g.node, p.node
    if _fraction_form(gn) is not None:
        fp = _fraction_form(pn)
        if fp is not None:
            return fp[1] > 1 and math.gcd(fp[0], fp[1]) == 1
        return _int_node(pn) is not None
    if _factor_form(gn):
        return _factor_form(pn)
    if gn[0] == "list":
        return pn[0] == "list"
    if gn[0] == "num" and gn[2]:
        sg = _sig_digits(gn[3])
        return pn[0] == "num" and _sig_digits(pn[3]) == sg
    return True


def _sorted_order_equal(g: _Answer, p: _Answer, opts: CompareOptions, key: str) -> bool | None:
    if g.node[0] == "list" and p.node[0] == "list":
        return _elements_equal(g.node[1], p.node[1], opts, key)
    return None


def _decimals(text: str) -> int | None:
    m = _DECIMALS_RE.fullmatch(text)
    return len(m.group(1)) if m else None


# -- the entry point -------------------------------------------------------------------------------
def exact_equal(gold: Any, pred: Any, options: CompareOptions | None = None) -> bool | None:
    """Three-valued equivalence of two extracted answers: True, False or None (undecided).

    Reads both with the module grammar and compares their values (see the module docstring
    for the number rules and the false-positive bound of the randomised identity test).
    ``None`` means a form this parser does not read; the caller then asks math-verify.

    Example:
        >>> exact_equal("-7 + i", "-7.0 + 1.0i"), exact_equal("x \\\\neq 2", "(-\\\\infty,2)\\\\cup(2,\\\\infty)")
        (True, True)
        >>> exact_equal("1029", "1421*y**5 - 1792*y**3 - 1029*y"), exact_equal("\\\\sin(\\\\pi/6)", "1/2")
        (False, True)
        >>> exact_equal("\\\\frac{1}{2}", "\\\\frac{2}{4}", CompareOptions(form="gold"))
        False
    """
    opts = options or _DEFAULT
    gs = gold if isinstance(gold, str) else ("" if gold is None else str(gold))
    ps = pred if isinstance(pred, str) else ("" if pred is None else str(pred))
    if not gs.strip() or not ps.strip():
        return None
    if opts.locale == "en" and (_AMBIGUOUS_COMMA.match(gs) or _AMBIGUOUS_COMMA.match(ps)):
        return None  # "0,111", "1,22": a decimal comma or a list; no locale option says which
    coded = _code_verdict(gs, ps, opts)
    if coded is not None:
        return coded
    g = _parse(gs, opts.locale)
    if g is None:
        return None
    p = _parse(ps, opts.locale, cached=False)
    if p is None:
        return None
    key = gs + "\x00" + ps
    if opts.form == "gold":
        if not _form_ok(g, p):
            return False
        if g.node[0] == "list" and _is_sorted(g.node[1]):
            return _sorted_order_equal(g, p, opts, key)
    gnum = g.node[1] if g.node[0] == "neg" else g.node
    if opts.precision == "gold" and gnum[0] == "num" and gnum[2]:
        n = _decimals(gnum[3])
        if n is not None:
            return _within_precision(gnum[1] if gnum is g.node else -gnum[1], p.node, n)
    try:
        return _node_equal(g.node, p.node, opts, key)
    except (_Bail, _NotQ, RecursionError, ArithmeticError, ValueError, TypeError):
        return None


def _within_precision(gv: Fraction, pn: tuple, n: int) -> bool | None:
    half = Fraction(1, 2 * 10 ** n)
    try:
        pv, _ = _qeval(pn, {})
        return abs(pv - gv) <= half
    except _NotQ:
        pass
    except (_Bail, OverflowError, ZeroDivisionError):
        return None
    try:
        v, _, mp = _mp_value(pn, {}, {})
    except (_Bail, OverflowError, ValueError, ZeroDivisionError, TypeError):
        return None
    if mp.im(v) != 0:
        return False
    return bool(abs(mp.re(v) - mp.mpf(gv.numerator) / gv.denominator) <= mp.mpf(half.numerator) / half.denominator)


def _is_sorted(items: list) -> bool:
    vals = []
    for x in items:
        f = _ep_float(x) if x[0] not in _STRUCT else None
        if f is None:
            return False
        vals.append(f)
    return vals == sorted(vals)


def _code_verdict(gs: str, ps: str, opts: CompareOptions) -> bool | None:
    """Non-decimal literals and alphanumeric codes (family 9)."""
    g, p = _strip_simple(gs), _strip_simple(ps)
    bg, bp = _BASED_RE.match(g), _BASED_RE.match(p)
    if bg is None and bp is not None and g.isdigit():
        pv = _int_in_base(bp.group(1), int(bp.group(2)))
        return None if pv is None else pv == int(g)
    if bg is not None and (bp is not None or _CODE_RE.match(p)):
        base = int(bg.group(2))
        gv = _int_in_base(bg.group(1), base)
        pv = _int_in_base(bp.group(1), int(bp.group(2))) if bp is not None else _int_in_base(p, base)
        if gv is None:
            return None
        return pv is not None and gv == pv
    if _CODE_RE.match(g) and _CODE_RE.match(p):
        if _is_code(g) or _is_code(p):
            gv, pv = _literal_int(g), _literal_int(p)
            if gv is not None and pv is not None:
                return gv == pv
            return g == p
    return None


def _strip_simple(s: str) -> str:
    s = s.strip().strip("$").strip()
    s = _SIMPLE_TEXT_RE.sub(r"\1", s)
    return s.replace(" ", "")


def _is_code(s: str) -> bool:
    """A letter-digit string that is not a coefficient times variables (``a3``, ``3a5``, ``0x1f``)."""
    has_alpha = any(c.isalpha() for c in s)
    has_digit = any(c.isdigit() for c in s)
    if not (has_alpha and has_digit):
        return False
    return _COEF_VARS_RE.fullmatch(s) is None or len(s) > 6


def _literal_int(s: str) -> int | None:
    if _LITERAL_INT_RE.fullmatch(s):
        return int(s, 0) if not s.isdigit() else int(s)
    return None


def _int_in_base(digits: str, base: int) -> int | None:
    if not 2 <= base <= 36:
        return None
    try:
        return int(digits, base)
    except ValueError:
        return None
