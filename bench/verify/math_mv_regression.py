"""Benchmark: math-verify's own labelled regression cases, math-verify vs rewardkit.

An independent check of the math verifier on data it was not written for: the
``(gold, prediction, expected)`` triples of math-verify's test-suite (``tests/test_all.py``,
``test_open_thoughts.py``, ``test_numina_cases.py``, ``test_yujianll.py``, ``test_boxed.py``;
247 cases, 216 positive / 31 negative at commit 5d148cf).  The triples are read at run
time from a local checkout of https://github.com/huggingface/Math-Verify (nothing is
copied into rewardkit).  The set is biased *towards* math-verify: these are its own
regression tests, some written for non-default configs.

Protocol: math-verify ``verify(parse(gold), parse(pred))`` exactly as its tests call it;
rewardkit ``MathVerifier().verify(pred, answer=gold)`` with its defaults and with each
option set of :data:`OPTION_SETS` (plus any given with ``--option``); the report ends with
the default's accuracy and the best option set's (the issue's aim: ≥ 0.98 with defaults).

Run:  python bench/verify/math_mv_regression.py --tests-dir PATH/TO/Math-Verify/tests
  or  python bench/verify/math_mv_regression.py --git-dir PATH/TO/Math-Verify.git   (reads HEAD)
  extra option sets: --option '{"extract": {"boxed": "all"}, "verifier": {"float_rounding": 4}}' (repeatable)
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import subprocess
import time
from pathlib import Path

FILES = ("test_all.py", "test_open_thoughts.py", "test_numina_cases.py", "test_yujianll.py", "test_boxed.py")


def read_sources(tests_dir: str | None, git_dir: str | None) -> dict[str, str]:
    out = {}
    for name in FILES:
        if tests_dir:
            p = Path(tests_dir) / name
            if p.exists():
                out[name] = p.read_text(encoding="utf-8")
        else:
            r = subprocess.run(["git", "--git-dir", git_dir, "show", f"HEAD:tests/{name}"], capture_output=True,
                               text=True)
            if r.returncode == 0:
                out[name] = r.stdout
    return out


def triples(sources: dict[str, str]):
    """Literal ``(gold: str, pred: str, expected: int)`` entries of ``parametrize`` lists."""
    rows = []
    for name, src in sources.items():
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "parametrize" and len(node.args) >= 2:
                try:
                    vals = ast.literal_eval(node.args[1])
                except ValueError:
                    continue
                for v in vals:
                    if (isinstance(v, (tuple, list)) and len(v) == 3 and isinstance(v[0], str)
                            and isinstance(v[1], str)):
                        rows.append((name, v[0], v[1], bool(v[2])))
    return rows


#: rewardkit option sets tried besides the defaults: (label, ExtractConfig kwargs, MathVerifier kwargs)
OPTION_SETS: list[tuple[str, dict, dict]] = [
    ("boxed='all'", {"boxed": "all"}, {}),
    ("boxed='first'", {"boxed": "first"}, {}),
    ("latest_anchor=False", {"latest_anchor": False}, {}),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tests-dir")
    ap.add_argument("--git-dir", default="/work/.mirror/huggingface+Math-Verify/repo")
    ap.add_argument("--option", action="append", default=[],
                    help='another option set as JSON: {"extract": {...}, "verifier": {...}}')
    args = ap.parse_args()
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    from math_verify import parse, verify

    from rewardkit.verify.math.equivalence import SYMBOLIC_TARGET, MathEquivalence
    from rewardkit.verify.math.extract import ExtractConfig
    from rewardkit.verify.math.pool import WorkerPool
    from rewardkit.verify.math.verifier import MathVerifier

    def fresh() -> MathEquivalence:  # no verdict or gold cache shared between the systems
        e = MathEquivalence(deadline=5.0, pool=WorkerPool(SYMBOLIC_TARGET, size=1))
        e.warm_up()
        return e

    rows = triples(read_sources(args.tests_dir, None if args.tests_dir else args.git_dir))
    if not rows:
        raise SystemExit("no test files found: pass --tests-dir or --git-dir of a Math-Verify checkout")
    default = "rewardkit MathVerifier (defaults)"
    systems: dict[str, MathVerifier | None] = {
        "math-verify 0.9 (verify(parse(gold), parse(pred)))": None,
        default: MathVerifier(equivalence=fresh()),
    }
    sets = list(OPTION_SETS)
    for raw in args.option:
        try:
            o = json.loads(raw)
        except json.JSONDecodeError as e:
            raise SystemExit(f"--option: {e}; expected JSON such as '{{\"extract\": {{\"boxed\": \"all\"}}}}'") from None
        sets.append((raw, dict(o.get("extract", {})), dict(o.get("verifier", {}))))
    for label, ex_kw, v_kw in sets:
        try:  # an option the verifier no longer has is reported and skipped, not fatal
            systems[f"rewardkit MathVerifier ({label})"] = MathVerifier(equivalence=fresh(),
                                                                        extract=ExtractConfig(**ex_kw), **v_kw)
        except (TypeError, ValueError) as e:
            print(f"(option set {label} skipped: {e})")
    accs: dict[str, float] = {}
    n_pos = sum(r[3] for r in rows)
    print(f"# math-verify regression cases ({len(rows)}: {n_pos} positive / {len(rows) - n_pos} negative)\n")
    print("| system | accuracy | false positives | false negatives | seconds |")
    print("|---|---|---|---|---|")
    wrong = {}
    for name, v in systems.items():
        t0 = time.perf_counter()
        preds = []
        for _f, gold, pred, _lab in rows:
            if v is None:
                try:
                    preds.append(bool(verify(parse(gold), parse(pred))))
                except BaseException:  # TimeoutException is a BaseException
                    preds.append(False)
            else:
                preds.append(v.verify(pred, answer=gold).value > 0)
        dt = time.perf_counter() - t0
        fp = sum(p and not r[3] for p, r in zip(preds, rows, strict=True))
        fn = sum((not p) and r[3] for p, r in zip(preds, rows, strict=True))
        acc = sum(p == r[3] for p, r in zip(preds, rows, strict=True)) / len(rows)
        wrong[name] = [r for p, r in zip(preds, rows, strict=True) if p != r[3]]
        accs[name] = acc
        print(f"| {name} | {acc:.3f} | {fp}/{len(rows) - n_pos} | {fn}/{n_pos} | {dt:.1f} |")
    best = max((n for n in accs if n.startswith("rewardkit")), key=lambda n: accs[n])
    print(f"\nrewardkit with defaults: {accs[default]:.3f}; best option set: {best} {accs[best]:.3f} "
          f"(aim: ≥ 0.98 with defaults)")
    name = default
    print(f"\n## Cases the default rewardkit verifier gets wrong ({len(wrong[name])})\n")
    for f, gold, pred, lab in wrong[name]:
        print(f"- {f}: gold `{gold[:70]!r}` pred `...{pred[-70:]!r}` expected {int(lab)}")


if __name__ == "__main__":
    main()
