"""B3 guard calibration: record the episode streams the bonus-share guard sees, replay them offline.

One command each (runs are cached in bench/_scratch/results/b3cal)::

    nice -n 10 python bench/explore/b3_guard_calibration.py record [--seeds 0,1,2,3,4]
    python bench/explore/b3_guard_calibration.py report [--seeds 0,1,2,3,4]

``record`` trains SB3 PPO on MiniGrid-MultiRoom-N2-S4 for 60k steps with the negative control
``count_global_0.1`` (an over-scaled global position count, farmed) and the two defaults
``count_product`` and ``e3b`` (helpful), keeping every episode's statistics.  ``report``
measures, per run, what separates farming from slow learning, and replays each stream
through the real :class:`~rewardkit.explore.guard.BonusShareGuard` (``add_episode``) with the
default settings, without the bonus-ratio condition, with the per-episode mean share used
before issue #3 instead of the pooled one, and for a sweep of ``warmup_steps``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import log, run_path, run_sb3

ENV, STEPS, N_ENVS = "MiniGrid-MultiRoom-N2-S4-v0", 60_000, 8
VARIANTS = ["count_global_0.1", "count_product", "e3b"]
WARMUPS = [0, 250, 500, 550, 750, 1000, 1250, 1500, 2000]


def finished(seeds: list[int]) -> dict:
    """The recorded runs that exist (``record`` makes them)."""
    import json
    out = {}
    for v in VARIANTS:
        for s in seeds:
            path = run_path("b3cal", ENV, v, s, STEPS)
            if os.path.exists(path):
                with open(path) as f:
                    out[(v, s)] = json.load(f)
    return out


def replay(episodes: list[dict], mean_share: bool = False, **guard_kwargs) -> int | None:
    """Flag step of the guard fed these episodes; ``mean_share`` = the per-episode mean share used before
    issue #3 instead of the pooled one."""
    from rewardkit.explore.guard import BonusShareGuard, EpisodeStats

    class MeanShareGuard(BonusShareGuard):
        @staticmethod
        def pooled_share(eps):
            return float(np.mean([e.share for e in eps]))
    g = (MeanShareGuard if mean_share else BonusShareGuard)(num_envs=N_ENVS, warn=False, **guard_kwargs)
    for e in episodes:
        g.add_episode(EpisodeStats(**e))
    return g.flag_step


def longest_dry_spell(episodes: list[dict]) -> float:
    """Longest stretch of steps per env between successes (from the start, and to the end)."""
    marks = [0] + [e["step"] for e in episodes if e["success"]] + [episodes[-1]["step"] if episodes else 0]
    return max(b - a for a, b in itertools.pairwise(marks)) / N_ENVS


def max_bonus_ratio(episodes: list[dict], after: int, window: int = 20) -> float | None:
    """Largest window mean intrinsic return / mean return of the successes so far, after step ``after``."""
    best, succ = None, []
    for k in range(len(episodes)):
        if episodes[k]["success"]:
            succ.append(episodes[k]["extrinsic_return"])
        if (k + 1) % window or not succ or episodes[k]["step"] < after:
            continue
        r = np.mean([e["intrinsic_return"] for e in episodes[k + 1 - window: k + 1]]) / np.mean(succ)
        best = r if best is None else max(best, r)
    return best


def report(seeds: list[int]) -> None:
    runs = finished(seeds)
    seeds = sorted({s for _, s in runs})
    fmt = lambda x: "never" if x is None else f"{x:,}"  # noqa: E731
    print(f"# B3 guard calibration: {ENV}, {STEPS:,} steps, seeds {seeds}\n")
    print("| variant | seed | final success | longest stretch without success (steps per env) | "
          "max bonus / success return after 10k | flag step, defaults | flag step, no ratio condition | "
          "flag step, mean of per-episode shares |")
    print("|---|---|---|---|---|---|---|---|")
    for (v, s), r in runs.items():
        eps = r["episodes"]
        ratio = max_bonus_ratio(eps, 10_000)
        print(f"| {v} | {s} | {r['curve'][-1]['success']:.2f} | {longest_dry_spell(eps):,.0f} | "
              f"{'—' if ratio is None else f'{ratio:.2f}'} | {fmt(replay(eps))} | "
              f"{fmt(replay(eps, min_bonus_ratio=0.0))} | {fmt(replay(eps, mean_share=True))} |")
    print("\nWarm-up sweep (`warmup_steps` per env, defaults otherwise): runs flagged per variant, "
          "and the latest flag step of the negative control.\n")
    print("| warmup_steps | " + " | ".join(f"{v} flagged" for v in VARIANTS) + " | latest control flag |")
    print("|---|" + "---|" * (len(VARIANTS) + 1))
    for w in WARMUPS:
        flags = {v: [replay(runs[(v, s)]["episodes"], warmup_steps=w) for s in seeds if (v, s) in runs]
                 for v in VARIANTS}
        ctl = [f for f in flags[VARIANTS[0]] if f is not None]
        print(f"| {w} | " + " | ".join(f"{sum(f is not None for f in flags[v])}/{len(flags[v])}" for v in VARIANTS)
              + f" | {fmt(max(ctl)) if ctl and len(ctl) == len(flags[VARIANTS[0]]) else 'not all flagged'} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["record", "report"])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    args = ap.parse_args()
    seeds = [int(x) for x in args.seeds.split(",")]
    if args.what == "record":
        for v in VARIANTS:
            for s in seeds:
                log(f"b3cal: {v} seed {s} ...")
                run_sb3("b3cal", ENV, v, s, STEPS, keep_episodes=True)
    report(seeds)


if __name__ == "__main__":
    main()
