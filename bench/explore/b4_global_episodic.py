"""B4 – global vs episodic vs product (vs sum) count bonuses, 1 context vs many (Henaff et al. 2023).

One command (cached per run in bench/_scratch/results/b4; ``--report`` prints finished runs)::

    nice -n 10 python bench/explore/b4_global_episodic.py             # DoorKey-6x6, 150k steps, seed 0
    nice -n 10 python bench/explore/b4_global_episodic.py --quick     # 75k steps
    python bench/explore/b4_global_episodic.py --aggregate 0,1,2 100000   # mean table over seeds

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
from _common import final, guarded, log, run_sb3  # noqa: E402

ENV = "MiniGrid-DoorKey-6x6-v0"
FAMILIES = [("global", "count_global"), ("episodic (first visit)", "count_first_visit"),
            ("product", "count_product"), ("sum", "count_sum")]
KEY = {"carrying": True, "layout": True}


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
    env_id = args.env
    steps = args.steps or (75_000 if args.quick else 150_000)
    res = {}
    extra = [] if args.no_baseline else [("none", "none")]
    for ctx in args.contexts.split(","):
        for label, v in FAMILIES + extra:
            path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "_scratch", "results", "b4",
                                f"{env_id}__{v}__ctx{ctx}__s{args.seed}__{steps}.json")
            if args.report and not os.path.exists(path):
                continue
            if not args.report:
                log(f"b4: ctx {ctx} {v} {steps} ...")
            res[(ctx, v)] = guarded(lambda: run_sb3("b4", env_id, v, args.seed, steps, key_fields=KEY,
                                                    reseed=[0] if ctx == "1" else None))
    print(f"# B4 global vs episodic vs product, {env_id}, {steps:,} steps, seed {args.seed}\n")
    print("Cell = final success (last 100 episodes) / area under the success curve.\n")
    print("| contexts | " + " | ".join(lbl for lbl, _ in FAMILIES) + " | no bonus |")
    print("|---|" + "---|" * (len(FAMILIES) + 1))
    for ctx in ("1", "inf"):
        cells = []
        for _, v in FAMILIES + [("none", "none")]:
            r = res.get((ctx, v))
            if r is None:
                cells.append("not run")
            elif "curve" not in r:
                cells.append("error")
            else:
                auc = float(np.mean([p["success"] for p in r["curve"]]))
                cells.append(f"{final(r['curve'], 'success'):.2f} / {auc:.2f}")
        print(f"| {ctx} | " + " | ".join(cells) + " |")


def aggregate(seeds: list[int], steps: int, env_id: str = ENV) -> None:
    """Mean over seeds of final success and success-curve area (finished runs only)."""
    import json
    base = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "_scratch", "results", "b4")
    print(f"# B4 global vs episodic vs product, {env_id}, {steps:,} steps, seeds {seeds} (mean over finished seeds)\n")
    print("Cell = final success / area under the success curve (n = finished seeds).\n")
    print("| contexts | " + " | ".join(lbl for lbl, _ in FAMILIES) + " | no bonus |")
    print("|---|" + "---|" * (len(FAMILIES) + 1))
    for ctx in ("1", "inf"):
        cells = []
        for _, v in FAMILIES + [("none", "none")]:
            fin, auc = [], []
            for sd in seeds:
                path = os.path.join(base, f"{env_id}__{v}__ctx{ctx}__s{sd}__{steps}.json")
                if os.path.exists(path):
                    with open(path) as f:
                        c = json.load(f)["curve"]
                    fin.append(final(c, "success"))
                    auc.append(float(np.mean([p["success"] for p in c])))
            cells.append(f"{np.mean(fin):.2f} / {np.mean(auc):.2f} (n={len(fin)})" if fin else "not run")
        print(f"| {ctx} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if "--aggregate" in sys.argv:
        i = sys.argv.index("--aggregate")
        env = sys.argv[sys.argv.index("--env") + 1] if "--env" in sys.argv else ENV
        aggregate([int(x) for x in sys.argv[i + 1].split(",")],
                  int(sys.argv[i + 2]) if len(sys.argv) > i + 2 and sys.argv[i + 2].isdigit() else 100_000, env)
    else:
        main()
