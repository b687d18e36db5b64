"""Reproduction E3: reward machines on the Office world, task t3 (Toro Icarte et al. 2022).

Variants QL, QL+RS, CRM, CRM+RS; tabular Q-learning (lr 0.5, ε 0.1, q_init 2.0,
γ 0.9, rs_γ 0.9, random tie-breaking), 1e5 steps, N seeds (seed i uses the same
episode seeds in every variant).  Metric: normalised reward per step, moving
average over the last 100 episodes, every 1000 steps; report the first step at
which the median over seeds crosses 0.9.

    python bench/design/rm_office.py --seeds 10            # full (a few CPU minutes)
    python bench/design/rm_office.py --seeds 2 --steps 30000 --quick
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from rewardkit.spec.office import (OFFICE_T3, OFFICE_T3_OPTIMAL_REWARD_PER_STEP, START, OfficeWorld,
                                   office_tables)
from rewardkit.spec.reward_machine import RewardMachine
from rewardkit.spec.rm_learning import rm_q_learning
from rewardkit.spec.rm_optimal import optimal_reward_per_step

VARIANTS = {"QL": (False, False), "QL+RS": (False, True), "CRM": (True, False), "CRM+RS": (True, True)}
ANCHOR_CROSS = {"QL": 50_000, "QL+RS": 30_000, "CRM": 30_000, "CRM+RS": 20_000}  # paper medians (60 seeds)


def one(args):
    variant, seed, steps, opt = args
    crm, rs = VARIANTS[variant]
    out = rm_q_learning(OfficeWorld(), RewardMachine.from_text(OFFICE_T3), steps, crm=crm, shaping=rs, seed=seed,
                        optimal_reward_per_step=opt)
    return variant, seed, out["steps"], out["normalised_reward_per_step"]


def first_cross(steps, curve, level=0.9):
    idx = np.flatnonzero(curve >= level)
    return int(steps[idx[0]]) if idx.size else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="bench/design/results/rm_office")
    ap.add_argument("--quick", action="store_true", help="skip plots")
    args = ap.parse_args()
    rm = RewardMachine.from_text(OFFICE_T3)
    nxt, ev = office_tables()
    t0 = time.time()
    opt = optimal_reward_per_step(nxt, ev, START[0] * 9 + START[1], rm, episodes=20_000)
    print(f"optimal eps-greedy reward/step in this env: {opt:.5f} (published normaliser "
          f"{OFFICE_T3_OPTIMAL_REWARD_PER_STEP:.5f})")
    jobs = [(v, s, args.steps, opt) for v in VARIANTS for s in range(args.seeds)]
    with ProcessPoolExecutor(args.workers) as ex:
        results = list(ex.map(one, jobs))
    curves: dict[str, list[np.ndarray]] = {v: [] for v in VARIANTS}
    steps = None
    for v, _, st, c in results:
        curves[v].append(c)
        steps = st
    print(f"\n{args.seeds} seeds x {args.steps} steps, wall {time.time() - t0:.1f}s\n")
    print("| variant | median @20k | @30k | @40k | @50k | @90k | steps for median to cross 0.9 | anchor (paper) |")
    print("|---|---|---|---|---|---|---|---|")
    crosses = {}
    for v, cs in curves.items():
        med = np.median(np.stack(cs), axis=0)
        def at(k, med=med):
            return f"{med[k // 1000 - 1]:.3f}" if k // 1000 - 1 < len(med) else "-"
        crosses[v] = first_cross(steps, med)
        print(f"| {v} | {at(20000)} | {at(30000)} | {at(40000)} | {at(50000)} | {at(90000)} | "
              f"{crosses[v] if crosses[v] else 'not reached'} | ~{ANCHOR_CROSS[v] // 1000}k |")
    order = sorted(VARIANTS, key=lambda v: crosses[v] if crosses[v] else 10**9)
    print(f"\nordering by steps to 0.9: {' < '.join(order)} (expected CRM+RS < CRM < QL+RS < QL)")
    if not args.quick:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(6, 4))
        for v, cs in curves.items():
            arr = np.stack(cs)
            ax.plot(steps, np.median(arr, 0), label=v)
            ax.fill_between(steps, np.percentile(arr, 25, 0), np.percentile(arr, 75, 0), alpha=0.2)
        ax.axhline(0.9, color="k", lw=0.5, ls="--")
        ax.set_xlabel("steps")
        ax.set_ylabel("normalised reward per step")
        ax.set_title("Office t3: median and IQR over seeds")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "office_t3.png", dpi=120)
        print(f"plot: {out / 'office_t3.png'}")


if __name__ == "__main__":
    main()
