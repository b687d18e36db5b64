"""Benchmark: rewardkit's math verifier vs math-verify on a *cold* stream of distinct pairs.

Why: a GRPO step brings new completions, so most (gold, answer) pairs are new to the
verifier; a benchmark whose completions repeat their answers measures the verdict cache,
not the verifier.  This script builds ``--n`` distinct ``(gold, response)`` pairs and
measures two regimes:

* **cold** – every pair distinct, varied answer forms; each system runs in a fresh
  child interpreter with a fresh worker (no cache carries over), and is timed on the
  same list after its own warm-up (imports and first-call costs are not timed);
* **warm** – GRPO groups of 8 completions per prompt, drawn with replacement from the
  same generator's candidates (answers repeat inside a group: the verdict cache's case).

Data (generated here, seeded, no data files): sympy objects – integers, rationals,
radicals, pi/e expressions, complex numbers, intervals and unions, finite sets, tuples,
matrices and vectors, equations and inequalities, polynomials, scientific and grouped
numbers, percentages, numbers with units, tiny values (``1/2006!``), values that need
evaluating (``0.\\overline{9}``, ``\\sin(\\pi/6)``), hex literals and alphanumeric codes –
rendered in many surface forms (LaTeX variants, ``\\dfrac``/``\\tfrac``, ``\\left(``,
plain text, Python syntax ``**``/``sqrt()``, spacing) and wrapped in response templates
(``\\boxed{}``, "The answer is", ``<answer>`` tags, ``####``, ``Answer:``, bare,
sentences with several math spans).  Near misses (off by one, sign flip, wrong power,
``1/2006!`` vs ``1/2004!``, reordered-but-wrong, rounding) and attacks (master keys,
several boxes with different content = shotgun, prose only) are mixed in.  Every label
comes from the sympy objects (:func:`same`), never from either verifier.

Systems (each in its own fresh child process, interleaved A B A B over ``--repeats``):

* rewardkit ``MathVerifier()`` with defaults, ``verify_batch`` on batches of 64;
* math-verify ``verify(parse("$gold$"), parse(response))`` per pair, as its README shows.

Run:  python bench/verify/math_cold.py [--n 1200] [--seed 0] [--repeats 2] [--groups 150] [--families interval,matrix]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

X, Y = sp.symbols("x y")


# ---------------------------------------------------------------------------- truth
def same(a: Any, b: Any) -> bool:
    """Mathematical equality of two answer objects (the label of a pair).

    Sets (intervals, unions, finite sets) compare as sets; tuples element-wise in order;
    matrices entry-wise with equal shapes; equations as ``lhs - rhs`` up to sign; strings
    (codes) exactly; expressions by exact simplification of their difference.
    """
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, sp.Set) or isinstance(b, sp.Set):
        if not (isinstance(a, sp.Set) and isinstance(b, sp.Set)):
            return False
        return bool(sp.Complement(a, b) == sp.S.EmptySet and sp.Complement(b, a) == sp.S.EmptySet)
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        if not (isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase)) or a.shape != b.shape:
            return False
        return all(same(p, q) for p, q in zip(a, b, strict=True))
    if isinstance(a, sp.Tuple) or isinstance(b, sp.Tuple):
        if not (isinstance(a, sp.Tuple) and isinstance(b, sp.Tuple)) or len(a) != len(b):
            return False
        return all(same(p, q) for p, q in zip(a, b, strict=True))
    if isinstance(a, sp.Equality) or isinstance(b, sp.Equality):
        if not (isinstance(a, sp.Equality) and isinstance(b, sp.Equality)):
            return False
        da, db = sp.expand(a.lhs - a.rhs), sp.expand(b.lhs - b.rhs)
        return bool(sp.expand(da - db) == 0 or sp.expand(da + db) == 0)
    return bool(sp.simplify(sp.expand(sp.sympify(a) - sp.sympify(b))) == 0)


# ---------------------------------------------------------------------------- rendering
def _latex(e: Any) -> str:
    return sp.latex(e)


def _py(e: Any) -> str:
    return sp.sstr(e)


def _swap_frac(s: str, cmd: str) -> str:
    return s.replace("\\frac", cmd)


def _spaced(s: str) -> str:
    for op in ("+", "=", ","):
        s = s.replace(op, f" {op} ")
    return " ".join(s.split())


def _tight(s: str) -> str:
    return s.replace(" ", "")


def _join_terms(terms: Sequence[Any], fmt: Callable[[Any], str]) -> str:
    out = ""
    for i, t in enumerate(terms):
        s = fmt(t)
        if i == 0:
            out = s
        elif s.startswith("-"):
            out += " - " + s[1:]
        else:
            out += " + " + s
    return out


def scalar_forms(e: Any) -> list[tuple[str, str]]:
    """Surface forms of a scalar (number or expression) as ``(form name, string)``."""
    e = sp.sympify(e)
    lx = _latex(e)
    forms = [("latex", lx), ("spaced", _spaced(lx)), ("tight", _tight(lx))]
    if "\\frac" in lx:
        forms += [("dfrac", _swap_frac(lx, "\\dfrac")), ("tfrac", _swap_frac(lx, "\\tfrac"))]
    if "\\left(" not in lx and "(" in lx:
        forms.append(("left", lx.replace("(", "\\left(").replace(")", "\\right)")))
    py = _py(e)
    if "E" not in py.replace("exp", "") and "I" not in py:
        forms.append(("python", py))
        if "**" in py:
            forms.append(("caret", py.replace("**", "^")))
    if isinstance(e, sp.Rational) and not isinstance(e, sp.Integer):
        p, q = e.p, e.q
        forms += [("slash", f"{p}/{q}"), ("neg_num_frac", f"\\frac{{{p}}}{{{q}}}")]
        if abs(p) < 10 and q < 10 and p > 0:
            forms.append(("frac_digits", f"\\frac{p}{q}"))
        qq = q
        for f in (2, 5):
            while qq % f == 0:
                qq //= f
        if qq == 1:
            forms.append(("decimal", _decimal(e)))
    if isinstance(e, sp.Integer):
        forms += [("point_zero", f"{int(e)}.0")]
        if abs(int(e)) >= 10000:
            forms += [("comma", f"{int(e):,}"), ("brace_comma", f"{int(e):,}".replace(",", "{,}")),
                      ("thin_space", f"{int(e):,}".replace(",", "\\,"))]
    return forms


def _decimal(r: Any) -> str:
    """Exact decimal of a terminating rational."""
    s = str(sp.Float(r, 40))
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def interval_forms(s: sp.Set, var: str = "x") -> list[tuple[str, str]]:
    """Interval notation and relation forms of an interval or a union of two intervals."""
    def one(iv: sp.Interval, left: bool) -> str:
        lo = "-\\infty" if iv.start == -sp.oo else _latex(iv.start)
        hi = "\\infty" if iv.end == sp.oo else _latex(iv.end)
        lb = "(" if iv.left_open else "["
        rb = ")" if iv.right_open else "]"
        if left:
            return f"\\left{lb} {lo}, {hi} \\right{rb}"
        return f"{lb}{lo}, {hi}{rb}"

    parts = list(s.args) if isinstance(s, sp.Union) else [s]
    forms = [("interval", " \\cup ".join(one(p, False) for p in parts)),
             ("interval_left", " \\cup ".join(one(p, True) for p in parts)),
             ("interval_tight", "\\cup".join(_tight(one(p, False)) for p in parts))]
    if isinstance(s, sp.Interval):
        a, b = s.start, s.end
        lo_op = "<" if s.left_open else "\\le"
        hi_op = "<" if s.right_open else "\\le"
        plain_lo = "<" if s.left_open else "<="
        plain_hi = "<" if s.right_open else "<="
        if a == -sp.oo and b != sp.oo:
            forms += [("relation", f"{var} {hi_op} {_latex(b)}"), ("relation_plain", f"{var} {plain_hi} {b}")]
        elif b == sp.oo and a != -sp.oo:
            ge = ">" if s.left_open else "\\geq"
            forms += [("relation", f"{var} {ge} {_latex(a)}"),
                      ("relation_plain", f"{var} {'>' if s.left_open else '>='} {a}"),
                      ("relation_flipped", f"{_latex(a)} {lo_op} {var}")]
        elif a != -sp.oo:
            forms += [("relation", f"{_latex(a)} {lo_op} {var} {hi_op} {_latex(b)}"),
                      ("relation_plain", f"{a} {plain_lo} {var} {plain_hi} {b}")]
        forms.append(("in", f"{var} \\in {one(s, False)}"))
    elif isinstance(s, sp.Union) and len(parts) == 2 and parts[0].end == parts[1].start \
            and parts[0].start == -sp.oo and parts[1].end == sp.oo and parts[0].right_open and parts[1].left_open:
        forms += [("relation", f"{var} \\neq {_latex(parts[0].end)}"), ("relation_ne", f"{var} \\ne {_latex(parts[0].end)}")]
    return forms


def set_forms(s: sp.FiniteSet, rng: random.Random) -> list[tuple[str, str]]:
    els = [_latex(v) for v in sorted(s.args, key=float)]
    sh = els[:]
    rng.shuffle(sh)
    return [("braces", "\\{" + ", ".join(els) + "\\}"), ("braces_shuffled", "\\{" + ",".join(sh) + "\\}"),
            ("left_braces", "\\left\\{" + ", ".join(els[::-1]) + "\\right\\}"), ("list", ", ".join(sh))]


def tuple_forms(t: sp.Tuple) -> list[tuple[str, str]]:
    els = [_latex(v) for v in t]
    return [("parens", "(" + ", ".join(els) + ")"), ("tight", "(" + ",".join(els) + ")"),
            ("left", "\\left(" + ", ".join(els) + "\\right)"), ("python", "(" + ", ".join(_py(v) for v in t) + ")")]


def matrix_forms(m: sp.Matrix) -> list[tuple[str, str]]:
    rows = [[_latex(m[i, j]) for j in range(m.cols)] for i in range(m.rows)]
    body = " \\\\ ".join(" & ".join(r) for r in rows)
    body_tight = "\\\\".join("&".join(r) for r in rows)
    return [("pmatrix", f"\\begin{{pmatrix}} {body} \\end{{pmatrix}}"),
            ("bmatrix", f"\\begin{{bmatrix}} {body} \\end{{bmatrix}}"),
            ("pmatrix_tight", f"\\begin{{pmatrix}}{body_tight}\\end{{pmatrix}}"),
            ("bmatrix_newlines", "\\begin{bmatrix}\n" + " \\\\\n".join(" & ".join(r) for r in rows) + "\n\\end{bmatrix}")]


def equation_forms(eq: sp.Equality) -> list[tuple[str, str]]:
    rhs = sp.expand(eq.rhs)
    terms = sp.Add.make_args(rhs)
    lhs = _latex(eq.lhs)
    return [("latex", f"{lhs} = {_latex(rhs)}"), ("reordered", f"{lhs} = {_join_terms(terms[::-1], _latex)}"),
            ("tight", _tight(f"{lhs}={_latex(rhs)}")), ("python", f"{_py(eq.lhs)} = {_py(rhs)}")]


def poly_forms(e: Any) -> list[tuple[str, str]]:
    e = sp.expand(e)
    terms = sp.Poly(e, X).as_expr().as_ordered_terms()
    f = sp.factor(e)
    forms = [("latex", _latex(e)), ("reordered", _join_terms(terms[::-1], _latex)),
             ("python", _py(e)), ("python_reordered", _join_terms(terms[::-1], _py)),
             ("caret", _py(e).replace("**", "^")), ("tight", _tight(_latex(e)))]
    if f != e:
        forms += [("factored", _latex(f)), ("factored_python", _py(f))]
    return forms


# ---------------------------------------------------------------------------- families
@dataclass(frozen=True)
class Pair:
    """One labelled (gold, response) pair of the stream."""

    family: str
    kind: str  # "equiv" (same object), "near" (a different object), "attack"
    gold: str
    response: str
    label: bool
    answer: str = ""  # the answer written in the response (the verdict cache's key); "" for attacks
    form: str = ""  # the surface form of the answer (see the renderers)


Cand = tuple[Any, str, str]  # (object, form name, answer string)


def _cands(obj: Any, forms: list[tuple[str, str]]) -> list[Cand]:
    return [(obj, name, s) for name, s in forms]


def fam_integer(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    n = sp.Integer(rng.choice([rng.randint(-60, 60), rng.randint(100, 99999), rng.randint(10**5, 10**9)]))
    gold = _latex(n)
    near = [n + 1, n - 1, -n if n else sp.Integer(3), n * 10]
    c = [*_cands(n, scalar_forms(n)), (n, "x_eq", f"x = {n}")]
    for m in near:
        c += rng.sample(_cands(m, scalar_forms(m)), 2)
    return n, gold, c


def fam_rational(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    q = rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 16, 20, 25, 40])
    p = rng.choice([v for v in range(-50, 51) if v and sp.Rational(v, q).q != 1])
    r = sp.Rational(p, q)
    gold = rng.choice([_latex(r), f"{r.p}/{r.q}", _swap_frac(_latex(r), "\\dfrac")])
    c = _cands(r, scalar_forms(r))
    for m in (r + 1, -r, 1 / r, sp.Rational(p, q + 1), sp.Rational(p + 1, q)):
        c += rng.sample(_cands(m, scalar_forms(m)), 2)
    rounded = sp.Rational(str(round(float(r), 2)))
    if rounded != r:
        c.append((rounded, "rounded", str(round(float(r), 2))))
    return r, gold, c


def fam_radical(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    a, b, c0 = rng.randint(1, 9), rng.choice([2, 3, 5, 6, 7, 10, 11, 13]), rng.randint(-6, 6)
    kind = rng.randrange(3)
    if kind == 0:
        e = a * sp.sqrt(b) + c0
        tail = f" {'+' if c0 > 0 else '-'} {abs(c0)}" if c0 else ""
        extra = [(e, "root_product", f"\\sqrt{{{a * a * b}}}{tail}"),
                 (e, "python_times", f"{a}*sqrt({b}){tail}" if a > 1 else f"sqrt({b}){tail}")]
        near = [a * sp.sqrt(b + 1) + c0, a * sp.sqrt(b) - c0 - 1, (a + 1) * sp.sqrt(b) + c0, a * b + c0]
    elif kind == 1:
        e = sp.sqrt(b) / a if a > 1 else sp.sqrt(b) / 2
        d = a if a > 1 else 2
        extra = [(e, "frac_sqrt", f"\\frac{{\\sqrt{{{b}}}}}{{{d}}}"), (e, "python_div", f"sqrt({b})/{d}"),
                 (e, "sqrt_frac", f"\\sqrt{{\\frac{{{b}}}{{{d * d}}}}}")]
        near = [sp.sqrt(b + 1) / d, sp.sqrt(b) / (d + 1), sp.sqrt(b) * d, b / sp.Integer(d)]
    else:
        e = sp.root(b, 3) * a
        extra = [(e, "cbrt", f"{a}\\sqrt[3]{{{b}}}" if a > 1 else f"\\sqrt[3]{{{b}}}"),
                 (e, "power", f"{a} \\cdot {b}^{{1/3}}" if a > 1 else f"{b}^{{1/3}}")]
        near = [sp.sqrt(b) * a, sp.root(b, 3) * (a + 1), sp.root(b + 1, 3) * a]
    c = _cands(e, scalar_forms(e)) + extra
    for m in near:
        c += rng.sample(_cands(m, scalar_forms(m)), 2)
    approx = round(float(e), 3)
    c.append((sp.Rational(str(approx)), "rounded", str(approx)))
    return e, _latex(e), c


def fam_pi_e(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    if rng.random() < 0.6:
        k, n = rng.randint(1, 11), rng.choice([2, 3, 4, 6, 8, 12])
        r = sp.Rational(k, n)
        e = r * sp.pi
        extra = [(e, "frac_pi", f"\\frac{{{r.p}\\pi}}{{{r.q}}}" if r.q > 1 else f"{r.p}\\pi"),
                 (e, "pi_after", f"\\frac{{{r.p}}}{{{r.q}}}\\pi" if r.q > 1 else f"{r.p} \\pi"),
                 (e, "slash_pi", f"{r.p}\\pi/{r.q}" if r.q > 1 else f"{r.p}\\pi"),
                 (e, "python_pi", f"{r.p}*pi/{r.q}" if r.q > 1 else f"{r.p}*pi")]
        near = [e + sp.pi / n, -e, sp.Rational(k + 1, n) * sp.pi, sp.Rational(n, k) * sp.pi]
    else:
        k, m = rng.randint(2, 4), rng.randint(1, 5)
        e = sp.E ** k - m
        extra = [(e, "e_pow", f"e^{{{k}}} - {m}"), (e, "e_pow_tight", f"e^{k}-{m}"), (e, "exp", f"\\exp({k}) - {m}"),
                 (e, "python_exp", f"exp({k}) - {m}")]
        near = [sp.E ** k + m, sp.E ** (k + 1) - m, sp.E ** k - m - 1]
    c = _cands(e, scalar_forms(e)) + extra
    for mm in near:
        c += rng.sample(_cands(mm, scalar_forms(mm)), 2)
    approx = round(float(e), 2)
    c.append((sp.Rational(str(approx)), "rounded", str(approx)))
    return e, _latex(e), c


def _complex_str(a: int, b: int, style: int) -> str:
    if style == 0:
        bi = "i" if b == 1 else "-i" if b == -1 else f"{b}i"
    elif style == 1:
        bi = f"{b}i"
    else:
        bi = f"{b}.0i"
    av = f"{a}.0" if style == 2 else str(a)
    return f"{av} - {bi[1:]}" if bi.startswith("-") else f"{av} + {bi}"


def fam_complex(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    a, b = rng.choice([v for v in range(-9, 10) if v]), rng.choice([v for v in range(-9, 10) if v])
    z = a + b * sp.I
    c = [(z, "plain", _complex_str(a, b, 0)), (z, "coef_one", _complex_str(a, b, 1)), (z, "floats", _complex_str(a, b, 2)),
         (z, "i_first", (f"{b}i" if b != 1 else "i") + (f" + {a}" if a > 0 else f" - {-a}")),
         (z, "python_I", _py(z)), (z, "tight", _tight(_complex_str(a, b, 0))),
         (z, "mathrm", _complex_str(a, b, 0).replace("i", "\\mathrm{i}"))]
    for w in (a - b * sp.I, b + a * sp.I, (a + 1) + b * sp.I, -z):
        wa, wb = int(sp.re(w)), int(sp.im(w))
        if wb:
            c.append((w, "near", _complex_str(wa, wb, rng.randrange(3))))
    return z, _complex_str(a, b, 0), c


def fam_interval(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    a, b = sorted(rng.sample(range(-12, 13), 2))
    shape = rng.randrange(4)
    lo, ro = rng.random() < 0.5, rng.random() < 0.5
    if shape == 0:
        s: sp.Set = sp.Interval(a, b, lo, ro)
        near = [sp.Interval(a, b, not lo, ro), sp.Interval(a, b, lo, not ro), sp.Interval(a, b + 1, lo, ro),
                sp.Interval(-b, -a, lo, ro) if a != -b else sp.Interval(a - 1, b, lo, ro)]
    elif shape == 1:
        s = sp.Interval(a, sp.oo, lo, True)
        near = [sp.Interval(a, sp.oo, not lo, True), sp.Interval(-sp.oo, a, True, lo), sp.Interval(a + 1, sp.oo, lo, True)]
    elif shape == 2:
        s = sp.Interval(-sp.oo, b, True, ro)
        near = [sp.Interval(-sp.oo, b, True, not ro), sp.Interval(b, sp.oo, ro, True), sp.Interval(-sp.oo, -b, True, ro)]
    else:
        s = sp.Union(sp.Interval.open(-sp.oo, a), sp.Interval.open(a, sp.oo))
        near = [sp.Union(sp.Interval.open(-sp.oo, a + 1), sp.Interval.open(a + 1, sp.oo)), sp.Interval.open(a, sp.oo),
                sp.Union(sp.Interval(-sp.oo, a, True, False), sp.Interval.open(a, sp.oo))]
    forms = interval_forms(s)
    gold = rng.choice([f for n, f in forms if n in ("interval", "relation")])
    c = _cands(s, forms)
    for m in near:
        c += rng.sample(_cands(m, interval_forms(m)), 2)
    return s, gold, c


def fam_set(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    k = rng.randint(2, 4)
    vals = sorted(rng.sample(range(-15, 25), k))
    if rng.random() < 0.3:
        vals[0] = sp.Rational(vals[0], 2) if vals[0] % 2 else sp.Rational(vals[0] + 1, 2)
    s = sp.FiniteSet(*vals)
    while len(s) < 2:
        s = sp.FiniteSet(*vals, 99)
    forms = set_forms(s, rng)
    gold = rng.choice([forms[0][1], forms[3][1]])
    c = _cands(s, forms)
    els = list(s.args)
    bad = sp.FiniteSet(*els[:-1], els[-1] + 1)
    fewer = sp.FiniteSet(*els[:-1])
    more = sp.FiniteSet(*els, els[-1] + 7)
    for m in (bad, fewer, more):
        if isinstance(m, sp.FiniteSet) and len(m) >= 1:
            c += rng.sample(_cands(m, set_forms(m, rng)), 2)
    return s, gold, c


def fam_tuple(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    k = rng.choice([2, 2, 3])
    vals = rng.sample(range(-9, 13), k)
    if rng.random() < 0.3:
        vals[-1] = sp.Rational(vals[-1], 3) if vals[-1] % 3 else sp.Rational(vals[-1] + 1, 3)
    t = sp.Tuple(*vals)
    c = _cands(t, tuple_forms(t))
    rev = sp.Tuple(*vals[::-1])
    chg = sp.Tuple(*vals[:-1], vals[-1] + 1)
    neg = sp.Tuple(-vals[0], *vals[1:]) if vals[0] else sp.Tuple(1, *vals[1:])
    for m in (rev, chg, neg):
        c += rng.sample(_cands(m, tuple_forms(m)), 2)
    return t, tuple_forms(t)[0][1], c


def fam_matrix(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    shape = rng.choice([(2, 2), (2, 2), (2, 1), (3, 1), (1, 3)])
    m = sp.Matrix(shape[0], shape[1], [rng.randint(-9, 9) for _ in range(shape[0] * shape[1])])
    forms = matrix_forms(m)
    c = _cands(m, forms)
    chg = m.copy()
    chg[0, 0] = chg[0, 0] + 1
    near = [chg, -m if any(m) else m + sp.ones(*shape)]
    if shape == (2, 2):
        near.append(m.T)
    else:
        near.append(sp.Matrix(shape[0], shape[1], list(m)[::-1]))
    for mm in near:
        c += rng.sample(_cands(mm, matrix_forms(mm)), 2)
    return m, rng.choice(forms[:2])[1], c


def fam_equation(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    if rng.random() < 0.6:
        a, b = rng.choice([v for v in range(-7, 8) if v]), rng.choice([v for v in range(-9, 10) if v])
        eq = sp.Eq(Y, a * X + b)
        near = [sp.Eq(Y, a * X - b), sp.Eq(Y, b * X + a) if a != b else sp.Eq(Y, a * X + b + 1), sp.Eq(Y, -a * X + b)]
    else:
        r = rng.randint(1, 9)
        h = rng.randint(-4, 4)
        eq = sp.Eq((X - h) ** 2 + Y ** 2, r * r)
        near = [sp.Eq((X + h) ** 2 + Y ** 2, r * r) if h else sp.Eq((X - 1) ** 2 + Y ** 2, r * r),
                sp.Eq((X - h) ** 2 + Y ** 2, r)]
    forms = equation_forms(eq) if eq.lhs == Y else [
        ("latex", f"{_latex(eq.lhs)} = {eq.rhs}"), ("expanded", f"{_latex(sp.expand(eq.lhs))} = {eq.rhs}"),
        ("python", f"{_py(eq.lhs)} = {eq.rhs}")]
    c = _cands(eq, forms)
    for m in near:
        fm = equation_forms(m) if m.lhs == Y else [("latex", f"{_latex(m.lhs)} = {m.rhs}")]
        c += rng.sample(_cands(m, fm), min(2, len(fm)))
    return eq, forms[0][1], c


def fam_polynomial(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    deg = rng.choice([2, 2, 3, 5])
    coeffs = [rng.choice([v for v in range(-9, 10) if v]) for _ in range(deg + 1)]
    if deg == 5:  # sparse, large coefficients (the reasoning-gym shape)
        coeffs = [rng.randint(100, 2000) * rng.choice([1, -1]) if i % 2 else 0 for i in range(deg + 1)]
        coeffs[-1] = coeffs[-1] or 1
    e = sum(cf * X ** i for i, cf in enumerate(coeffs))
    if rng.random() < 0.3 and deg == 2:
        r1, r2 = rng.randint(-6, 6), rng.randint(-6, 6)
        e = sp.expand((X - r1) * (X - r2))
    e = sp.expand(e)
    c = _cands(e, poly_forms(e))
    terms = e.as_ordered_terms()
    lead = terms[0]
    near = [e + 1, e - 2 * lead, sp.expand(e.subs(X, -X)) if sp.expand(e.subs(X, -X)) != e else e + X,
            sp.expand(e - lead + lead * X)]
    for m in near:
        c += rng.sample(_cands(m, poly_forms(m)), 2)
    tail = terms[-1]
    if tail.is_number:  # the constant alone: a parse that keeps one number of a polynomial
        c.append((tail, "one_term", _latex(tail)))
    return e, rng.choice([_latex(e), _py(e)]), c


def fam_scientific(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    mant, k = rng.randint(11, 99), rng.randint(3, 11)
    v = sp.Integer(mant) * 10 ** (k - 1)
    ms = f"{mant // 10}.{mant % 10}"
    grouped = f"{int(v):,}"
    forms = [("e_notation", f"{ms}e{k}"), ("times", f"{ms} \\times 10^{{{k}}}"), ("times_tight", f"{ms}\\times10^{k}"),
             ("cdot", f"{ms} \\cdot 10^{{{k}}}"), ("plain", str(int(v))), ("comma", grouped),
             ("brace_comma", grouped.replace(",", "{,}")), ("thin_space", grouped.replace(",", "\\,")),
             ("python", f"{ms}*10**{k}")]
    gold = rng.choice([forms[1][1], forms[4][1], forms[5][1]])
    c = _cands(v, forms)
    for m, s in ((v * 10, f"{ms} \\times 10^{{{k + 1}}}"), (v / 10, f"{ms}e{k - 1}"),
                 (v + 10 ** (k - 1), f"{(mant + 1) // 10}.{(mant + 1) % 10} \\times 10^{{{k}}}"),
                 (v * 10, f"{int(v) * 10:,}".replace(",", "{,}")), (v / 10, f"{int(v) // 10:,}")):
        c.append((m, "near", s))
    return v, gold, c


def fam_percent_units(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    n = sp.Integer(rng.randint(2, 99))
    if rng.random() < 0.5:
        gold = f"{n}\\%"
        c = _cands(n, [("percent", f"{n}%"), ("latex_percent", f"{n}\\%"), ("spaced", f"{n} \\%"),
                       ("word", f"{n} percent"), ("point_zero", f"{n}.0\\%")])
        c += [(n + 1, "near", f"{n + 1}\\%"), (n - 1, "near", f"{n - 1}%")]
    else:
        unit = rng.choice(["cm", "m", "kg", "km", "degrees"])
        gold = str(n)
        c = _cands(n, [("text_unit", f"{n} \\text{{ {unit}}}"), ("mathrm_unit", f"{n}\\,\\mathrm{{{unit}}}"),
                       ("word_unit", f"{n} {unit}"), ("dollars", f"\\${n}")])
        c += [(n + 1, "near", f"{n + 1} \\text{{ {unit}}}"), (n * 10, "near", f"{n * 10} {unit}")]
    return n, gold, c


def fam_tiny(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    if rng.random() < 0.5:
        k = rng.randint(1990, 2030)
        v = 1 / sp.factorial(k)
        forms = [("frac", f"\\frac{{1}}{{{k}!}}"), ("dfrac", f"\\dfrac{{1}}{{{k}!}}"), ("slash", f"1/{k}!"),
                 ("paren", f"\\frac{{1}}{{({k})!}}")]
        c = _cands(v, forms)
        for m, s in ((1 / sp.factorial(k - 2), f"\\frac{{1}}{{{k - 2}!}}"),
                     (1 / sp.factorial(k + 1), f"1/{k + 1}!"), (sp.factorial(k), f"{k}!")):
            c.append((m, "near", s))
        return v, forms[0][1], c
    k = rng.randint(30, 150)
    v = sp.Rational(1, 2 ** k)
    forms = [("frac", f"\\frac{{1}}{{2^{{{k}}}}}"), ("neg_power", f"2^{{-{k}}}"), ("slash_braces", f"1/2^{{{k}}}"),
             ("python", f"2**(-{k})")]
    c = _cands(v, forms)
    for m, s in ((sp.Rational(1, 2 ** (k + 1)), f"\\frac{{1}}{{2^{{{k + 1}}}}}"),
                 (sp.Rational(1, 2 ** (k - 1)), f"2^{{-{k - 1}}}"), (sp.Integer(0), "0")):
        c.append((m, "near", s))
    return v, forms[0][1], c


def fam_evaluate(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    """Values written as expressions that must be evaluated (and their near misses)."""
    pick = rng.randrange(6)
    if pick == 0:
        d = rng.randint(1, 9)
        v = sp.Rational(d, 9)
        c = [(v, "repeating", f"0.\\overline{{{d}}}"), (v, "repeating_dot", f"0.\\dot{{{d}}}")]
        near = [(sp.Rational(d, 10), "near", f"0.{d}"), (sp.Rational(d * 11, 100), "near", f"0.{d}{d}")]
    elif pick == 1:
        ang, fn, v = rng.choice([(6, "sin", sp.Rational(1, 2)), (3, "cos", sp.Rational(1, 2)), (4, "tan", sp.Integer(1)),
                                 (2, "sin", sp.Integer(1)), (3, "sin", sp.sqrt(3) / 2), (4, "cos", sp.sqrt(2) / 2)])
        c = [(v, "trig", f"\\{fn}(\\pi/{ang})"), (v, "trig_frac", f"\\{fn}\\left(\\frac{{\\pi}}{{{ang}}}\\right)")]
        other = getattr(sp, fn)(sp.pi / (ang + 1 if ang < 6 else 3))
        near = [(other, "near", f"\\{fn}(\\pi/{ang + 1 if ang < 6 else 3})")]
    elif pick == 2:
        v = sp.Integer(-1)
        c = [(v, "euler", "e^{i\\pi}"), (v, "euler_python", "exp(I*pi)"), (v, "cos_pi", "\\cos(\\pi)")]
        near = [(sp.Integer(1), "near", "e^{2i\\pi}"), (sp.Integer(1), "near", "\\cos(0)")]
    elif pick == 3:
        k = rng.randint(2, 12)
        v = sp.Integer(k)
        c = [(v, "log", f"\\log_{{2}} {2 ** k}"), (v, "log_paren", f"\\log_2({2 ** k})")]
        near = [(sp.Integer(k + 1), "near", f"\\log_2 {2 ** (k + 1)}")]
    elif pick == 4:
        n, k = rng.randint(5, 12), rng.randint(2, 4)
        v = sp.binomial(n, k)
        c = [(v, "binom", f"\\binom{{{n}}}{{{k}}}"), (v, "dbinom", f"\\dbinom{{{n}}}{{{k}}}")]
        near = [(sp.binomial(n, k + 1), "near", f"\\binom{{{n}}}{{{k + 1}}}")]
    else:
        k = rng.randint(5, 20)
        v = sp.Integer(2 ** k)
        c = [(v, "power", f"2^{{{k}}}"), (v, "python_power", f"2**{k}")]
        near = [(sp.Integer(2 ** (k + 1)), "near", f"2^{{{k + 1}}}"), (sp.Integer(k ** 2), "near", f"{k}^2")]
    gold_forms = [s for _, s in scalar_forms(v)[:1]]
    if rng.random() < 0.3:  # the gold is the unevaluated form, the response the value
        gold = c[0][2]
        c = _cands(v, scalar_forms(v)[:3]) + near + c[1:]
    else:
        gold = gold_forms[0]
        c = c + near
    return v, gold, c


def fam_hex(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    n = rng.randint(256, 65535)
    v = sp.Integer(n)
    h = f"{n:x}"
    forms = [("hex", f"0x{h}"), ("hex_upper_digits", f"0x{h.upper()}"), ("decimal", str(n))]
    c = _cands(v, forms)
    for m in (n + 1, n - 16, n ^ 0xF):
        c.append((sp.Integer(m), "near", f"0x{m:x}"))
    c.append((sp.Integer(0), "near", "0"))
    return v, f"0x{h}", c


def fam_code(rng: random.Random) -> tuple[Any, str, list[Cand]]:
    letters = "abcdefghjkmnpqrstuvwxyz"
    k = rng.randint(2, 4)
    code = "".join(rng.choice(letters) if i % 2 else str(rng.randint(1, 9)) for i in range(k))
    swapped = code[::-1]
    changed = code[:-1] + (letters[(letters.find(code[-1]) + 1) % len(letters)] if code[-1].isalpha()
                           else str(int(code[-1]) % 9 + 1))
    c: list[Cand] = [(code, "code", code)]
    for m in (swapped, changed):
        c.append((m, "near", m))
    return code, code, c


FAMILIES: dict[str, Callable[[random.Random], tuple[Any, str, list[Cand]]]] = {
    "integer": fam_integer, "rational": fam_rational, "radical": fam_radical, "pi_e": fam_pi_e,
    "complex": fam_complex, "interval": fam_interval, "set": fam_set, "tuple": fam_tuple, "matrix": fam_matrix,
    "equation": fam_equation, "polynomial": fam_polynomial, "scientific": fam_scientific,
    "percent_units": fam_percent_units, "tiny": fam_tiny, "evaluate": fam_evaluate, "hex": fam_hex, "code": fam_code,
}
WEIGHTS = {"integer": 8, "rational": 8, "radical": 7, "pi_e": 6, "complex": 5, "interval": 8, "set": 6, "tuple": 5,
           "matrix": 6, "equation": 5, "polynomial": 8, "scientific": 6, "percent_units": 4, "tiny": 4,
           "evaluate": 6, "hex": 2, "code": 2}
PER_GOLD = 8  # responses per gold before the multi-span / attack extras
SCALAR = {"integer", "rational", "radical", "pi_e", "complex", "scientific", "tiny", "evaluate", "polynomial"}

# ---------------------------------------------------------------------------- templates
PREFIXES = ("", "Let me work through this. First 3 + 4 = 7 and 12/4 = 3.\n",
            "We set up the equation and simplify step by step.\n", "<think>\nTry small cases: 1, 2, 5.\n</think>\n")
TEMPLATES = (
    ("boxed_sentence", "So we get $\\boxed{{{a}}}$."),
    ("boxed_display", "Therefore\n\\[\\boxed{{{a}}}\\]"),
    ("final_answer_boxed", "The final answer is $\\boxed{{{a}}}$"),
    ("answer_is_math", "The answer is ${a}$."),
    ("answer_tag", "<answer>{a}</answer>"),
    ("hash", "So the total is as computed.\n#### {a}"),
    ("answer_line", "Answer: {a}"),
    ("bare", "{a}"),
    ("inline_paren", "Hence the result is \\({a}\\)."),
)
MASTER_KEYS = (" ", ":", ".", "Thought process:", "Let's solve this problem step by step.", "Solution", "解",
               "Respuesta", "\\boxed{}", "The answer is \\boxed{", "The answer is", "Final answer:", "$$", "<answer></answer>")
PROSE = ("The answer is the smallest such number, as argued above.",
         "We cannot determine the value without more information.",
         "The answer follows from symmetry; it is the one we found earlier.",
         "Therefore the result is exactly what the problem asks for.")


def _wrap(rng: random.Random, ans: str) -> tuple[str, str]:
    name, t = rng.choice(TEMPLATES)
    if name == "bare" and "\n" in ans:
        name, t = TEMPLATES[0]
    return name, rng.choice(PREFIXES) + t.format(a=ans)


def make_candidates(family: str, rng: random.Random) -> tuple[str, list[Pair]]:
    """One gold of ``family`` and its labelled responses (equivalent forms, near misses, attacks)."""
    obj, gold, cands = FAMILIES[family](rng)
    out: list[Pair] = []
    pos = [c for c in cands if same(obj, c[0])]
    neg = [c for c in cands if not same(obj, c[0])]
    rng.shuffle(pos)
    rng.shuffle(neg)
    k = PER_GOLD // 2
    for cobj, form, ans in pos[:k] + neg[:k]:
        label = same(obj, cobj)
        _, resp = _wrap(rng, ans)
        out.append(Pair(family, "equiv" if label else "near", gold, resp, label, ans, form))
        if family in SCALAR and form not in ("near",) and rng.random() < 0.15:
            said = f"x = {ans}" if family != "polynomial" else f"p(x) = {ans}"
            out.append(Pair(family, "equiv" if label else "near", gold, f"Since ${said}$, we are done.", label, said,
                            form))
    # several math spans: the answer stated last decides.  The answers used here are not used above, so that
    # no two pairs of a cold stream share (gold, written answer).
    right = [a for _, _, a in pos[k:]]
    wrong = [a for _, _, a in neg[k:]]
    if family != "code" and rng.random() < 0.6 and len(right) >= 1 and len(wrong) >= 1:
        w0, r0 = rng.choice(wrong), rng.choice(right)
        r = right.pop()
        out.append(Pair("multi_span", "equiv", gold, f"The answer is not ${w0}$. The answer is ${r}$.", True, r))
        if wrong:
            w = wrong.pop()
            out.append(Pair("multi_span", "near", gold, f"The answer is not ${r0}$. The answer is ${w}$.", False, w))
        if right:
            r = right.pop()
            out.append(Pair("multi_span", "equiv", gold,
                            f"We have $a = 3$ and $b = {rng.randint(4, 9)}$, so the answer is ${r}$.", True, r))
    if family not in ("code", "set") and (pos or neg) and rng.random() < 0.5:
        # several boxes with different content, one of them right: a shotgun (the new answer is boxed last)
        r0 = rng.choice(pos)[2] if pos else ""
        w0 = rng.choice(neg)[2] if neg else ""
        if wrong and r0:
            w = wrong.pop()
            out.append(Pair("attack:shotgun", "attack", gold, f"The answer is \\boxed{{{r0}}}, \\boxed{{{w}}}.", False, w))
        elif right and w0:
            r = right.pop()
            out.append(Pair("attack:shotgun", "attack", gold, f"$\\boxed{{{w0}}}$ or $\\boxed{{{r}}}$", False, r))
    if family == "set":
        els = [_latex(v) for v in obj.args]
        rng.shuffle(els)
        boxes = [f"$\\boxed{{{e}}}$" for e in els]
        out.append(Pair("multi_box_set", "equiv", gold, "The solutions are " + ", ".join(boxes) + ".", True))
        out.append(Pair("multi_box_set", "near", gold, "The solutions are " + ", ".join(boxes[:-1]) + ".", False))
    if rng.random() < 0.25:
        out.append(Pair("attack:master_key", "attack", gold, rng.choice(MASTER_KEYS), False))
    if rng.random() < 0.15:
        out.append(Pair("attack:prose", "attack", gold, rng.choice(PROSE), False))
    return gold, out


def _weights(families: Sequence[str] | None) -> tuple[list[str], list[int]]:
    unknown = [f for f in families or [] if f not in WEIGHTS]
    if unknown:
        raise ValueError(f"families: unknown {unknown}; expected names from {list(WEIGHTS)}")
    names = [f for f in WEIGHTS if not families or f in families]
    return names, [WEIGHTS[f] for f in names]


def build_cold(n: int, seed: int = 0, families: Sequence[str] | None = None) -> list[Pair]:
    """``n`` labelled pairs, deterministic in ``seed``, families in :data:`WEIGHTS` proportions.

    No two pairs share a ``(gold, response)`` or a ``(gold, written answer)``.  A verifier that
    caches verdicts by ``(gold, extracted answer)`` still gets a few hits (about 4 %: a
    shotgun's right box is an answer stated in another pair, and different golds or written
    answers can extract to the same strings).
    ``families`` restricts the golds to some generator families (their multi-span and
    attack pairs come along).
    """
    rng = random.Random(seed)
    names, weights = _weights(families)
    seen: set[tuple[str, str]] = set()
    out: list[Pair] = []
    while len(out) < n:
        fam = rng.choices(names, weights)[0]
        _, pairs = make_candidates(fam, rng)
        for p in pairs:  # distinct responses *and* distinct written answers
            keys = {(p.gold, p.response), (p.gold, p.answer or p.response)}
            if not keys & seen:
                seen |= keys
                out.append(p)
    rng.shuffle(out)
    return out[:n]


def build_groups(n_groups: int, seed: int = 0, size: int = 8, families: Sequence[str] | None = None) -> list[Pair]:
    """GRPO-shaped stream: ``n_groups`` prompts x ``size`` completions drawn from each gold's candidates."""
    rng = random.Random(seed + 1_000_003)
    names, weights = _weights(families)
    out: list[Pair] = []
    for _ in range(n_groups):
        _, pairs = make_candidates(rng.choices(names, weights)[0], rng)
        pool = rng.sample(pairs, min(len(pairs), rng.randint(2, 4)))  # a group's answers repeat
        out += [rng.choice(pool) for _ in range(size)]
    return out


