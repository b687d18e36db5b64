"""Benchmark: rewardkit's ``math_answer`` and ``qa_match`` against reasoning-gym's own scorers.

reasoning-gym (PyPI ``reasoning-gym``; procedural tasks, each with a ``score_answer``) is a
public, independent source of items whose answers are numbers, expressions, lists or
codes.  For every item this script writes candidates of four kinds, with the truth
decided here from the task's wording and the item's metadata (never by a scorer):

* ``right`` – the task's own answer string;
* ``equiv`` – the same answer in another spelling the wording allows (``7.0``, ``1,234``,
  ``\\frac{a}{b}``, reordered polynomial terms, ``^`` for ``**``, ``-7 + i`` for
  ``-7.0 + 1.0i``, primes in another order or as powers, 3 significant figures in any
  notation ...);
* ``near`` – a wrong answer close to the right one (off by one, sign flip, one digit or
  coefficient changed, a dropped term, reversed digits, a lone coefficient of a
  polynomial, the wrong sort direction, one list element off by 0.5 ...);
* ``form`` – the right *value* in a form the task rules out (an unreduced fraction, a
  composite "factorisation", the decimal value of a requested hex number, a factored
  polynomial): a value-only verifier accepts these by design, a form-aware one should not.

Each candidate is wrapped in five response templates (boxed, "The answer is", ``<answer>``
tags, ``####``, bare) and scored by rewardkit ``MathVerifier`` (defaults: value only, or
with ``--mv-kwargs``) and ``QAVerifier`` (``qa_match`` defaults).  The task's own
``score_answer`` gets the bare candidate (its best case: no extraction needed).

Reported per task: agreement with the truth of each scorer, the wrong answers each
accepts, the right or equivalent answers each rejects, and where the peer's scorer is
itself wrong (rejects an equivalent spelling, gives partial credit to a wrong answer, or
full credit to one).  Every case where rewardkit accepts a wrong answer is listed
(``--show N`` per task; ``--show 0`` for all).

Run:  python bench/verify/peer_tasks.py [--items 50] [--seed 0] [--tasks gcd,lcm] [--mv-kwargs '{}']
Needs ``pip install reasoning-gym`` (the ``bench`` extra); nothing is downloaded at run time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

import sympy as sp

TEMPLATES = (
    ("boxed", "Let me work it out step by step.\nThe answer is $\\boxed{{{a}}}$."),
    ("answer_is", "After simplifying, the answer is {a}."),
    ("answer_tag", "<think>\ncompute carefully\n</think>\n<answer>{a}</answer>"),
    ("hash", "Working through the steps gives the result.\n#### {a}"),
    ("bare", "{a}"),
)


@dataclass(frozen=True)
class Candidate:
    """One candidate answer for an item: its kind and whether the task's wording accepts it."""

    kind: str  # "right" | "equiv" | "near" | "form"
    answer: str

    @property
    def ok(self) -> bool:
        return self.kind in ("right", "equiv")


# ---------------------------------------------------------------------------- candidates per answer type
def _int_forms(n: int) -> list[str]:
    out = [f"{n}.0"]
    if abs(n) >= 1000:
        out.append(f"{n:,}")
    return out


def _int_near(n: int, rng: random.Random) -> list[int]:
    near = [n + 1, n - 1, n * 10 if n else 7]
    if n:
        near.append(-n)
    rev = int(str(abs(n))[::-1]) * (1 if n >= 0 else -1)
    if rev != n:
        near.append(rev)  # the same digits, reordered
    return near


def integer_candidates(entry: dict[str, Any], rng: random.Random) -> list[Candidate]:
    n = int(entry["answer"])
    c = [Candidate("right", entry["answer"])] + [Candidate("equiv", s) for s in _int_forms(n)]
    m = re.search(r"Solve for ([a-z])", entry["question"])
    if m:
        c.append(Candidate("equiv", f"{m.group(1)} = {n}"))
    c += [Candidate("near", str(v)) for v in _int_near(n, rng)]
    return c


