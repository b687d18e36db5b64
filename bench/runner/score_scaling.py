"""`rewardkit score` throughput: 1 vs 2 local worker processes vs Ray actors, on the math + format reward.

Scores the same generated dataset (GSM-style sums and fractions; a third of the completions
need math-verify's symbolic comparison, e.g. ``0.75`` vs ``\\frac{3}{4}``) with each backend,
interleaved (A B C A B C ...), and prints rows/s per backend - with and without the start-up
of the workers (each builds the reward once) - the speed-up of 2 local workers over one, the
Ray / local ratio at equal workers, and the machine load before and after.

    python bench/runner/score_scaling.py [--rows 3000] [--repeats 3] [--backends local1,local2,ray2]

Ray is started once (a local instance of 2 CPUs) before the timed runs; its actors are
created inside each timed run, as the local workers are.  ``--ceiling`` also times the
pipeline with a free reward (one ``constant`` term, 1 local worker): reading, chunking,
sending rows, joining and writing Parquet - the driver-side limit of any number of workers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

import numpy as np

from rewardkit.runner.score import ColumnMap, score_file

REWARD = {"terms": [{"type": "math_answer", "name": "correct"},
                    {"type": "think_answer_format", "name": "format", "weight": 0.2}]}


def make_rows(n: int, seed: int = 0) -> list[dict]:
    """Sums with integer, decimal and fraction golds; a third answered in another form than the gold.

    ``p`` grows with the row, so (gold, answer) pairs hardly repeat (1,906 distinct in 2,000 rows) and
    the verifier's per-process cache of comparisons does not stand in for the comparisons measured.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        p, q = i // 3 + 1, int(rng.integers(2, 9))
        kind = i % 3
        if kind == 0:
            gold, said = str(p + q), str(p + q + int(rng.integers(0, 2)))
        elif kind == 1:
            gold, said = f"\\frac{{{p}}}{{{q}}}", f"{p / q:.6g}"        # symbolic: a decimal against a fraction
        else:
            gold, said = f"\\frac{{{p}}}{{{q}}}", f"\\dfrac{{{p * 2}}}{{{q * 2}}}"
        text = f"<think>work {i}</think><answer>\\boxed{{{said}}}</answer>" if i % 5 else f"so {said}"
        rows.append({"id": i, "prompt": f"Q{i}", "completion": text, "answer": gold})
    return rows


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--chunk-rows", type=int, default=100)
    ap.add_argument("--backends", default="local1,local2,ray2",
                    help="comma-separated: localN (N worker processes) and rayN (N Ray actors)")
    ap.add_argument("--ceiling", action="store_true", help="also time the driver with a free reward")
    args = ap.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="rk_score_bench_"))
    src = tmp / "data.jsonl"
    with open(src, "w") as f:
        for r in make_rows(args.rows):
            f.write(json.dumps(r) + "\n")
    if any(b.startswith("ray") for b in backends):
        import ray

        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        ray.init(num_cpus=max(int(b[3:]) for b in backends if b.startswith("ray")), include_dashboard=False,
                 object_store_memory=100 * 2**20, log_to_driver=False, configure_logging=False)
    print(load(), f"| {args.rows} rows, chunks of {args.chunk_rows}, {os.cpu_count()} CPUs")
    rates: dict[str, list[float]] = {b: [] for b in backends}
    steady: dict[str, list[float]] = {b: [] for b in backends}
    ceiling: list[float] = []
    for rep in range(args.repeats):  # interleaved: every backend once per repeat
        for b in backends:
            kind, n = ("ray", int(b[3:])) if b.startswith("ray") else ("local", int(b[5:]))
            out = tmp / f"{b}-{rep}.parquet"
            s = score_file(REWARD, src, out, backend=kind, workers=n, chunk_rows=args.chunk_rows,
                           columns=ColumnMap())
            rates[b].append(s.rows / s.wall_s)
            steady[b].append(s.rows / max(s.wall_s - s.extra["startup_s"], 1e-9))
            out.unlink()
        if args.ceiling:  # in the same repeat, so it sees the same load as the backends
            s = score_file({"terms": [{"type": "constant", "params": {"value": 1.0}}]}, src, tmp / "c.parquet", workers=1,
                           chunk_rows=args.chunk_rows)
            ceiling.append(s.rows / max(s.wall_s - s.extra["startup_s"], 1e-9))
    print(load())
    if ceiling:
        print(f"driver ceiling (free reward, 1 worker, after start-up): {statistics.median(ceiling):,.0f} rows/s "
              f"({min(ceiling):,.0f}-{max(ceiling):,.0f})")
    print("| backend | workers | rows/s (median, range) | rows/s after start-up (median, range) |")
    print("|---|---|---|---|")
    for b in backends:
        kind = "ray" if b.startswith("ray") else "local"
        n = b[3:] if kind == "ray" else b[5:]
        print(f"| {kind} | {n} | {statistics.median(rates[b]):,.0f} ({min(rates[b]):,.0f}-{max(rates[b]):,.0f}) | "
              f"{statistics.median(steady[b]):,.0f} ({min(steady[b]):,.0f}-{max(steady[b]):,.0f}) |")
    med = {b: statistics.median(v) for b, v in steady.items()}
    if "local1" in med and "local2" in med:
        print(f"speed-up, 2 local workers over 1 (after start-up): {med['local2'] / med['local1']:.2f}x (target >= 1.8)")
    if "ray2" in med and "local2" in med:
        print(f"Ray / local at 2 workers (after start-up): {med['ray2'] / med['local2']:.2f} (target within 15 %)")


if __name__ == "__main__":
    main()