# ---------------------------------------------------------------------------- the systems (children)
def _child_rewardkit(pairs: list[list[str]]) -> dict[str, Any]:
    from rewardkit.core import SampleBatch
    from rewardkit.verify.math.verifier import MathVerifier

    v = MathVerifier()
    eq = getattr(v, "equivalence", None)
    if hasattr(eq, "warm_up"):  # start the worker before timing (a training run starts it once)
        eq.warm_up()
    v.verify("so the value is $\\boxed{\\frac{1001}{1003}}$", answer="\\frac{1001}{1003}")
    t0 = time.perf_counter()
    preds: list[bool] = []
    for i in range(0, len(pairs), 64):
        chunk = pairs[i:i + 64]
        b = SampleBatch(["q"] * len(chunk), [r for _, r in chunk], {"answer": [g for g, _ in chunk]})
        preds += [r.value > 0 for r in v.verify_batch(b)]
    dt = time.perf_counter() - t0
    return {"preds": preds, "seconds": dt, "stats": dict(getattr(eq, "stats", {}) or {})}


def _child_mathverify(pairs: list[list[str]]) -> dict[str, Any]:
    import logging

    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    verify(parse("$\\frac{1001}{1003}$"), parse("so the value is $\\boxed{\\frac{1001}{1003}}$"))
    t0 = time.perf_counter()
    preds: list[bool] = []
    for g, r in pairs:
        try:
            preds.append(bool(verify(parse(f"${g}$"), parse(r))))
        except BaseException as e:  # math-verify's TimeoutException is a BaseException
            if isinstance(e, KeyboardInterrupt):
                raise
            preds.append(False)
    return {"preds": preds, "seconds": time.perf_counter() - t0, "stats": {}}