def decimal_candidates(entry: dict[str, Any], rng: random.Random, trailing_zero: bool = True) -> list[Candidate]:
    s = entry["answer"].strip()
    d = Decimal(s)
    c = [Candidate("right", s)]
    if trailing_zero and "." in s:
        c.append(Candidate("equiv", s + "0"))  # a trailing zero
    if trailing_zero and "." in s and s.endswith("0"):
        c.append(Candidate("equiv", s.rstrip("0").rstrip(".")))
    if s.startswith("0.") or s.startswith("-0."):
        c.append(Candidate("equiv", s.replace("0.", ".", 1)))
    digits = s.lstrip("-")
    near: list[str] = [str(-d) if d else "1", digits.replace(".", "") if "." in digits else digits + "0"]
    if "." in s:
        last = s[-1]
        near.append(s[:-1] + str((int(last) + 1) % 10))  # the last digit changed
        k = len(s.split(".")[1])
        if k >= 4:
            near.append(str(d.quantize(Decimal(1).scaleb(-3), rounding=ROUND_HALF_EVEN)))  # rounded to 3 places
    near.append(str(d * 10))
    for v in near:
        if Decimal(v) != d:
            c.append(Candidate("near", v))
    return c


def fraction_candidates(entry: dict[str, Any], rng: random.Random) -> list[Candidate]:
    md = entry["metadata"]
    a, b = md["simplified_numerator"], md["simplified_denominator"]
    c = [Candidate("right", entry["answer"]), Candidate("equiv", f"{a}/{b}"), Candidate("equiv", f"\\frac{{{a}}}{{{b}}}"),
         Candidate("equiv", f"\\dfrac{{{a}}}{{{b}}}"), Candidate("equiv", f"{a} / {b}")]
    if (md["numerator"], md["denominator"]) != (a, b):
        c.append(Candidate("form", f"{md['numerator']}/{md['denominator']}"))  # right value, not in lowest terms
    c.append(Candidate("form", f"{2 * a}/{2 * b}"))
    for p, q in ((a + 1, b), (a, b + 1), (b, a)):
        if Fraction(p, q) != Fraction(a, b):
            c.append(Candidate("near", f"{p}/{q}"))
    c.append(Candidate("near", str(a)))
    return c


def _next_prime(p: int) -> int:
    return int(sp.nextprime(p))


def prime_candidates(entry: dict[str, Any], rng: random.Random) -> list[Candidate]:
    factors = list(entry["metadata"]["factors"])
    n = entry["metadata"]["number"]
    c = [Candidate("right", entry["answer"])]
    if len(factors) > 1:
        sh = factors[:]
        while sh == factors and len(set(factors)) > 1:
            rng.shuffle(sh)
        c += [Candidate("equiv", " × ".join(map(str, sh))), Candidate("equiv", "*".join(map(str, factors))),
              Candidate("equiv", " \\cdot ".join(map(str, factors))), Candidate("equiv", " \\times ".join(map(str, sh)))]
        powers = sorted({p: factors.count(p) for p in factors}.items())
        c.append(Candidate("equiv", " \\times ".join(f"{p}^{{{k}}}" if k > 1 else str(p) for p, k in powers)))
        c.append(Candidate("form", str(n)))  # the number itself: right value, not a factorisation
        if len(factors) >= 3:
            c.append(Candidate("form", " × ".join(map(str, [factors[0] * factors[1], *factors[2:]]))))
        c.append(Candidate("near", " × ".join(map(str, factors[:-1]))))  # a factor dropped
    bad = [*factors[:-1], _next_prime(factors[-1])]
    c.append(Candidate("near", " × ".join(map(str, bad))))
    c.append(Candidate("near", " × ".join(map(str, [*factors, 2]))))
    return c


def _poly_join(terms: Sequence[Any], fmt: Callable[[Any], str]) -> str:
    out = ""
    for i, t in enumerate(terms):
        s = fmt(t)
        out = s if i == 0 else out + (" - " + s[1:] if s.startswith("-") else " + " + s)
    return out


