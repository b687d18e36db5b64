"""B4 – global vs episodic vs product (vs sum) count bonuses, 1 context vs many (Henaff et al. 2023).

One command (cached per run in bench/_scratch/results/b4; ``--report`` prints finished runs)::

    nice -n 10 python bench/explore/b4_global_episodic.py             # DoorKey-6x6, 150k steps, seed 0
    nice -n 10 python bench/explore/b4_global_episodic.py --quick     # 75k steps
    python bench/explore/b4_global_episodic.py --aggregate 0,1,2 100000   # mean, paired and per-seed tables
    python bench/explore/b4_global_episodic.py --count-layouts 3000 [--env ENV]   # distinct layouts

A CPU-size, qualitative replication of "A Study of Global and Episodic Bonuses for
Exploration in Contextual MDPs" (Henaff, Jiang & Raileanu, ICML 2023).  Contexts:
``1`` = ``minigrid.wrappers.ReseedWrapper(seeds=[0])`` (the same layout every episode)
vs ``inf`` (a fresh layout per episode).  Count key = agent position, carried object
and a hash of the layout (so a *global* count is layout-specific, as with the
ICML'23 ``counts-obs`` keys).  Bonuses (coef 0.01, through the GAE-recomputing SB3
callback): ``global`` 1/sqrt(N), ``first_visit`` 1[N_ep = 1], ``product`` (their
product), ``sum`` (global + first visit).  Expected pattern (paper): global >= episodic
with one context, episodic >= global with many, product robust in both.
Reported: final success (last 100 episodes) and the area under the success curve
(mean success over the logged points).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import final, run_or_cached, run_path

ENV = "MiniGrid-DoorKey-6x6-v0"
FAMILIES = [("global", "count_global"), ("episodic (first visit)", "count_first_visit"),
            ("product", "count_product"), ("sum", "count_sum")]
KEY = {"carrying": True, "layout": True}


VARIANTS = [*FAMILIES, ("no bonus", "none")]
PAIRS = [("count_global", "count_first_visit"), ("count_product", "count_global"),
         ("count_product", "count_first_visit"), ("count_sum", "count_global"), ("count_global", "none"),
         ("count_first_visit", "none")]


def _path(env_id: str, v: str, ctx: str, seed: int, steps: int) -> str:
    return run_path("b4", env_id, v, seed, steps, reseed=[0] if ctx == "1" else None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--no-baseline", action="store_true", help="skip the no-bonus runs")
    ap.add_argument("--contexts", default="1,inf", help="which context settings to run: 1, inf or both")
    ap.add_argument("--env", default=ENV, help="MiniGrid env id (default DoorKey-6x6: 36 distinct layouts; "
                                                "MultiRoom-N2-S4 has a new layout almost every episode)")
    args = ap.parse_args()
    steps = args.steps or (75_000 if args.quick else 150_000)
    extra = [] if args.no_baseline else [("none", "none")]
    for ctx in args.contexts.split(","):
        for _, v in FAMILIES + extra:
            run_or_cached("b4", args.env, v, args.seed, steps, args.report, key_fields=KEY,
                          reseed=[0] if ctx == "1" else None)
    aggregate([args.seed], steps, args.env)


def _load(env_id: str, seeds: list[int], steps: int) -> dict:
    """(ctx, variant, seed) -> (final success, area under the success curve) of the finished runs."""
    import json
    out = {}
    for ctx in ("1", "inf"):
        for _, v in VARIANTS:
            for sd in seeds:
                path = _path(env_id, v, ctx, sd, steps)
                if os.path.exists(path):
                    with open(path) as f:
                        c = json.load(f)["curve"]
                    out[(ctx, v, sd)] = (final(c, "success"), float(np.mean([p["success"] for p in c])))
    return out


def aggregate(seeds: list[int], steps: int, env_id: str = ENV) -> None:
    """Mean table, paired AUC differences and per-seed table over the finished runs."""
    res = _load(env_id, seeds, steps)
    print(f"# B4 global vs episodic vs product, {env_id}, {steps:,} steps, seeds {seeds} (mean over finished seeds)\n")
    print("Cell = final success (last 100 episodes) / area under the success curve (n = finished seeds).\n")
    print("| contexts | " + " | ".join(lbl for lbl, _ in VARIANTS) + " |")
    print("|---|" + "---|" * len(VARIANTS))
    for ctx in ("1", "inf"):
        cells = []
        for _, v in VARIANTS:
            got = [res[(ctx, v, sd)] for sd in seeds if (ctx, v, sd) in res]
            cells.append(f"{np.mean([g[0] for g in got]):.2f} / {np.mean([g[1] for g in got]):.2f} (n={len(got)})"
                         if got else "not run")
        print(f"| {ctx} | " + " | ".join(cells) + " |")
    print("\nPaired by seed: difference of the area under the success curve, mean ± s.e., seeds where the first wins.\n")
    print("| contexts | pair | mean ± s.e. | wins |")
    print("|---|---|---|---|")
    for ctx in ("1", "inf"):
        for a, b in PAIRS:
            d = np.array([res[(ctx, a, sd)][1] - res[(ctx, b, sd)][1] for sd in seeds
                          if (ctx, a, sd) in res and (ctx, b, sd) in res])
            if d.size:
                se = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else float("nan")
                print(f"| {ctx} | {a} − {b} | {d.mean():+.3f} ± {se:.3f} | {int((d > 0).sum())}/{d.size} |")
    print("\nPer seed:\n")
    print("| seed, contexts | " + " | ".join(lbl for lbl, _ in VARIANTS) + " |")
    print("|---|" + "---|" * len(VARIANTS))
    for sd in seeds:
        for ctx in ("1", "inf"):
            cells = [f"{res[(ctx, v, sd)][0]:.2f} / {res[(ctx, v, sd)][1]:.2f}" if (ctx, v, sd) in res else "not run"
                     for _, v in VARIANTS]
            print(f"| seed {sd}, {ctx} | " + " | ".join(cells) + " |")


def count_layouts(env_id: str, resets: int) -> int:
    """Distinct grid layouts (``grid.encode()``, agent excluded) over ``resets`` seeded resets."""
    import gymnasium as gym
    import minigrid  # noqa: F401
    env = gym.make(env_id)
    seen = set()
    for s in range(resets):
        env.reset(seed=s)
        seen.add(env.unwrapped.grid.encode().tobytes())
    return len(seen)


if __name__ == "__main__":
    env = sys.argv[sys.argv.index("--env") + 1] if "--env" in sys.argv else ENV
    if "--aggregate" in sys.argv:
        i = sys.argv.index("--aggregate")
        aggregate([int(x) for x in sys.argv[i + 1].split(",")],
                  int(sys.argv[i + 2]) if len(sys.argv) > i + 2 and sys.argv[i + 2].isdigit() else 100_000, env)
    elif "--count-layouts" in sys.argv:
        n = int(sys.argv[sys.argv.index("--count-layouts") + 1])
        print(f"{env}: {count_layouts(env, n)} distinct layouts in {n} resets (seeds 0..{n - 1})")
    else:
        main()
