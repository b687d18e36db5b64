"""B3 – "must not hurt where PPO succeeds", plus the bonus-share guard on an over-scaled bonus.

One command (cached per run in bench/_scratch/results/b3; ``--report`` prints finished runs)::

    nice -n 10 python bench/explore/b3_no_harm.py            # MultiRoom-N2-S4 200k, DoorKey-5x5 100k
    nice -n 10 python bench/explore/b3_no_harm.py --quick    # half the budgets
    nice -n 10 python bench/explore/b3_no_harm.py --guard-only   # 60k-step guard runs only

SB3 PPO as in B2.  Variants: ``none``; the rewardkit defaults ``count_product`` (first visit x
1/sqrt(N_global), position key, coef 0.01) and ``e3b`` (coef 0.01, std-normalised);
the negative control ``count_global_0.1`` = a global 1/sqrt(N(position)) bonus at scale 0.1,
i.e. MiniGrid's ``PositionBonus(scale=0.1)`` (measured to drop MultiRoom-N2-S4 from 100 % to
0 % success, research notes §8.2).  A :class:`~rewardkit.explore.guard.BonusShareGuard`
(default thresholds) watches every run.  Pass: each default ends within 0.05 of the
no-bonus return; the guard flags the negative control within the first 50k steps and
stays silent on the defaults.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import final, run_or_cached

PLAN = [("MiniGrid-MultiRoom-N2-S4-v0", 200_000, ["none", "count_product", "count_global_0.1", "e3b"]),
        ("MiniGrid-DoorKey-5x5-v0", 100_000, ["none", "count_product", "e3b"])]


GUARD_PLAN = ("MiniGrid-MultiRoom-N2-S4-v0", 60_000, ["count_global_0.1", "count_product", "e3b"])


def guard_only(seed: int, report: bool, variants: list[str]) -> None:
    """Short runs that only check the bonus-share guard within the first 50k steps."""
    env_id, steps, _ = GUARD_PLAN
    print(f"# B3 guard check: {env_id}, {steps:,} steps, seed {seed}\n")
    print("| variant | guard flagged at step | reasons | share / success / length at the last check | pass |")
    print("|---|---|---|---|---|")
    for v in variants:
        r = run_or_cached("b3guard", env_id, v, seed, steps, report)
        if r is None:
            continue
        if "guard" not in r:
            print(f"| {v} | error: {r.get('error')} | | | |")
            continue
        g = r["guard"]
        lc = g.get("last_check", {})
        flag = g.get("flag_step")
        ok = (flag is not None and flag <= 50_000) if v == "count_global_0.1" else flag is None
        print(f"| {v} | {flag if flag is not None else 'not flagged'} | {', '.join(g.get('reasons', [])) or '—'} | "
              f"{lc.get('share', float('nan')):.2f} / {lc.get('success_rate', float('nan')):.2f} / "
              f"{lc.get('mean_length', float('nan')):.0f} | {'yes' if ok else 'NO'} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--guard-only", action="store_true", help="only the 60k-step guard runs (see GUARD_PLAN)")
    ap.add_argument("--guard-variants", default=",".join(GUARD_PLAN[2]))
    args = ap.parse_args()
    if args.guard_only:
        guard_only(args.seed, args.report, args.guard_variants.split(","))
        return
    res = {}
    for env_id, steps, variants in PLAN:
        steps = steps // 2 if args.quick else steps
        for v in variants:
            r = run_or_cached("b3", env_id, v, args.seed, steps, args.report)
            if r is not None:
                res[(env_id, v)] = r
    print(f"# B3 must not hurt where PPO succeeds (SB3 PPO, seed {args.seed})\n")
    print("| env | variant | steps | final return (last 100 ep) | final success | vs none | guard flagged at step | "
          "guard reasons | pass |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (env_id, v), r in res.items():
        if "curve" not in r:
            print(f"| {env_id} | {v} | error: {r.get('error')} |||||||")
            continue
        base = res.get((env_id, "none"), {})
        ret = final(r["curve"], "return")
        diff = ret - final(base["curve"], "return") if "curve" in base else float("nan")
        g = r["guard"] or {}
        flag = g.get("flag_step")
        if v == "none":
            ok = "—"
        elif v == "count_global_0.1":
            ok = "yes" if flag is not None and flag <= 50_000 else "NO"
        else:
            ok = "yes" if diff >= -0.05 and flag is None else "NO"
        print(f"| {env_id} | {v} | {r['steps']:,} | {ret:.3f} | {final(r['curve'], 'success'):.2f} | "
              f"{'—' if v == 'none' else f'{diff:+.3f}'} | {flag if flag is not None else 'not flagged'} | "
              f"{', '.join(g.get('reasons', [])) or '—'} | {ok} |")


if __name__ == "__main__":
    main()