def polynomial_candidates(entry: dict[str, Any], rng: random.Random) -> list[Candidate]:
    e = sp.expand(sp.parse_expr(entry["answer"]))
    terms = list(sp.Add.make_args(e))
    rng.shuffle(terms)
    c = [Candidate("right", entry["answer"]), Candidate("equiv", _poly_join(terms, sp.sstr)),
         Candidate("equiv", entry["answer"].replace("**", "^")), Candidate("equiv", sp.latex(e)),
         Candidate("equiv", _poly_join(terms, sp.latex))]
    f = sp.factor(e)
    if sp.sstr(f) != sp.sstr(e):
        c.append(Candidate("form", sp.sstr(f)))  # right value, not multiplied out
    ordered = e.as_ordered_terms()
    t0 = ordered[0]
    coeff, rest = t0.as_coeff_Mul()
    near = [e + 1, e - t0 + (coeff + 1) * rest, e - 2 * t0, e - ordered[-1]]
    sym = sorted(e.free_symbols, key=str)
    if sym:
        near.append(e - t0 + coeff * rest * sym[0])  # a wrong power
    for m in near:
        m = sp.expand(m)
        if m != e:
            c.append(Candidate("near", sp.sstr(m)))
    last_coeff = ordered[-1].as_coeff_Mul()[0]
    if not ordered[-1].is_number:
        c.append(Candidate("near", str(abs(last_coeff))))  # one number out of the polynomial
    return c


def base_candidates(entry: dict[str, Any], rng: random.Random) -> list[Candidate]:
    s = entry["answer"]
    c = [Candidate("right", s)]
    if any(ch.isalpha() for ch in s):
        c.append(Candidate("form", s.upper()))  # the task asks for lowercase digit letters
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    i = rng.randrange(len(s))
    ch = s[i]
    alt = digits[(digits.index(ch) + 1) % 2] if s.strip("01") == "" else ("0" if ch != "0" else "1")
    near = {s[:i] + alt + s[i + 1:], s[::-1], s[:-1] or "0", s + "0"}
    m = re.search(r"number (\S+) to", entry["question"])
    if m:
        near.add(m.group(1))  # the source number, unconverted
    c += [Candidate("near", v) for v in sorted(near) if v != s and v.lstrip("0") != s.lstrip("0")]
    return c