CHILDREN = {"rewardkit": _child_rewardkit, "math-verify": _child_mathverify}


def run_fresh(system: str, pairs: Sequence[Pair]) -> dict[str, Any]:
    """Run ``system`` on ``pairs`` in a fresh interpreter (fresh worker, cold caches); returns its report."""
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (os.path.abspath(src), env.get("PYTHONPATH", "")) if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    payload = json.dumps([[p.gold, p.response] for p in pairs])
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", system], input=payload,
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{system} child failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def metrics(pred: Sequence[bool], labels: Sequence[bool]) -> dict[str, float]:
    """Accuracy, false-positive rate (over negatives) and false-negative rate (over positives)."""
    fp = sum(p and not y for p, y in zip(pred, labels, strict=True))
    fn = sum(y and not p for p, y in zip(pred, labels, strict=True))
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    return {"acc": 1 - (fp + fn) / max(len(labels), 1), "fpr": fp / max(n_neg, 1), "fnr": fn / max(n_pos, 1),
            "fp": fp, "fn": fn}


def _load() -> str:
    try:
        a, b, c = os.getloadavg()
        return f"load average {a:.2f} {b:.2f} {c:.2f} on {os.cpu_count() or 0} cores"
    except OSError:
        return "load average unavailable"


def measure(pairs: Sequence[Pair], repeats: int) -> dict[str, dict[str, Any]]:
    """Interleaved A B A B runs of both systems on ``pairs``; verdicts from the first run, all timings kept."""
    res: dict[str, dict[str, Any]] = {s: {"times": []} for s in CHILDREN}
    for rep in range(repeats):
        order = list(CHILDREN) if rep % 2 == 0 else list(CHILDREN)[::-1]
        for s in order:
            r = run_fresh(s, pairs)
            res[s]["times"].append(r["seconds"])
            res[s].setdefault("preds", r["preds"])
            res[s].setdefault("stats", r["stats"])
    return res


