"""Smoke versions of the math benchmarks (bench/verify/math_cold.py and peer_tasks.py).

The benchmarks themselves never run in the suite; these tests check that their data is
what they claim: deterministic, distinct, labelled by sympy truth, rendered faithfully,
disjoint from the test suite's own pairs, and that the scripts run end to end.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import random
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "verify"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_verify_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = mod  # dataclasses resolve their module while the class is created
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def cold():
    return _load("math_cold")


@pytest.fixture(scope="module")
def stream(cold):
    return cold.build_cold(1000, seed=0)


# ---------------------------------------------------------------------------- math_cold: the data
def test_generator_is_deterministic_in_its_seed(cold):
    a, b, c = cold.build_cold(60, seed=3), cold.build_cold(60, seed=3), cold.build_cold(60, seed=4)
    assert a == b
    assert a != c
    g1, g2 = cold.build_groups(5, seed=3), cold.build_groups(5, seed=3)
    assert g1 == g2 and len(g1) == 40


def test_thousand_distinct_pairs_no_shared_answer(stream):
    assert len(stream) == 1000
    assert len({(p.gold, p.response) for p in stream}) == 1000
    assert len({(p.gold, p.answer or p.response) for p in stream}) == 1000  # distinct written answers
    fams = {p.family for p in stream}
    for f in ("interval", "matrix", "polynomial", "complex", "scientific", "tiny", "multi_span", "attack:shotgun",
              "attack:master_key"):
        assert f in fams, f
    pos = sum(p.label for p in stream)
    assert 0.3 < pos / len(stream) < 0.7


def test_cold_stream_rarely_hits_the_verdict_cache(stream):
    # what "cold" means for the timing: the verifier's (gold, extracted answer) cache decides few pairs
    from rewardkit.core import SampleBatch
    from rewardkit.verify.math.verifier import MathVerifier

    v = MathVerifier(symbolic=False)
    for i in range(0, len(stream), 64):
        chunk = stream[i:i + 64]
        v.verify_batch(SampleBatch(["q"] * len(chunk), [p.response for p in chunk], {"answer": [p.gold for p in chunk]}))
    st = v.equivalence.stats
    compared = sum(st[k] for k in ("cache", "string", "exact", "numeric", "symbolic"))
    assert compared > 0.8 * len(stream)
    assert st["cache"] <= 0.05 * compared, st


def test_truth_function_on_the_issue_families(cold):
    same, x, y = cold.same, cold.X, cold.Y
    assert not same(1 / sp.factorial(2006), 1 / sp.factorial(2004))  # rounding would hide this one
    assert same(1 / sp.factorial(2006), sp.Integer(1) / sp.factorial(2006))
    assert same(sp.Interval.open(-8, sp.oo), (x > -8).as_set())
    assert same(sp.Union(sp.Interval.open(-sp.oo, 2), sp.Interval.open(2, sp.oo)), sp.Ne(x, 2).as_set())
    assert not same(sp.Interval(-2, 7), sp.Interval.Ropen(-2, 7))
    assert same(sp.FiniteSet(1, 2, 3), sp.FiniteSet(3, 1, 2))
    assert not same(sp.Tuple(1, 2), sp.Tuple(2, 1))
    m = sp.Matrix([[1, 2], [3, 4]])
    assert not same(m, m.T) and same(m, sp.Matrix([[1, 2], [3, 4]]))
    assert not same(sp.Matrix([1, 2]), sp.Matrix([[1, 2]]))  # a column is not a row
    assert same(sp.sqrt(8), 2 * sp.sqrt(2)) and not same(sp.sqrt(2), sp.Rational("1.414"))
    assert same(sp.Eq(y, 2 * x + 3), sp.Eq(y, 3 + 2 * x)) and not same(sp.Eq(y, 2 * x + 3), sp.Eq(y, 3 * x + 2))
    assert not same("a3", "3a") and same("a3", "a3")
    assert not same(sp.Integer(0), sp.FiniteSet(0))


def _value(s: str):
    """A python-syntax answer read by sympy itself, decimals exactly (``^`` is a power, as in the caret forms)."""
    from sympy.parsing.sympy_parser import implicit_multiplication, rationalize, standard_transformations

    return sp.parse_expr(s.replace("^", "**"), local_dict={"e": sp.E, "I": sp.I, "i": sp.I},
                         transformations=(*standard_transformations, implicit_multiplication, rationalize))


PYTHON_FORMS = {"plain", "coef_one", "floats", "i_first", "euler_python", "python_power", "python", "python_reordered",
                "factored_python", "python_times", "python_div", "python_pi", "python_exp", "python_I", "caret", "slash",
                "decimal", "point_zero", "e_notation"}


@pytest.mark.parametrize("family", ["integer", "rational", "radical", "pi_e", "complex", "polynomial", "scientific",
                                    "tuple", "tiny", "evaluate"])
def test_rendered_forms_read_back_as_their_objects(cold, family):
    """Renderer faithfulness: every python-syntax form, read by sympy's parser, is its object."""
    checked = 0
    for seed in range(25):
        _, _, cands = cold.FAMILIES[family](random.Random(seed))
        for obj, form, ans in cands:
            if form not in PYTHON_FORMS:
                continue
            got = _value(ans)
            if isinstance(obj, sp.Tuple):
                got = sp.Tuple(*got)
            assert cold.same(obj, got), (family, form, ans, obj)
            checked += 1
    assert checked > 0