def hex_candidates(entry: dict[str, Any], rng: random.Random) -> list[Candidate]:
    s = entry["answer"].strip()
    v = int(s, 16)
    c = [Candidate("right", s), Candidate("equiv", s.replace("0x", "0x", 1)[:2] + s[2:].upper() if v >= 0 else
                                         "-0x" + s[3:].upper()), Candidate("form", str(v))]
    near = [v + 1, v - 1, v // 16, -v if v else 1, v ^ 0x10]
    c += [Candidate("near", hex(m)) for m in near if m != v]
    c.append(Candidate("near", "0x0") if v else Candidate("near", "0x1"))
    return [x for i, x in enumerate(c) if x.answer not in {y.answer for y in c[:i]}]


def sorting_candidates(entry: dict[str, Any], rng: random.Random) -> list[Candidate]:
    nums = [Decimal(x) for x in entry["metadata"]["sorted_numbers"]]
    strs = entry["metadata"]["sorted_numbers"]
    c = [Candidate("right", entry["answer"]), Candidate("equiv", "[" + ", ".join(strs) + "]"),
         Candidate("equiv", json.dumps(strs)), Candidate("equiv", "[" + ",".join(str(float(x)) for x in nums) + "]")]
    if len(set(nums)) > 1:
        c.append(Candidate("near", str(strs[::-1])))  # the wrong direction
    k = rng.randrange(len(nums))
    off = [*strs[:k], str(nums[k] + Decimal("0.5")), *strs[k + 1:]]
    if sorted(map(Decimal, off), reverse=entry["metadata"]["direction"] != "ascending") == [Decimal(x) for x in off]:
        c.append(Candidate("near", str(off)))  # one element off by 0.5, still sorted
    c.append(Candidate("near", str(strs[:-1])))  # one element dropped
    sign = [*strs[:k], str(-nums[k]), *strs[k + 1:]]
    if sign != strs:
        c.append(Candidate("near", str(sign)))
    return c


def _cplx(a: float, b: float, style: int) -> str:
    fa = f"{a:.1f}" if style == 2 else (str(int(a)) if float(a).is_integer() else str(a))
    if style == 2:
        fb = f"{abs(b):.1f}i"
    else:
        bb = int(abs(b)) if float(b).is_integer() else abs(b)
        fb = "i" if bb == 1 and style == 0 else f"{bb}i"
    return f"{fa} {'-' if b < 0 else '+'} {fb}"


def complex_candidates(entry: dict[str, Any], rng: random.Random) -> list[Candidate]:
    a, b = entry["metadata"]["result"]
    c = [Candidate("right", entry["answer"])]
    if b:
        c += [Candidate("equiv", _cplx(a, b, 0)), Candidate("equiv", _cplx(a, b, 1).replace(" ", "")),
              Candidate("equiv", f"({_cplx(a, b, 0)})")]
        c.append(Candidate("equiv", f"{_cplx(0, b, 0).split(' ', 1)[1].replace('+ ', '').replace('- ', '-')} "
                           f"{'+' if a >= 0 else '-'} {abs(a):g}"))
    for na, nb in ((a, -b), (a + 1, b), (b, a), (-a, -b)):
        if (na, nb) != (a, b):
            c.append(Candidate("near", _cplx(na, nb, rng.randrange(3)) if nb else f"{na:g}"))
    return [x for i, x in enumerate(c) if x.answer not in {y.answer for y in c[:i]}]


def _sig3(x: Decimal) -> Decimal:
    if x.is_zero():
        return x
    return x.quantize(Decimal(1).scaleb(x.adjusted() - 2), rounding=ROUND_HALF_EVEN)


def power_candidates(entry: dict[str, Any], rng: random.Random) -> list[Candidate]:
    exact = Decimal(entry["answer"])
    r = _sig3(exact)
    c = [Candidate("right", entry["answer"])]
    if r.is_zero():
        return [*c, Candidate("near", "1.00e+00")]
    mant = r.scaleb(-r.adjusted())
    e = r.adjusted()
    c += [Candidate("equiv", f"{mant:.2f}e{e:+03d}"), Candidate("equiv", f"{mant:.2f}e{e}"),
          Candidate("form", f"{mant:.2f} \\times 10^{{{e}}}")]  # the task asks for 'e' notation
    if -6 < e < 8:
        c.append(Candidate("form", format(r, "f")))
    step = Decimal(1).scaleb(e - 2)
    for v in (r + step, -r, r * 10):
        c.append(Candidate("near", f"{v.scaleb(-v.adjusted()):.2f}e{v.adjusted():+03d}"))
    return c


def _ok_power(entry: dict[str, Any], cand: str) -> bool:  # used by the smoke test
    try:
        return _sig3(Decimal(cand.replace(" \\times 10^{", "e").rstrip("}"))) == _sig3(Decimal(entry["answer"]))
    except ArithmeticError:
        return False


def significant_candidates(entry: dict[str, Any], rng: random.Random) -> list[Candidate]:
    """A task that fixes the number of significant digits: a trailing zero would add one."""
    return decimal_candidates(entry, rng, trailing_zero=False)


TASKS: dict[str, Callable[[dict[str, Any], random.Random], list[Candidate]]] = {
    "basic_arithmetic": integer_candidates, "chain_sum": integer_candidates, "products": integer_candidates,
    "gcd": integer_candidates, "lcm": integer_candidates, "simple_equations": integer_candidates,
    "count_bits": integer_candidates, "letter_counting": integer_candidates,
    "decimal_chain_sum": decimal_candidates, "decimal_arithmetic": significant_candidates,
    "fraction_simplification": fraction_candidates, "prime_factorization": prime_candidates,
    "polynomial_multiplication": polynomial_candidates, "base_conversion": base_candidates,
    "bitwise_arithmetic": hex_candidates, "number_sorting": sorting_candidates,
    "complex_arithmetic": complex_candidates, "power_function": power_candidates,
}


def items(task: str, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` items of a reasoning-gym task (generated locally, deterministic in ``seed``)."""
    import reasoning_gym

    return list(reasoning_gym.create_dataset(task, seed=seed, size=n))


def build(task: str, n: int, seed: int) -> tuple[Any, list[tuple[dict[str, Any], Candidate]]]:
    """The task's dataset and its ``(entry, candidate)`` pairs."""
    import reasoning_gym

    ds = reasoning_gym.create_dataset(task, seed=seed, size=n)
    rng = random.Random(f"{task}:{seed}")
    out: list[tuple[dict[str, Any], Candidate]] = []
    for entry in ds:
        cands = TASKS[task](entry, rng)
        seen: set[str] = set()
        for c in cands:
            if c.answer not in seen:
                seen.add(c.answer)
                out.append((entry, c))
    return ds, out


# ---------------------------------------------------------------------------- scoring
def score_task(task: str, n: int, seed: int, mv: Any, qa: Any) -> dict[str, Any]:
    from rewardkit.core import SampleBatch

    ds, pairs = build(task, n, seed)
    rows = []
    texts, golds = [], []
    for entry, c in pairs:
        for tname, t in TEMPLATES:
            texts.append(t.format(a=c.answer))
            golds.append(entry["answer"])
            rows.append((entry, c, tname))
    b = SampleBatch(["q"] * len(texts), texts, {"answer": golds})
    rk = [r.value > 0 for r in mv.verify_batch(b)]
    tag = [i for i, (_, _, tn) in enumerate(rows) if tn == "answer_tag"]  # qa_match reads <answer> tags only
    bq = SampleBatch(["q"] * len(tag), [texts[i] for i in tag], {"answer": [golds[i] for i in tag]})
    qm = [r.value > 0 for r in qa.verify_batch(bq)]
    peer = {}
    for entry, c in pairs:
        try:
            peer[(id(entry), c.answer)] = float(ds.score_answer(c.answer, entry))
        except Exception:
            peer[(id(entry), c.answer)] = 0.0
    return {"rows": rows, "texts": texts, "rk": rk, "qa": qm, "qa_rows": [rows[i] for i in tag], "peer": peer,
            "pairs": pairs}


def summarize(task: str, res: dict[str, Any]) -> dict[str, Any]:
    rows, peer = res["rows"], res["peer"]
    s: dict[str, Any] = {"task": task, "items": len({id(e) for e, _, _ in rows}), "responses": len(rows)}
    for name, pred, rws in (("rk", res["rk"], rows), ("qa", res["qa"], res["qa_rows"])):
        ok = [c.ok for _, c, _ in rws]
        wrong = [c.kind == "near" for _, c, _ in rws]
        form = [c.kind == "form" for _, c, _ in rws]
        s[f"{name}_n_wrong"] = sum(wrong)
        s[f"{name}_n_ok"] = sum(ok)
        s[f"{name}_agree"] = sum(p == y for p, y, f in zip(pred, ok, form, strict=True) if not f) / max(
            sum(not f for f in form), 1)
        s[f"{name}_wrong_acc"] = sum(p and w for p, w in zip(pred, wrong, strict=True))
        s[f"{name}_right_rej"] = sum((not p) and y for p, y in zip(pred, ok, strict=True))
        s[f"{name}_form_acc"] = sum(p and f for p, f in zip(pred, form, strict=True))
    pe = [(c, peer[(id(e), c.answer)]) for e, c in res["pairs"]]
    non_form = [(c, v) for c, v in pe if c.kind != "form"]
    s["peer_agree"] = sum((v >= 1.0) == c.ok for c, v in non_form) / max(len(non_form), 1)
    s["peer_rejects_equiv"] = sum(c.ok and v < 1.0 for c, v in pe)
    s["peer_partial_wrong"] = sum(c.kind == "near" and 0 < v < 1.0 for c, v in pe)
    s["peer_full_wrong"] = sum(c.kind == "near" and v >= 1.0 for c, v in pe)
    s["peer_form_acc"] = sum(c.kind == "form" and v >= 1.0 for c, v in pe)
    s["peer_n"] = len(pe)
    return s


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=50, help="items per task")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tasks", default=",".join(TASKS), help="comma-separated task names")
    ap.add_argument("--show", type=int, default=10, help="wrong answers accepted listed per task (0: all)")
    ap.add_argument("--mv-kwargs", default="{}", help="JSON keyword arguments for MathVerifier (e.g. a form option)")
    args = ap.parse_args(argv)
    logging.getLogger("reasoning_gym").setLevel(logging.ERROR)

    from rewardkit.verify.math import MathVerifier, QAVerifier

    mv = MathVerifier(**json.loads(args.mv_kwargs))
    qa = QAVerifier()
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise SystemExit(f"--tasks: unknown {unknown}; expected names from {sorted(TASKS)}")
    t0 = time.perf_counter()
    sums, results = [], {}
    for t in tasks:
        results[t] = score_task(t, args.items, args.seed, mv, qa)
        sums.append(summarize(t, results[t]))
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    print(f"# reasoning-gym peer tasks ({args.items} items per task, seed {args.seed}, "
          f"{len(TEMPLATES)} templates; MathVerifier({args.mv_kwargs}); load {load}; {time.perf_counter() - t0:.0f} s)\n")
    print("Agreement is with the truth of each candidate (form-only candidates excluded).  "
          "wrong acc. = wrong answers accepted; right rej. = right or equivalent answers rejected; "
          "form acc. = right value in a form the task rules out, accepted.\n")
    print("| task | items | responses | math_answer agree | wrong acc. | right rej. | form acc. | qa_match agree | "
          "wrong acc. | right rej. | peer agree | peer rejects equiv. | peer partial credit to wrong | "
          "peer full credit to wrong | peer form acc. |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    tot: dict[str, float] = {}
    for s in sums:
        for k, v in s.items():
            if isinstance(v, (int, float)) and not k.endswith("agree"):
                tot[k] = tot.get(k, 0) + v
        print(f"| {s['task']} | {s['items']} | {s['responses']} | {s['rk_agree']:.3f} | {s['rk_wrong_acc']} | "
              f"{s['rk_right_rej']} | {s['rk_form_acc']} | {s['qa_agree']:.3f} | {s['qa_wrong_acc']} | "
              f"{s['qa_right_rej']} | {s['peer_agree']:.3f} | {s['peer_rejects_equiv']} | {s['peer_partial_wrong']} | "
              f"{s['peer_full_wrong']} | {s['peer_form_acc']} |")
    print(f"| **all** | {tot['items']:.0f} | {tot['responses']:.0f} | | **{tot['rk_wrong_acc']:.0f}** / "
          f"{tot['rk_n_wrong']:.0f} | {tot['rk_right_rej']:.0f} / {tot['rk_n_ok']:.0f} | {tot['rk_form_acc']:.0f} | | "
          f"{tot['qa_wrong_acc']:.0f} / {tot['qa_n_wrong']:.0f} | {tot['qa_right_rej']:.0f} / {tot['qa_n_ok']:.0f} | | "
          f"{tot['peer_rejects_equiv']:.0f} | "
          f"{tot['peer_partial_wrong']:.0f} | {tot['peer_full_wrong']:.0f} | {tot['peer_form_acc']:.0f} |")
    print(f"\n(peer columns count bare candidates, {tot['peer_n']:.0f} in all; math_answer columns count responses, "
          f"{len(TEMPLATES)} per candidate; qa_match columns count the `<answer>` responses only, the tags it reads.)")
    print("\n## Wrong answers math_answer accepts (task | template | gold | candidate)\n")
    for t in tasks:
        r = results[t]
        bad = [(e, c, tn) for (e, c, tn), p in zip(r["rows"], r["rk"], strict=True) if p and c.kind == "near"]
        lim = len(bad) if args.show == 0 else args.show
        for e, c, tn in bad[:lim]:
            print(f"- {t} | {tn} | `{e['answer']}` | `{c.answer}`")
        if len(bad) > lim:
            print(f"- {t}: … {len(bad) - lim} more")
    print("\n## Right or equivalent answers math_answer rejects (first 3 per task)\n")
    for t in tasks:
        r = results[t]
        bad = [(e, c, tn) for (e, c, tn), p in zip(r["rows"], r["rk"], strict=True) if (not p) and c.ok]
        for e, c, tn in bad[:3]:
            print(f"- {t} | {tn} | `{e['answer']}` | `{c.answer}`")


if __name__ == "__main__":
    main()
