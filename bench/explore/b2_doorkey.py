"""B2 – "helps where PPO fails": MiniGrid-DoorKey-8x8 with SB3 PPO, with and without bonuses.

One command (runs are cached in bench/_scratch/results/b2, so it resumes)::

    nice -n 10 python bench/explore/b2_doorkey.py                 # 600k steps, seed 0
    nice -n 10 python bench/explore/b2_doorkey.py --quick         # 150k steps
    python bench/explore/b2_doorkey.py --report                   # table of finished runs only
    nice -n 10 python bench/explore/b2_doorkey.py --overhead 3    # overhead only: 3 interleaved repeats

Variants: ``none`` (plain PPO); ``count_product`` (Henaff et al. 2023 product
``1[first visit in episode] / sqrt(N_global)``, coef 0.01, through the GAE-recomputing
callback) keyed on the agent position only; ``count_product@state`` – the same bonus keyed
on the full privileged state (position, direction, carried object, hash of the grid
encoding at that step – so picking up the key or opening the door makes states new; the
key of the research notes' §8.2 probe); ``e3b`` (IDM features, reward normalised by its
running std, coef 0.01); ``rnd`` (return-normalised, coef 0.01).
Targets (issue #3): count product reaches 100 % success (last 100 episodes) within
0.6M steps; end-to-end overhead vs no bonus <= 15 % (counts, E3B), <= 40 % (RND).
Overhead is reported two ways: wall-clock SPS ratio against the plain run (noisy on a
shared machine) and the time spent inside the bonus callback divided by the rest of
the run's time (measured in the same process, robust to machine load).
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import final, first_step_at, log, run_or_cached, run_sb3

ENV = "MiniGrid-DoorKey-8x8-v0"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--report", action="store_true", help="only print the table of finished runs")
    ap.add_argument("--variants", default="count_product@state,none,count_product,e3b,rnd")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--overhead", type=int, default=0, metavar="R",
                    help="only measure end-to-end overhead: R interleaved repeats of 30k-step runs per variant")
    args = ap.parse_args()
    if args.overhead:
        return overhead(args.variants.split(","), args.overhead, args.steps or 30_720)
    steps = args.steps or (150_000 if args.quick else 600_000)
    results = {}
    for seed in [int(s) for s in args.seeds.split(",")]:
        for v in args.variants.split(","):
            r = run_or_cached("b2", ENV, v, seed, steps, args.report)
            if r is not None:
                results[(v, seed)] = r
    base = {s: r for (v, s), r in results.items() if v == "none" and "curve" in r}
    print(f"# B2 DoorKey-8x8, SB3 PPO (8 envs, n_steps 128, batch 256, 4 epochs, ent 0.01), {steps:,} steps\n")
    print("| variant | seed | final success (last 100 ep) | final return | first step with 100 % success | "
          "first step >= 90 % | SPS | wall overhead vs none | bonus time / rest of run |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (v, seed), r in results.items():
        if "curve" not in r:
            print(f"| {v} | {seed} | error: {r.get('error')} |||||||")
            continue
        c = r["curve"]
        s100, s90 = first_step_at(c, "success", 1.0), first_step_at(c, "success", 0.9)
        over = f"{base[seed]['sps'] / r['sps'] - 1:+.0%}" if seed in base and v != "none" else "—"
        inner = r["bonus_time"] / max(r["wall"] - r["bonus_time"], 1e-9)
        print(f"| {v} | {seed} | {final(c, 'success'):.2f} | {final(c, 'return'):.2f} | "
              f"{s100 if s100 is not None else 'not reached'} | {s90 if s90 is not None else 'not reached'} | "
              f"{r['sps']:,.0f} | {over} | {inner:.1%} |")
    print("\nCurve (success rate of the last 100 episodes at each 10 % of the budget):\n")
    for (v, seed), r in results.items():
        if "curve" in r:
            c = r["curve"]
            pts = [c[min(len(c) - 1, int(len(c) * k / 10))] for k in range(1, 11)]
            print(f"- {v} seed {seed}: " + ", ".join(f"{p['step'] // 1000}k {p['success']:.2f}" for p in pts))


def overhead(variants: list[str], repeats: int, steps: int) -> None:
    """Wall-clock overhead vs plain PPO from interleaved repeats (none, v1, v2, ..., none, v1, ...).

    Interleaving puts every variant under the same machine load; each repeat is a fresh
    run (seed 0) and the ratio of repeat r uses the plain run of the same repeat.  Reports
    the median over repeats of the wall-clock ratio and of the in-process share (time
    inside the bonus callback / rest of the run).
    """
    import numpy as np
    order = ["none"] + [v for v in variants if v != "none"]
    runs: dict[str, list[dict]] = {v: [] for v in order}
    for r in range(repeats):
        for v in order:
            log(f"b2 overhead: repeat {r} {v} {steps} ...")
            runs[v].append(run_sb3("b2overhead", ENV, v, 0, steps, fresh=True, tag_extra=f"__r{r}"))
    print(f"# B2 end-to-end overhead vs plain PPO, DoorKey-8x8, {steps:,} steps, {repeats} interleaved repeats\n")
    print("| variant | wall overhead per repeat | median wall overhead | median CPU-time overhead | "
          "median time in bonus / rest of run | target |")
    print("|---|---|---|---|---|---|")
    for v in order[1:]:
        walls = [runs[v][r]["wall"] / runs["none"][r]["wall"] - 1 for r in range(repeats)]
        cpus = [runs[v][r]["cpu"] / runs["none"][r]["cpu"] - 1 for r in range(repeats)]
        inner = [x["bonus_time"] / max(x["wall"] - x["bonus_time"], 1e-9) for x in runs[v]]
        target = "<= 40 %" if v.startswith("rnd") else "<= 15 %"
        print(f"| {v} | {', '.join(f'{w:+.0%}' for w in walls)} | {np.median(walls):+.1%} | {np.median(cpus):+.1%} | "
              f"{np.median(inner):.1%} | {target} |")


if __name__ == "__main__":
    main()