def test_latex_forms_of_numbers_have_the_objects_value(cold):
    """LaTeX renderings of scalars evaluate to their object (checked with latex2sympy; it reads decimals as floats,
    so to 1e-12 relative: a wrong rendering is off by far more)."""
    latex2sympy = pytest.importorskip("latex2sympy2_extended").latex2sympy
    checked = 0
    for family in ("rational", "radical", "pi_e", "scientific", "integer"):
        for seed in range(12):
            _, _, cands = cold.FAMILIES[family](random.Random(seed))
            for obj, form, ans in cands:
                if form not in ("latex", "dfrac", "tfrac", "spaced", "tight", "frac_pi", "pi_after", "times", "cdot"):
                    continue
                got = sp.N(latex2sympy(ans) - obj, 30)
                assert abs(complex(got)) < 1e-12 * max(1.0, abs(complex(sp.N(obj)))), (family, form, ans, obj)
                checked += 1
    assert checked > 100


def test_labels_on_a_sample_follow_from_the_objects(cold, stream):
    """Attacks are negatives; a multi-span response is right iff its last stated answer is; sample labels re-derived."""
    for p in stream:
        if p.kind == "attack":
            assert not p.label, p
        if p.family == "multi_span":
            assert p.response.rstrip(".").endswith(f"${p.answer}$")
    # re-derive labels of python-syntax scalar responses from scratch: parse the written answer and the gold's object
    rng = random.Random(7)
    checked = 0
    for family in ("rational", "integer", "polynomial"):
        for _ in range(15):
            obj, gold, cands = cold.FAMILIES[family](rng)
            for cobj, form, ans in cands:
                if form in PYTHON_FORMS:
                    truth = sp.expand(_value(ans) - obj) == 0
                    assert truth == cold.same(obj, cobj), (gold, ans)
                    checked += 1
    assert checked > 50


def _test_literals() -> dict[Path, set[str]]:
    out: dict[Path, set[str]] = {}
    for path in (ROOT / "tests").rglob("*.py"):
        if path.name == Path(__file__).name:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        out[path] = {n.value.strip() for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return out


def test_no_pair_of_the_stream_is_in_the_test_suite(stream):
    """No (gold, response) of the cold stream appears as a pair of string literals in one test file."""
    lits = _test_literals()
    assert lits
    overlap = [(p.gold, p.response, str(f)) for p in stream for f, s in lits.items()
               if p.response.strip() in s and p.gold.strip() in s]
    assert not overlap, overlap[:5]


def test_math_cold_script_runs(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, str(BENCH / "math_cold.py"), "--n", "40", "--groups", "2", "--repeats", "1",
                        "--show", "1"], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout
    assert "40 pairs" in out and "16 pairs" in out  # cold stream and 2 groups x 8
    assert out.count("| rewardkit |") == 2 and out.count("| math-verify |") == 2
    assert "speed ratio rewardkit / math-verify" in out and "load average" in out
    assert "| family | n |" in out


# ---------------------------------------------------------------------------- peer_tasks
@pytest.fixture(scope="module")
def peer():
    pytest.importorskip("reasoning_gym")
    return _load("peer_tasks")


def _value_of(task: str, s: str):
    """The value a candidate denotes, read independently of the candidate builders."""
    if task in ("bitwise_arithmetic",):
        return int(s, 16) if "0x" in s else ("dec", int(s))
    if task == "fraction_simplification":
        t = s.strip("$").replace("\\dfrac", "\\frac")
        if t.startswith("\\frac"):
            a, b = t[6:-1].split("}{")
            return Fraction(int(a), int(b))
        return Fraction(t.replace(" ", "")) if "/" in t else Fraction(int(t))
    if task == "number_sorting":
        return tuple(Decimal(v.strip(" '\"")) for v in s.strip("[]").split(","))
    if task == "base_conversion":
        return s
    return None


def test_peer_candidates_right_is_the_tasks_answer_and_near_misses_differ(peer):
    for task in peer.TASKS:
        ds, pairs = peer.build(task, 4, seed=1)
        assert pairs, task
        for entry, c in pairs:
            if c.kind == "right":
                assert c.answer == entry["answer"]
                assert ds.score_answer(c.answer, entry) == 1.0, (task, c)  # the peer accepts its own answer
            v, gold = _value_of(task, c.answer), _value_of(task, entry["answer"])
            if v is None:
                continue
            if c.kind == "near":
                assert v != gold, (task, c, entry["answer"])
            elif c.kind in ("equiv", "right") and task != "base_conversion":
                assert v == gold, (task, c, entry["answer"])


def test_peer_power_function_truth_is_three_significant_figures(peer):
    _, pairs = peer.build("power_function", 6, seed=2)
    for entry, c in pairs:
        if c.kind in ("equiv", "near"):
            assert peer._ok_power(entry, c.answer) == (c.kind == "equiv"), (entry["answer"], c)


def test_peer_tasks_script_runs(peer, capsys):
    peer.main(["--items", "2", "--tasks", "gcd,bitwise_arithmetic,polynomial_multiplication", "--show", "0"])
    out = capsys.readouterr().out
    assert "| gcd | 2 |" in out and "| bitwise_arithmetic | 2 |" in out and "| **all** |" in out
    assert "Wrong answers math_answer accepts" in out
