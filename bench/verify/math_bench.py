"""Benchmark: rewardkit's math verifier vs math-verify used directly, same inputs, same run.

Data (generated, exact labels): sympy objects – integers, rationals, radicals, pi
multiples, tiny powers 1/2^k, polynomials, intervals, finite sets, tuples – are rendered
in many surface forms (LaTeX, \\dfrac, plain a/b, decimals, percents, mixed numbers,
thousands separators, units, ``x =``) and wrapped in completion templates (boxed in a
sentence, ``Answer:``, ``<answer>``, ``####``).  Near-miss negatives (±1, sign flip,
reciprocal, 1/2^(k+1), changed coefficient, open/closed interval, swapped tuple,
changed set element) are labelled by exact sympy comparison of the source objects.
Completions are shaped like GRPO groups: 8 per gold.  The master-key strings are
paired with every gold.

Systems:
* rewardkit ``MathVerifier.verify_batch`` (1 and 2 worker processes);
* math-verify 0.9 used the standard way: ``verify(parse(gold), parse(completion))`` per
  call (default configs and timeouts, main thread);
* both again **inside a worker thread** (math-verify: default timeouts raise there).

Run:  python bench/verify/math_bench.py [--groups 150] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from fractions import Fraction

import sympy as sp


def _latex(e) -> str:
    return sp.latex(e)


def _frac_forms(q: Fraction) -> list[str]:
    p, d = q.numerator, q.denominator
    sign = "-" if p < 0 else ""
    a = abs(p)
    forms = []
    if d == 1:
        forms += [str(p), f"{p}.0", f"{sign}{a:,}" if a >= 1000 else str(p)]
    else:
        forms += [f"{sign}\\frac{{{a}}}{{{d}}}", f"{sign}\\dfrac{{{a}}}{{{d}}}", f"{p}/{d}", f"{sign}{a}/{d}"]
        if a < 10 and d < 10:
            forms.append(f"{sign}\\frac{a}{d}")
        dd = d
        for f in (2, 5):
            while dd % f == 0:
                dd //= f
        if dd == 1:
            forms.append(str(sp.Float(sp.Rational(p, d), 30)).rstrip("0").rstrip("."))
            forms.append(f"{float(q * 100):g}\\%")
        if a > d:
            forms.append(f"{sign}{a // d}\\frac{{{a % d}}}{{{d}}}" if a % d else str(p // d))
    return forms


def make_items(rng: random.Random):
    """One gold: (gold latex, [(pred string, label)])."""
    kind = rng.choices(["int", "rational", "radical", "pi", "tiny", "poly", "interval", "set", "tuple"],
                       weights=[20, 20, 10, 8, 4, 12, 8, 8, 6])[0]
    items: list[tuple[str, bool]] = []
    if kind == "int":
        n = rng.choice([rng.randint(-50, 50), rng.randint(100, 99999)])
        gold = str(n)
        items += [(f, True) for f in _frac_forms(Fraction(n))]
        items += [(f"{n} \\text{{ cm}}", True), (f"x = {n}", True)]
        items += [(str(n + 1), False), (str(-n) if n else "1", False), (str(n * 10 if n else 7), False), (f"{n}.5", False)]
    elif kind == "rational":
        d = rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 20, 25])
        p = rng.randint(-40, 40)
        while p == 0 or Fraction(p, d).denominator == 1:
            p = rng.randint(-40, 40)
        q = Fraction(p, d)
        gold = _latex(sp.Rational(p, d))
        items += [(f, True) for f in _frac_forms(q)]
        items += [(f, False) for f in _frac_forms(q + 1)[:2]] + [(f, False) for f in _frac_forms(-q)[:2]]
        items += [(f, False) for f in _frac_forms(1 / q)[:1]] + [(f, False) for f in _frac_forms(Fraction(p, d + 1))[:1]]
    elif kind == "radical":
        a, b = rng.randint(1, 9), rng.choice([2, 3, 5, 6, 7, 10, 11])
        c = rng.randint(-5, 5)
        e = a * sp.sqrt(b) + c
        gold = _latex(e)
        items += [(_latex(e), True), (f"{c} + {a}\\sqrt{{{b}}}", True), (f"{a}\\sqrt{{{b}}}{c:+d}", True),
                  (f"\\sqrt{{{a * a * b}}}{c:+d}", True), (f"{a}*sqrt({b}) + {c}", True)]
        items += [(_latex(a * sp.sqrt(b + 1) + c), False), (_latex(a * sp.sqrt(b) - c - 1), False),
                  (_latex((a + 1) * sp.sqrt(b) + c), False), (f"{float(e):.3f}", False)]
    elif kind == "pi":
        k, n = rng.randint(1, 12), rng.choice([2, 3, 4, 6, 12])
        e = sp.Rational(k, n) * sp.pi
        gold = _latex(e)
        r = sp.Rational(k, n)
        items += [(_latex(e), True), (f"\\frac{{{r.p}\\pi}}{{{r.q}}}", True), (f"{r.p}\\pi/{r.q}", True),
                  (f"\\frac{{{r.p}}}{{{r.q}}}\\pi", True)]
        items += [(_latex(e + sp.pi / n), False), (_latex(-e), False), (f"{float(e):.2f}", False)]
    elif kind == "tiny":
        k = rng.randint(20, 120)
        gold = f"\\frac{{1}}{{2^{{{k}}}}}"
        items += [(f"\\frac{{1}}{{2^{{{k}}}}}", True), (f"2^{{-{k}}}", True), (f"1/2^{{{k}}}", True)]
        items += [(f"\\frac{{1}}{{2^{{{k + 1}}}}}", False), (f"\\frac{{1}}{{2^{{{k - 1}}}}}", False),
                  (f"2^{{-{k + 2}}}", False)]
    elif kind == "poly":
        x = sp.Symbol("x")
        r1, r2 = rng.randint(-6, 6), rng.randint(-6, 6)
        e = sp.expand((x - r1) * (x - r2))
        gold = _latex(e)
        items += [(_latex(e), True), (_latex(sp.factor(e)), True), (f"(x{-r1:+d})(x{-r2:+d})", True),
                  (sp.sstr(e).replace("**", "^"), True)]
        items += [(_latex(e + 1), False), (_latex(sp.expand((x - r1) * (x + r2 + 1))), False),
                  (_latex(sp.expand(2 * e)), False)]
    elif kind == "interval":
        a, b = sorted(rng.sample(range(-9, 10), 2))
        lo, hi = rng.choice(["(", "["]), rng.choice([")", "]"])
        gold = f"{lo}{a}, {b}{hi}"
        items += [(f"{lo}{a},{b}{hi}", True), (f"\\left{lo}{a}, {b}\\right{hi}", True)]
        flip_lo = "[" if lo == "(" else "("
        flip_hi = "]" if hi == ")" else ")"
        items += [(f"{flip_lo}{a}, {b}{hi}", False), (f"{lo}{a}, {b}{flip_hi}", False), (f"{lo}{a}, {b + 1}{hi}", False)]
    elif kind == "set":
        els = sorted(rng.sample(range(-9, 20), 3))
        gold = "\\{" + ", ".join(map(str, els)) + "\\}"
        sh = els[:]
        rng.shuffle(sh)
        items += [("\\{" + ",".join(map(str, sh)) + "\\}", True), ("\\{" + ", ".join(map(str, els[::-1])) + "\\}", True)]
        bad = [*els[:-1], els[-1] + 1]
        items += [("\\{" + ", ".join(map(str, bad)) + "\\}", False), ("\\{" + ", ".join(map(str, els[:2])) + "\\}", False)]
    else:  # tuple: order matters
        a, b = rng.sample(range(-9, 10), 2)
        gold = f"({a}, {b})"
        items += [(f"({a},{b})", True), (f"\\left({a}, {b}\\right)", True)]
        items += [(f"({b}, {a})", False), (f"({a}, {b + 1})", False)]
    return kind, gold, items


TEMPLATES = [
    "We simplify step by step and get $\\boxed{{{p}}}$.",
    "Let me compute this carefully.\nThe final answer is $\\boxed{{{p}}}$",
    "Some reasoning with numbers 3 and 7 first.\nAnswer: {p}",
    "<think>work it out</think>\n<answer>{p}</answer>",
    "So the result is \\boxed{{{p}}}. Done.",
]


def build_dataset(n_groups: int, seed: int):
    rng = random.Random(seed)
    golds, comps, labels, kinds, tmpl = [], [], [], [], []
    for _ in range(n_groups):
        kind, gold, items = make_items(rng)
        for _ in range(8):  # a GRPO group: 8 completions per prompt
            p, lab = rng.choice(items)
            t = rng.randrange(len(TEMPLATES))
            tmpl.append(t)
            comps.append(TEMPLATES[t].format(p=p))
            golds.append(gold)
            labels.append(lab)
            kinds.append(kind)
    return golds, comps, labels, kinds, tmpl


# -- the two systems ---------------------------------------------------------------
def _timed(run, in_thread: bool) -> float:
    """Wall seconds of ``run()``, in the calling thread or in a worker thread (as a trainer's reward thread)."""
    t0 = time.perf_counter()
    if in_thread:
        th = threading.Thread(target=run)
        th.start()
        th.join()
    else:
        run()
    return time.perf_counter() - t0


def mv_direct(golds, comps, in_thread=False):
    """math-verify the standard way: parse gold and answer per call, then verify."""
    from math_verify import parse, verify

    out, errors, lat = [], 0, []

    def run():
        nonlocal errors
        for g, c in zip(golds, comps, strict=True):
            t = time.perf_counter()
            try:
                ok = bool(verify(parse(f"${g}$"), parse(c)))
            except BaseException as e:  # TimeoutException is a BaseException
                if isinstance(e, KeyboardInterrupt):
                    raise
                ok, errors = False, errors + 1
            lat.append(time.perf_counter() - t)
            out.append(ok)

    return out, _timed(run, in_thread), errors, lat


def rk_batch(golds, comps, workers=1, in_thread=False, verifier=None, cache_size=65536):
    """rewardkit with a fresh verifier and a fresh (warmed) worker pool per run: no verdict
    or gold-parse cache carries over between the runs being compared."""
    from rewardkit.core import SampleBatch
    from rewardkit.verify.math.equivalence import SYMBOLIC_TARGET, MathEquivalence
    from rewardkit.verify.math.pool import WorkerPool
    from rewardkit.verify.math.verifier import MathVerifier

    if verifier is None:
        eq = MathEquivalence(workers=workers, deadline=5.0, pool=WorkerPool(SYMBOLIC_TARGET, size=workers),
                             cache_size=cache_size)
        verifier = MathVerifier(equivalence=eq)
    v = verifier
    v.equivalence.warm_up()  # the persistent pool is started once per training run
    res = {}

    def run():
        out = []
        for i in range(0, len(comps), 64):  # GRPO batches of 8 groups x 8 completions
            b = SampleBatch(["q"] * len(comps[i:i + 64]), comps[i:i + 64], {"answer": golds[i:i + 64]})
            out += v.verify_batch(b)
        res["out"] = out

    dt = _timed(run, in_thread)
    rs = res["out"]
    return [r.value > 0 for r in rs], dt, sum(1 for r in rs if r.error and r.error != "no_answer"), v


PATHO = ("9^{9^{9^{9}}}", "The answer is $\\boxed{8^{8^{8^{8}}}}$")
_PATHO_NO_TIMEOUT = (
    "import sys\nfrom math_verify import parse, verify\n"
    "g = parse(sys.argv[1], parsing_timeout=None); a = parse(sys.argv[2], parsing_timeout=None)\n"
    "print(verify(g, a, timeout_seconds=None))\n")


def pathological_table(cap: float = 20.0) -> None:
    """A pathological answer: how long does each way of verifying it block the caller?"""
    import subprocess

    from math_verify import parse, verify

    from rewardkit.verify.math.verifier import MathVerifier

    gold, comp = PATHO
    print(f"\n## Pathological input (gold `{gold}`, answer `8^{{8^{{8^{{8}}}}}}`)\n")
    print("| system | where | outcome | seconds |")
    print("|---|---|---|---|")
    t = time.perf_counter()
    try:
        out = str(verify(parse(f"${gold}$"), parse(comp)))
    except BaseException as e:
        out = type(e).__name__
    print(f"| math-verify default (signal timeouts) | main thread | {out} | {time.perf_counter() - t:.1f} |")
    res = {}

    def th():
        t0 = time.perf_counter()
        try:
            res["o"] = str(verify(parse(f"${gold}$"), parse(comp)))
        except BaseException as e:
            res["o"] = f"raises {type(e).__name__}"
        res["t"] = time.perf_counter() - t0

    x = threading.Thread(target=th)
    x.start()
    x.join()
    print(f"| math-verify default | worker thread | {res['o']} | {res['t']:.2f} |")
    t = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-c", _PATHO_NO_TIMEOUT, f"${gold}$", comp], capture_output=True,
                           timeout=cap, text=True)
        out = p.stdout.strip() or p.stderr.strip()[-80:]
    except subprocess.TimeoutExpired:
        out = f"still running after {cap:.0f} s (killed by the benchmark)"
    print(f"| math-verify with timeouts disabled (the usual thread workaround) | any thread | {out} | "
          f"{time.perf_counter() - t:.1f} |")
    v = MathVerifier(deadline=5.0)
    v.equivalence.warm_up()

    def th2():
        t0 = time.perf_counter()
        r = v.verify(comp, answer=gold)
        res["rk"] = (r.value, r.error, time.perf_counter() - t0)

    x = threading.Thread(target=th2)
    x.start()
    x.join()
    val, err, dt = res["rk"]
    print(f"| rewardkit (deadline 5 s, worker killed and respawned) | worker thread | value {val}, error `{err}` | "
          f"{dt:.1f} |")


