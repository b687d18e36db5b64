"""Issue #19, the value side: each family of answer forms, generated in many surface forms.

Every case goes through the full comparison (fast path, then math-verify in a worker), so a
wrong verdict anywhere in the chain fails; equal forms must also be decided without the
symbolic step (``method == "numeric"``), which is what makes distinct pairs fast.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy

from rewardkit.core.errors import ConfigError
from rewardkit.verify.math.equivalence import MathEquivalence
from rewardkit.verify.math.verifier import MathVerifier

RNG = random.Random(19)


def _frac(q: Fraction) -> str:
    s = "-" if q < 0 else ""
    q = abs(q)
    return s + (str(q.numerator) if q.denominator == 1 else f"\\frac{{{q.numerator}}}{{{q.denominator}}}")


def _check(eq: MathEquivalence, cases: list[tuple[str, str, bool]], fast: bool = True) -> None:
    wrong = []
    for gold, pred, want in cases:
        v = eq.compare(gold, pred)
        if v.equal != want or (fast and v.method not in ("numeric", "string")):
            wrong.append((gold, pred, want, v.equal, v.method))
    assert not wrong, f"{len(wrong)} of {len(cases)} wrong, first: {wrong[:5]}"


# -- family 2: relations against intervals and unions ------------------------------------------
def _relation_cases() -> list[tuple[str, str, bool]]:
    out = []
    for _ in range(12):
        a = Fraction(RNG.randint(-30, 30), RNG.choice([1, 1, 2, 3]))
        b = a + RNG.randint(1, 9)
        A, B = _frac(a), _frac(b)
        v = RNG.choice("xyt")
        for gold, good, bad in [
            (f"({A}, \\infty)", [f"{v} > {A}", f"{A} < {v}", f"${v}>{A}$", f"{v} \\gt {A}", f"{v} \\in ({A},\\infty)"],
             [f"{v} \\ge {A}", f"{v} > {_frac(a + 1)}", f"{v} < {A}"]),
            (f"(-\\infty, {A}]", [f"{v} \\le {A}", f"{v} \\leq {A}", f"{A} \\geq {v}", f"{v}\u2264{A}"],
             [f"{v} < {A}", f"{v} \\ge {A}"]),
            (f"(-\\infty,{A})\\cup({A},\\infty)", [f"{v} \\neq {A}", f"{v} \\ne {A}", f"{v} != {A}"],
             [f"{v} \\neq {_frac(a - 1)}", f"{v} > {A}"]),
            (f"[{A},{B}]", [f"{A} \\le {v} \\le {B}", f"{B} \\ge {v} \\ge {A}", f"{A}\\leq {v}\\leq {B}"],
             [f"{A} < {v} \\le {B}", f"{A} \\le {v} \\le {_frac(b + 1)}"]),
            (f"(-\\infty, {A}) \\cup ({B}, \\infty)", [f"{v} < {A} \\text{{ or }} {v} > {B}", f"{v}<{A} or {v}>{B}"],
             [f"{v} \\le {A} \\text{{ or }} {v} > {B}", f"{A} < {v} < {B}"]),
        ]:
            out += [(gold, p, True) for p in good] + [(gold, p, False) for p in bad]
    return out


def test_relations_equal_their_intervals(symbolic_eq):
    _check(symbolic_eq, _relation_cases())


# -- family 3: scientific and grouped numbers ---------------------------------------------------
def _scientific_cases() -> list[tuple[str, str, bool]]:
    out = []
    for _ in range(25):
        mi = RNG.randint(11, 99)
        m = f"{mi // 10}.{mi % 10}"
        k = RNG.randint(4, 12)
        n = Fraction(mi, 10) * 10 ** k
        gold = str(int(n))
        grouped = f"{int(n):,}"
        forms = [f"{m}e{k}", f"{m}E{k}", f"{m}e+{k}", f"{m} \\times 10^{{{k}}}", f"{m}\\times10^{{{k}}}",
                 f"{m} \\cdot 10^{k}" if k < 10 else f"{m} \\cdot 10^{{{k}}}", f"{m}*10**{k}",
                 grouped.replace(",", "{,}"), grouped.replace(",", "\\,"), grouped.replace(",", "\\ "), grouped]
        out += [(gold, f, True) for f in forms]
        out += [(f"{m}\\times 10^{{{k}}}", gold, True)]
        out += [(gold, f"{m}e{k + 1}", False), (gold, f"{m} \\times 10^{{{k - 1}}}", False),
                (gold, f"{(mi + 1) // 10}.{(mi + 1) % 10}e{k}", False), (gold, grouped[:-1].replace(",", "{,}") + "1", False)]
    return out


def test_scientific_and_grouped_numbers(symbolic_eq):
    _check(symbolic_eq, _scientific_cases())


# -- family 4: matrices and vectors -------------------------------------------------------------
def _matrix(rows: list[list[int]], env: str) -> str:
    return f"\\begin{{{env}}}" + " \\\\ ".join(" & ".join(str(x) for x in r) for r in rows) + f"\\end{{{env}}}"


def _matrix_cases() -> list[tuple[str, str, bool]]:
    out = []
    for _ in range(15):
        r, c = RNG.choice([(2, 2), (2, 3), (3, 1), (1, 3), (3, 3)])
        m = [[RNG.randint(-9, 9) for _ in range(c)] for _ in range(r)]
        gold = _matrix(m, "pmatrix")
        for env in ("pmatrix", "bmatrix"):
            out.append((gold, _matrix(m, env), True))
            out.append((gold, "$" + _matrix(m, env) + "$", True))
            out.append((gold, "\\left(" + _matrix(m, "matrix") + "\\right)", True))
            bad = [row[:] for row in m]
            i, j = RNG.randrange(r), RNG.randrange(c)
            bad[i][j] += RNG.choice([-1, 1])
            out.append((gold, _matrix(bad, env), False))
            if r != c:
                out.append((gold, _matrix([list(col) for col in zip(*m, strict=True)], env), False))
        if c == 1:
            out.append((gold, "(" + ", ".join(str(row[0]) for row in m) + ")", True))
    return out


def test_matrices_and_vectors(symbolic_eq):
    _check(symbolic_eq, _matrix_cases())


# -- family 5: plain-text and Python syntax -----------------------------------------------------
X = sympy.Symbol("x")


def _python_cases() -> list[tuple[str, str, bool]]:
    out = []
    for _ in range(20):
        roots = [RNG.randint(-9, 9) for _ in range(RNG.randint(2, 3))]
        lead = RNG.choice([1, 2, 3, -1])
        poly = lead * sympy.prod([X - r for r in roots])
        expanded = sympy.expand(poly)
        terms = list(sympy.Add.make_args(expanded))
        RNG.shuffle(terms)
        reordered = " + ".join(str(t) for t in terms).replace("+ -", "- ")
        near = expanded + RNG.choice([1, -1, X, -X])
        for gold in (sympy.latex(expanded), str(expanded)):
            out += [(gold, str(expanded), True), (gold, reordered, True), (gold, str(sympy.factor(expanded)), True),
                    (gold, sympy.latex(sympy.factor(expanded)), True), (gold, str(near), False),
                    (gold, str(expanded.coeff(X, 0)), False)]
    for _ in range(10):
        a, b = RNG.randint(2, 9), RNG.choice([2, 3, 5, 6, 7, 10, 11])
        d = RNG.randint(2, 9)
        out += [(f"{a}\\sqrt{{{b}}}", f"{a}*sqrt({b})", True), (f"\\frac{{\\sqrt{{{b}}}}}{{{d}}}", f"sqrt({b})/{d}", True),
                (f"\\frac{{\\pi}}{{{d}}}", f"pi/{d}", True), (f"\\frac{{{a}\\pi}}{{{d}}}", f"{a}*pi/{d}", True),
                (f"{a}\\sqrt{{{b}}}", f"{a}*sqrt({b + 1})", False), (f"\\frac{{\\pi}}{{{d}}}", f"pi/{d + 1}", False)]
    return out


def test_python_syntax_and_reordered_polynomials(symbolic_eq):
    _check(symbolic_eq, _python_cases())


# -- family 6: values that need evaluating -------------------------------------------------------
def _evaluated_cases() -> list[tuple[str, str, bool]]:
    out = []
    for _ in range(15):
        rep = str(RNG.randint(1, 98))
        pre = RNG.choice(["", str(RNG.randint(0, 9))])
        ip = RNG.randint(0, 5)
        n = len(pre)
        val = Fraction(ip) + (Fraction(int(pre), 10 ** n) if pre else 0) + Fraction(int(rep), (10 ** len(rep) - 1) * 10 ** n)
        out += [(_frac(val), f"{ip}.{pre}\\overline{{{rep}}}", True),
                (_frac(val + Fraction(1, 10 ** 6)), f"{ip}.{pre}\\overline{{{rep}}}", False)]
    out += [("1", "0.\\overline{9}", True), ("-1", "e^{i\\pi}", True), ("1", "e^{2\\pi i}", True), ("1", "e^{i\\pi}", False),
            ("\\frac12", "\\sin(\\pi/6)", True), ("\\frac{1}{2}", "\\cos\\frac{\\pi}{3}", True), ("1", "\\tan(\\pi/4)", True),
            ("\\frac{1}{2}", "\\sin(\\pi/3)", False), ("\\frac{\\sqrt{3}}{2}", "\\sin(\\pi/3)", True),
            ("3", "\\ln(e^3)", True), ("3", "\\log_2 8", True), ("i", "\\sqrt{-1}", True), ("2i", "\\sqrt{-4}", True),
            ("0", "\\sqrt{2}-\\sqrt{2}", True), ("\\frac{\\pi}{2}", "\\arcsin(1)", True),
            ("\\frac{\\pi}{3}", "\\arccos(1/2)", True), ("10", "\\binom{5}{2}", True)]
    return out


def test_values_that_need_evaluating(symbolic_eq):
    _check(symbolic_eq, _evaluated_cases())


# -- family 8: near misses that rounding hides ---------------------------------------------------
def _near_miss_cases() -> list[tuple[str, str, bool]]:
    out = []
    for _ in range(15):
        n = RNG.randint(20, 2010)
        k = RNG.randint(30, 300)
        b = RNG.choice([2, 3, 5, 6, 7])
        out += [(f"\\frac{{1}}{{{n}!}}", f"\\frac{{1}}{{{n + 2}!}}", False), (f"\\frac{{1}}{{{n}!}}", f"1/{n}!", True),
                (f"\\frac{{1}}{{{n}!}}", f"\\frac{{1}}{{{n - 1}!}}", False),
                (f"2^{{-{k}}}", f"\\frac{{1}}{{2^{{{k + 1}}}}}", False), (f"2^{{-{k}}}", f"\\frac{{1}}{{2^{{{k}}}}}", True),
                (f"10^{{{k}}}+1", f"10^{{{k}}}", False),
                (f"\\frac{{\\sqrt{{{b}}}}}{{10^{{{k}}}}}", f"\\frac{{\\sqrt{{{b}}}}}{{10^{{{k + 1}}}}}", False),
                (f"\\frac{{\\sqrt{{{b}}}}}{{10^{{{k}}}}}", f"\\sqrt{{{b}}} \\cdot 10^{{-{k}}}", True),
                (f"\\pi \\cdot 10^{{-{k}}}", f"\\pi \\cdot 10^{{-{k + 3}}}", False)]
        # decimals that differ in the last of many digits (math-verify rounds them to 6)
        d = RNG.randint(10 ** 9, 10 ** 10)
        x = f"-{d // 10 ** 9}.{d % 10 ** 9:09d}0"
        y = f"-{(d + 1) // 10 ** 9}.{(d + 1) % 10 ** 9:09d}0"
        out += [(x, y, False), (x, x.rstrip("0"), True)]
    return out


def test_near_misses_are_never_rounded_together(symbolic_eq):
    _check(symbolic_eq, _near_miss_cases())


# -- family 9: literals that are not decimal --------------------------------------------------------
def _literal_cases() -> list[tuple[str, str, bool]]:
    out = []
    for _ in range(15):
        n = RNG.randint(2, 100_000)
        for f in (hex, bin, oct):
            out += [(str(n), f(n), True), (f(n), str(n), True), (str(n + 1), f(n), False), (f(n), f(n + 1), False)]
        base = RNG.choice([2, 3, 5, 8, 16])
        digits = sympy.ntheory.digits(n, base)[1:]
        word = "".join("0123456789ABCDEF"[d] for d in digits)
        out += [(f"{word}_{{{base}}}", word, True), (f"{word}_{base}", str(n), False) if word != str(n) else ("1", "1", True),
                (str(n), f"{word}_{{{base}}}", True), (f"{word}_{{{base}}}", str(int(word, base) + 1), False)]
    for _ in range(15):
        letters, nums = RNG.sample("abcdefghkmnpqrstuvwz", 2), RNG.sample("123456789", 2)
        code = letters[0] + nums[0] + letters[1] + nums[1]
        perm = "".join(RNG.sample(code, len(code)))
        out += [(code, code, True), (code, perm, perm == code), (nums[0] + letters[0], letters[0] + nums[0], False)]
    for _ in range(10):
        coeffs = [RNG.randint(100, 2000) for _ in range(3)]
        y = RNG.choice("xyz")
        poly = f"{coeffs[0]}*{y}**5 - {coeffs[1]}*{y}**3 - {coeffs[2]}*{y}"
        reordered = f"-{coeffs[2]}*{y} + {coeffs[0]}*{y}**5 - {coeffs[1]}*{y}**3"
        out += [(poly, str(coeffs[2]), False), (str(coeffs[2]), poly, False), (poly, reordered, True)]
    return out


def test_non_decimal_literals_and_codes(symbolic_eq):
    _check(symbolic_eq, _literal_cases())


# -- family 10 and 12: options ------------------------------------------------------------------
def test_complex_numbers_in_any_spelling(symbolic_eq):
    cases = []
    for _ in range(15):
        a, b = RNG.randint(-9, 9), RNG.randint(1, 9)
        bs = "" if b == 1 else str(b)
        cases += [(f"{a} + {bs}i", f"{a}.0 + {b}.0i", True), (f"{a}+{bs}i", f"{bs}i + {a}", True),
                  (f"{a} + {bs}i", f"{a} + {b}*I", True), (f"{a} - {bs}i", f"{a} + {bs}i", False),
                  (f"{a} + {bs}i", f"{a + 1} + {bs}i", False)]
    _check(symbolic_eq, cases)


def test_form_option_requires_the_gold_form():
    from rewardkit.verify.math.exact import CompareOptions, exact_equal

    gold_form = CompareOptions(form="gold")
    for _ in range(20):
        p, q = RNG.randint(1, 50), RNG.randint(2, 50)
        g = Fraction(p, q)
        if g.denominator == 1:
            continue
        k = RNG.randint(2, 5)
        reduced = f"\\frac{{{g.numerator}}}{{{g.denominator}}}"
        unreduced = f"\\frac{{{k * g.numerator}}}{{{k * g.denominator}}}"
        assert exact_equal(reduced, f"{g.numerator}/{g.denominator}", gold_form) is True
        assert exact_equal(reduced, unreduced, gold_form) is False
        assert exact_equal(reduced, unreduced) is True  # value only
    primes = [2, 3, 5, 7, 11, 13]
    for _ in range(20):
        fs = sorted(RNG.choices(primes, k=RNG.randint(2, 5)))
        n = sympy.prod(fs)
        powers = sympy.factorint(n)
        gold = " \\cdot ".join(f"{b}^{{{e}}}" if e > 1 else str(b) for b, e in sorted(powers.items()))
        spelled = " \\times ".join(str(f) for f in RNG.sample(fs, len(fs)))
        assert exact_equal(gold, spelled, gold_form) is True
        assert exact_equal(gold, " * ".join(str(f) for f in reversed(fs)), gold_form) is True
        assert exact_equal(gold, str(n), gold_form) is False
        assert exact_equal(gold, str(n)) is True
        if fs[0] * fs[1] not in primes:
            assert exact_equal(gold, " \\cdot ".join([str(fs[0] * fs[1])] + [str(f) for f in fs[2:]]), gold_form) is False
    for _ in range(10):
        xs = sorted(RNG.sample(range(-20, 20), 4))
        gold = ", ".join(map(str, xs))
        shuffled = xs[:]
        while shuffled == xs:
            RNG.shuffle(shuffled)
        assert exact_equal(gold, ", ".join(map(str, shuffled)), gold_form) is False
        assert exact_equal(gold, ", ".join(map(str, shuffled))) is True
        assert exact_equal(gold, ",".join(map(str, xs)), gold_form) is True
    assert exact_equal("0.0120", "0.012", gold_form) is False and exact_equal("0.0120", "0.0120", gold_form) is True
    with pytest.raises(ConfigError, match="form"):
        CompareOptions(form="pretty")


def test_tolerance_and_significant_figures():
    from rewardkit.verify.math.exact import CompareOptions, exact_equal

    for _ in range(20):
        x = Fraction(RNG.randint(10 ** 5, 10 ** 6), 10 ** RNG.randint(0, 9))
        three = float(f"{float(x):.3g}")
        assert exact_equal(_frac(x), repr(three), CompareOptions(sig_figs=3)) is True
        assert exact_equal(_frac(x), repr(three), CompareOptions(sig_figs=6)) is (Fraction(repr(three)) == x)
        assert exact_equal(_frac(x), repr(float(x) * 1.001), CompareOptions(tolerance=0.01)) is True
        assert exact_equal(_frac(x), repr(float(x) * 1.001), CompareOptions(tolerance=1e-4)) is False
        # relative tolerance never passes values that differ by orders of magnitude
        assert exact_equal(_frac(x / 10 ** 20), _frac(x / 10 ** 22), CompareOptions(tolerance=0.5)) is False
    assert exact_equal("\\frac{1}{3}", "0.333", CompareOptions(sig_figs=3)) is True
    with pytest.raises(ConfigError, match="tolerance"):
        CompareOptions(tolerance=2.0)


def test_locale_decimal_commas_and_gold_precision():
    from rewardkit.verify.math.exact import CompareOptions, exact_equal

    comma = CompareOptions(locale="de")
    for _ in range(20):
        a, b = RNG.randint(0, 5000), RNG.randint(1, 99)
        text = f"{a},{b:02d}"
        value = f"{a}.{b:02d}"
        assert exact_equal(value, text, comma) is True
        assert exact_equal(value, text) is not True  # default: a list, never a decimal
        assert exact_equal(value, f"{a}{{,}}{b:02d}", comma) is True
    assert exact_equal("1000.99", "1000,99", CompareOptions(locale="fr")) is True
    assert exact_equal("2.74", "2,74", comma) is True and exact_equal("2.75", "2,74", comma) is False
    prec = CompareOptions(precision="gold")
    for _ in range(20):
        x = Fraction(RNG.randint(1, 10 ** 7), 10 ** 6)
        n = RNG.randint(1, 3)
        rounded = round(x, n)
        gold = f"{float(rounded):.{n}f}"
        assert exact_equal(gold, f"{float(x):.6f}", prec) is True
        assert exact_equal(gold, f"{float(rounded + Fraction(2, 10 ** n)):.6f}", prec) is False
    with pytest.raises(ConfigError, match="locale"):
        CompareOptions(locale="klingon")


def test_verifier_and_term_pass_the_options():
    from rewardkit.core import SampleBatch, build_reward

    v = MathVerifier(symbolic=False, form="gold")
    assert v.verify("\\boxed{\\frac{2}{4}}", answer="\\frac{1}{2}").value == 0.0
    assert v.verify("\\boxed{\\frac{1}{2}}", answer="\\frac{1}{2}").value == 1.0
    r = build_reward({"terms": [{"type": "math_answer", "params": {"symbolic": False, "sig_figs": 2}}]})
    out = r(SampleBatch(["q", "q"], ["\\boxed{3.1}", "\\boxed{3.2}"], {"answer": ["\\pi", "\\pi"]}))
    assert out.tolist() == [1.0, 0.0]


def test_identity_testing_is_deterministic_and_bounded():
    from rewardkit.verify.math.exact import exact_equal

    # the same pair gives the same verdict; non-polynomial identities are decided in high precision
    assert exact_equal("\\frac{x^2-1}{x-1}", "x+1") is True
    assert exact_equal("\\sqrt{x^2+2x+1}", "x+1") is True
    assert exact_equal("e^{x+y}", "e^x e^y") is True and exact_equal("e^{x+y}", "e^x + e^y") is False
    assert exact_equal("x^{300}", "x^{301}") in (False, None)
    assert exact_equal("(x+1)^{200}", "(1+x)^{200}") is True
    assert exact_equal("x" + "+x" * 150, "151x") is True


def test_sympy_renderings_of_sets_and_matrices(symbolic_eq):
    # sympy's str() and latex() of the same object are one answer; a changed entry is another
    cases = []
    for _ in range(12):
        a = RNG.randint(-9, 5)
        b = a + RNG.randint(1, 6)
        lo, hi = RNG.choice([(True, True), (False, False), (True, False), (False, True)])
        iv = sympy.Interval(a, b, left_open=lo, right_open=hi)
        other = sympy.Interval(a, b + 1, left_open=lo, right_open=hi)
        ray = sympy.Interval.open(a, sympy.oo)
        union = sympy.Union(sympy.Interval.open(-sympy.oo, a), sympy.Interval.open(a, sympy.oo))
        fs = sympy.FiniteSet(*RNG.sample(range(-9, 10), 3))
        m = sympy.Matrix([[RNG.randint(-9, 9) for _ in range(2)] for _ in range(2)])
        m2 = m.copy()
        m2[1, 1] += 1
        for obj, near in ((iv, other), (ray, other), (union, ray), (fs, sympy.FiniteSet(*list(fs)[:2])), (m, m2)):
            cases += [(sympy.latex(obj), str(obj), True), (str(obj), sympy.latex(obj), True),
                      (sympy.latex(obj), str(near), False)]
    _check(symbolic_eq, cases)