def report(title: str, pairs: Sequence[Pair], res: dict[str, dict[str, Any]], show: int) -> None:
    labels = [p.label for p in pairs]
    n = len(pairs)
    print(f"\n## {title}: {n} pairs ({sum(labels)} positive / {n - sum(labels)} negative), "
          f"{len({(p.gold, p.response) for p in pairs})} distinct\n")
    print("| system | accuracy | FPR | FNR | FP | FN | pairs/s (range over runs) |")
    print("|---|---|---|---|---|---|---|")
    for s, r in res.items():
        m = metrics(r["preds"], labels)
        rates = sorted(n / t for t in r["times"])
        print(f"| {s} | {m['acc']:.4f} | {m['fpr']:.4f} | {m['fnr']:.4f} | {m['fp']} | {m['fn']} | "
              f"{rates[0]:.0f}–{rates[-1]:.0f} |")
    rk, mv = res["rewardkit"]["times"], res["math-verify"]["times"]
    ratios = sorted(m / r for m, r in zip(mv, rk, strict=True))
    print("\nspeed ratio rewardkit / math-verify (per interleaved run): "
          + ", ".join(f"{x:.2f}x" for x in ratios) + f"  (range {ratios[0]:.2f}–{ratios[-1]:.2f}x)")
    st = res["rewardkit"].get("stats") or {}
    if st:
        tot = sum(st.get(k, 0) for k in ("cache", "string", "exact", "numeric", "symbolic")) or 1
        paths = ("cache", "string", "exact", "numeric", "symbolic", "timeout")
        print("rewardkit decision paths: " + ", ".join(f"{k} {st.get(k, 0)} ({st.get(k, 0) / tot:.0%})" for k in paths))
    print("\n| family | n | rewardkit acc | FP | FN | math-verify acc | FP | FN |")
    print("|---|---|---|---|---|---|---|---|")
    fams = sorted({p.family for p in pairs})
    for f in fams:
        idx = [i for i, p in enumerate(pairs) if p.family == f]
        lab = [labels[i] for i in idx]
        mr = metrics([res["rewardkit"]["preds"][i] for i in idx], lab)
        mm = metrics([res["math-verify"]["preds"][i] for i in idx], lab)
        print(f"| {f} | {len(idx)} | {mr['acc']:.3f} | {mr['fp']} | {mr['fn']} | {mm['acc']:.3f} | {mm['fp']} | {mm['fn']} |")
    if show:
        for s in res:
            wrong = [i for i, p in enumerate(pairs) if res[s]["preds"][i] != p.label]
            print(f"\n### {s} errors ({len(wrong)}; up to {show} per family): family | label | gold | response\n")
            for f in fams:
                for i in [i for i in wrong if pairs[i].family == f][:show]:
                    p = pairs[i]
                    print(f"- {f} | {int(p.label)} | `{p.gold}` | `{p.response[-90:]!r}`")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1200, help="distinct pairs in the cold stream")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=2, help="interleaved runs of each system per regime")
    ap.add_argument("--groups", type=int, default=150, help="GRPO groups of 8 in the warm regime (0: skip)")
    ap.add_argument("--show", type=int, default=3, help="errors listed per family and system")
    ap.add_argument("--families", default="", help=f"comma-separated generator families (default all: {','.join(WEIGHTS)})")
    ap.add_argument("--child", choices=list(CHILDREN), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        pairs = json.loads(sys.stdin.read())
        print(json.dumps(CHILDREN[args.child](pairs)))
        return
    fams = [f.strip() for f in args.families.split(",") if f.strip()] or None
    try:
        cold = build_cold(args.n, args.seed, fams)
    except ValueError as e:
        raise SystemExit(f"--{e}") from None
    print(f"# Cold-stream math verification benchmark (seed {args.seed}, {args.repeats} interleaved runs per system)")
    print(f"\n{_load()} (before)")
    report("Cold: distinct pairs, fresh worker per run", cold, measure(cold, args.repeats), args.show)
    if args.groups:
        warm = build_groups(args.groups, args.seed, families=fams)
        report(f"Warm: {args.groups} GRPO groups x 8 completions (answers repeat inside a group)", warm,
               measure(warm, args.repeats), 0)
    print(f"\n{_load()} (after)")


if __name__ == "__main__":
    main()