def metrics(pred, labels):
    tp = sum(p and y for p, y in zip(pred, labels, strict=True))
    tn = sum((not p) and (not y) for p, y in zip(pred, labels, strict=True))
    fp = sum(p and (not y) for p, y in zip(pred, labels, strict=True))
    fn = sum((not p) and y for p, y in zip(pred, labels, strict=True))
    n_neg, n_pos = fp + tn, tp + fn
    return {"acc": (tp + tn) / len(labels), "fpr": fp / max(n_neg, 1), "fnr": fn / max(n_pos, 1), "fp": fp, "fn": fn}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import logging

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)  # keep the tables clean
    from math_verify import parse, verify  # noqa: F401  (import cost outside the timings)

    from rewardkit.verify.math.masterkeys import MASTER_KEYS

    golds, comps, labels, kinds, tmpl = build_dataset(args.groups, args.seed)
    n = len(comps)
    print(f"# Math verification benchmark ({n} completions = {args.groups} GRPO groups x 8, "
          f"{sum(labels)} positive / {n - sum(labels)} negative; seed {args.seed})\n")

    mv_pred, mv_t, mv_err, mv_lat = mv_direct(golds, comps)
    rk_pred, rk_t, rk_err, v1 = rk_batch(golds, comps, workers=1)
    rk2_pred, rk2_t, rk2_err, _ = rk_batch(golds, comps, workers=2)
    rkn_pred, rkn_t, rkn_err, _ = rk_batch(golds, comps, workers=1, cache_size=0)
    mvt_pred, mvt_t, mvt_err, _ = mv_direct(golds, comps, in_thread=True)
    rkt_pred, rkt_t, rkt_err, _ = rk_batch(golds, comps, workers=1, in_thread=True)

    m_mv, m_rk, m_rk2 = metrics(mv_pred, labels), metrics(rk_pred, labels), metrics(rk2_pred, labels)
    m_mvt, m_rkt, m_rkn = metrics(mvt_pred, labels), metrics(rkt_pred, labels), metrics(rkn_pred, labels)
    print("## Accuracy and throughput (GRPO-shaped batches)\n")
    print("| system | accuracy | FPR | FNR | errors | completions/s | speed vs math-verify |")
    print("|---|---|---|---|---|---|---|")
    rows = [("math-verify direct (parse+verify per call, main thread)", m_mv, mv_err, mv_t),
            ("rewardkit MathVerifier, 1 worker process", m_rk, rk_err, rk_t),
            ("rewardkit MathVerifier, 2 worker processes", m_rk2, rk2_err, rk2_t),
            ("rewardkit MathVerifier, 1 worker, verdict cache off", m_rkn, rkn_err, rkn_t),
            ("math-verify direct **in a worker thread**", m_mvt, mvt_err, mvt_t),
            ("rewardkit MathVerifier **in a worker thread**", m_rkt, rkt_err, rkt_t)]
    for name, m, err, t in rows:
        speed = f"{n / t:.0f} | {mv_t / t:.2f}x" if err < n else "n/a (every call raised) | n/a"
        print(f"| {name} | {m['acc']:.4f} | {m['fpr']:.4f} | {m['fnr']:.4f} | {err} | {speed} |")

    print("\n## Per answer kind (accuracy)\n")
    print("| kind | n | math-verify | rewardkit |")
    print("|---|---|---|---|")
    for k in sorted(set(kinds)):
        idx = [i for i, kk in enumerate(kinds) if kk == k]
        a_mv = sum(mv_pred[i] == labels[i] for i in idx) / len(idx)
        a_rk = sum(rk_pred[i] == labels[i] for i in idx) / len(idx)
        print(f"| {k} | {len(idx)} | {a_mv:.3f} | {a_rk:.3f} |")

    print("\n## Per completion template (accuracy)\n")
    print("| template | n | math-verify | rewardkit |")
    print("|---|---|---|---|")
    for t, text in enumerate(TEMPLATES):
        idx = [i for i, tt in enumerate(tmpl) if tt == t]
        if idx:
            a_mv = sum(mv_pred[i] == labels[i] for i in idx) / len(idx)
            a_rk = sum(rk_pred[i] == labels[i] for i in idx) / len(idx)
            shown = text.replace("\n", " / ").replace("|", "\\|")
            print(f"| `{shown}` | {len(idx)} | {a_mv:.3f} | {a_rk:.3f} |")

    st = v1.equivalence.stats
    tot = sum(st[k] for k in ("cache", "string", "numeric", "symbolic"))
    print("\nrewardkit decision paths (1-worker run): " +
          ", ".join(f"{k} {st[k]} ({st[k] / max(tot, 1):.0%})" for k in ("cache", "string", "numeric", "symbolic")) +
          f"; pool timeouts {v1.equivalence.pool.timeouts}")
    print(f"math-verify per-call latency: p50 {statistics.median(mv_lat) * 1e3:.2f} ms, "
          f"p99 {sorted(mv_lat)[int(0.99 * len(mv_lat))] * 1e3:.2f} ms, max {max(mv_lat) * 1e3:.0f} ms")

    # master keys x golds
    uniq = sorted(set(golds))
    mk_golds = [g for g in uniq for _ in MASTER_KEYS]
    mk_comps = [k for _ in uniq for k in MASTER_KEYS]
    mk_mv, _, _, _ = mv_direct(mk_golds, mk_comps)
    mk_rk, _, _, _ = rk_batch(mk_golds, mk_comps, verifier=v1)
    print(f"\n## Master keys ({len(MASTER_KEYS)} strings x {len(uniq)} golds = {len(mk_comps)} pairs)\n")
    print("| system | false positives | FPR |")
    print("|---|---|---|")
    print(f"| math-verify direct | {sum(mk_mv)} | {sum(mk_mv) / len(mk_mv):.4f} |")
    print(f"| rewardkit | {sum(mk_rk)} | {sum(mk_rk) / len(mk_rk):.4f} |")

    pathological_table()

    fps = [i for i in range(n) if mv_pred[i] and not labels[i]]
    rk_wrong = [i for i in range(n) if rk_pred[i] != labels[i]]
    boxed_fn = [i for i in range(n) if labels[i] and not mv_pred[i] and "boxed" in comps[i]]
    for title, idx in (("math-verify false positives", fps), ("rewardkit errors", rk_wrong),
                       ("math-verify misses on boxed answers", boxed_fn)):
        print(f"\n## {title} ({len(idx)}; first 8): gold | completion tail | label | math-verify | rewardkit\n")
        for i in idx[:8]:
            print(f"- `{golds[i]}` | `{comps[i][-50:]!r}` | {labels[i]} | {mv_pred[i]} | {rk_pred[i]}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
