"""E1 - ExploRS vs count bonus vs original reward on the ExploRS chain (with / without the 0.01 distractor).

Reproduces the tabular Q-learning experiment of Devidze, Kamalaruban & Singla (NeurIPS 2022),
"Exploration-Guided Reward Shaping for RL under Sparse Rewards", with the reference
protocol (see ``docs/explors.md`` and the research notes §4, §14.1, §17 E1):

* chain n1=20, n2=40, H=40, gamma=0.99, slip 5%, distractor 0.01 for *left* at state 25;
* Q-learning alpha=0.1, epsilon=0.05, **uniform random tie-breaking** (the reference's rule);
  replay of the last 5 episodes in reverse every 2 episodes; teacher update every 5 on a
  10-episode buffer; SelfRS eta_phi = eta_c = 0.01, clip 0.01; count bonus 1/sqrt(1+N(s'));
* evaluation every 100 episodes: mean discounted original return of 5 rollouts;
* common random numbers: the same seed for every teacher.

Usage (one command each; the table goes to stdout, a copy + PNGs to bench/design/results/explors/):

    python bench/design/explors_chain.py --smoke           # 3 seeds x 5k episodes, distractor only
    python bench/design/explors_chain.py                   # 5 seeds x 5k, both settings, + SelfRS, SORS'
    python bench/design/explors_chain.py --episodes 20000  # longer

No reference implementation is installable from PyPI (the paper's code is a research
repository targeting old ``gym``/``numpy``), so there is no speed ratio here; the
anchor numbers are the §14.1 measurements of a re-implementation of the reference protocol.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from rewardkit.shaping.explors import first_crossing, run_explors
from rewardkit.tabular import chain_with_distractor

OUT = Path(__file__).resolve().parent / "results" / "explors"
#: research notes §14.1 table: (teacher, distractor) -> {checkpoint: (mean, SE)}
ANCHOR_TABLE = {
    ("orig", 0.0): {1000: (7.20, 2.64), 2500: (12.03, 0.24), 5000: (12.33, 0.41), 10000: (12.07, 0.49),
                    50000: (12.58, 0.39)},
    ("explob", 0.0): {1000: (0.00, 0.0), 2500: (4.85, 2.66), 5000: (9.64, 2.18), 10000: (11.72, 0.59),
                      50000: (12.58, 0.39)},
    ("explors", 0.0): {1000: (0.00, 0.0), 2500: (7.27, 2.66), 5000: (9.64, 2.18), 10000: (12.07, 0.49),
                       50000: (12.58, 0.39)},
    ("orig", 0.01): {1000: (0.08, 0.0), 2500: (0.09, 0.0), 5000: (0.09, 0.0), 10000: (0.09, 0.0),
                     50000: (0.09, 0.0)},
    ("explob", 0.01): {1000: (0.02, 0.0), 2500: (7.27, 2.65), 5000: (12.33, 0.41), 10000: (12.07, 0.49),
                       50000: (12.58, 0.39)},
    ("explors", 0.01): {1000: (0.02, 0.0), 2500: (7.27, 2.66), 5000: (12.33, 0.41), 10000: (12.07, 0.49),
                        50000: (12.58, 0.39)},
}
ANCHOR_DISTRACTOR = {  # research notes §14.1 (re-implementation of the reference protocol, 5 seeds)
    "orig": "0.08 / 0.09 / 0.09, never crosses 10",
    "explob": "0.02 / 7.27 / 12.33; crossings 1400, 3800, 1400, 3900, 2400",
    "explors": "0.02 / 7.27 / 12.33; crossings 1300, 2800, 1200, 3200, 2300",
}


def run_cell(variant: str, distractor: float, seeds: list[int], episodes: int, lirpg_samples: int | None,
             tie_break: str = "random"):
    mdp, _ = chain_with_distractor(distractor=distractor)
    runs = []
    for seed in seeds:
        t0 = time.time()
        kw = {"lirpg_samples": lirpg_samples} if variant == "lirpg" else {}
        out = run_explors(mdp, variant, episodes, tie_break=tie_break, seed=seed, horizon=40, alpha=0.1,
                          epsilon=0.05, teacher_kwargs=kw)
        out["seconds"] = time.time() - t0
        runs.append(out)
        print(f"  [{variant:8s} distractor={distractor}] seed {seed}: final {out['eval_return'][-1]:.2f} "
              f"cross10 {first_crossing(out['episode'], out['eval_return'], 10.0)} ({out['seconds']:.1f}s)",
              file=sys.stderr, flush=True)
    return runs


def fmt(vals: np.ndarray) -> str:
    m = float(np.mean(vals))
    se = float(np.std(vals, ddof=1) / np.sqrt(len(vals))) if len(vals) > 1 else 0.0
    return f"{m:.2f}±{se:.2f}"


def acceptance_lines(results: dict[tuple[str, float], list[dict]], crossings: dict[tuple[str, float], list],
                     checkpoints: list[int], first_variant: str) -> list[str]:
    """The brief's acceptance checks at distractor 0.01: means @5k, and ExploRS crossing no later than ExploB."""
    lines = []
    if 5000 in checkpoints:
        k5 = int(np.flatnonzero(results[(first_variant, 0.01)][0]["episode"] == 5000)[0])
        for v, op, thr in (("orig", "<=", 0.1), ("explob", ">=", 9.0), ("explors", ">=", 9.0)):
            if (v, 0.01) in results:
                m = float(np.mean([r["eval_return"][k5] for r in results[(v, 0.01)]]))
                ok = m <= thr if op == "<=" else m >= thr
                lines.append(f"- {v} mean @5k = {m:.2f} {op} {thr}: {'PASS' if ok else 'FAIL'}")
    if ("explob", 0.01) in crossings and ("explors", 0.01) in crossings:
        big = 10 ** 9
        a = [big if x is None else x for x in crossings[("explors", 0.01)]]
        b = [big if x is None else x for x in crossings[("explob", 0.01)]]
        n_not_later = sum(x <= y for x, y in zip(a, b, strict=False))
        n_earlier = sum(x < y for x, y in zip(a, b, strict=False))
        need = int(np.ceil(0.6 * len(a)))   # the brief: >= 3 of 5 seeds
        lines.append(f"- ExploRS crossing <= ExploB crossing in {n_not_later}/{len(a)} seeds "
                     f"(strictly earlier in {n_earlier}); need >= {need} of {len(a)} (3 of 5): "
                     f"{'PASS' if n_not_later >= need else 'FAIL'}")
    return lines


def anchor_agreement(results: dict[tuple[str, float], list[dict]], checkpoints: list[int]) -> tuple[int, int]:
    """``(agree, total)``: checkpoint means within 2 combined SE (or 0.05) of the paper's table."""
    agree, total = 0, 0
    for (v, d), ref in ANCHOR_TABLE.items():
        if (v, d) not in results:
            continue
        ep = results[(v, d)][0]["episode"]
        for c, (m_ref, se_ref) in ref.items():
            if c not in checkpoints:
                continue
            k = int(np.flatnonzero(ep == c)[0])
            vals = np.array([r["eval_return"][k] for r in results[(v, d)]])
            se = vals.std(ddof=1) / np.sqrt(len(vals)) if len(vals) > 1 else 0.0
            total += 1
            agree += int(abs(vals.mean() - m_ref) <= max(2 * np.hypot(se, se_ref), 0.05))
    return agree, total


def plot_curves(results: dict[tuple[str, float], list[dict]], settings: list[float], variants: list[str],
                n_seeds: int, tag: str) -> None:
    """One PNG per distractor setting: mean ± SE evaluation curve of every teacher."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    for d in settings:
        fig, ax = plt.subplots(figsize=(6, 4))
        for v in variants:
            runs = results[(v, d)]
            Y = np.array([r["eval_return"] for r in runs])
            x = runs[0]["episode"]
            m = Y.mean(0)
            se = Y.std(0, ddof=1) / np.sqrt(len(runs)) if len(runs) > 1 else np.zeros_like(m)
            ax.plot(x, m, label=v)
            ax.fill_between(x, m - se, m + se, alpha=0.2)
        ax.set_xlabel("episode")
        ax.set_ylabel("expected discounted original return")
        ax.set_title(f"ExploRS chain, distractor={d} ({n_seeds} seeds)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(OUT / f"explors_chain_{tag}_d{d}.png", dpi=100)
        plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="3 seeds x 5k episodes, distractor only, 3 teachers")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--episodes", type=int, default=5000)
    ap.add_argument("--variants", default=None, help="comma list (default orig,explob,selfrs,explors,sors)")
    ap.add_argument("--lirpg-samples", type=int, default=20,
                    help="steps per LIRPG' update (the reference uses all; add 'lirpg' to --variants)")
    ap.add_argument("--tie-break", default="random", choices=("random", "first"),
                    help="Q-learner tie rule (the reference: random)")
    ap.add_argument("--settings", default=None, help="comma list of distractor values (default 0.01,0.0)")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args(argv)
    if args.smoke:
        seeds = list(range(args.seeds or 3))
        variants = (args.variants or "orig,explob,explors").split(",")
        settings = [0.01]
    else:
        seeds = list(range(args.seeds or 5))
        variants = (args.variants or "orig,explob,selfrs,explors,sors").split(",")
        settings = [0.01, 0.0]
    if args.settings:
        settings = [float(x) for x in args.settings.split(",")]
    t_start = time.time()
    results: dict[tuple[str, float], list[dict]] = {}
    for d in settings:
        for v in variants:
            results[(v, d)] = run_cell(v, d, seeds, args.episodes, args.lirpg_samples, args.tie_break)

    checkpoints = [c for c in (1000, 2500, 5000, 10000, 20000, 50000) if c <= args.episodes]
    lines = []
    cmd = "python bench/design/explors_chain.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines.append(f"### ExploRS chain (n1=20, n2=40, H=40), Q-learning tie_break={args.tie_break}, {len(seeds)} seeds, "
                 f"{args.episodes} episodes\n")
    lines.append(f"Command: `{cmd.strip()}`\n")
    head = "| teacher | distractor | " + " | ".join(f"@{c}" for c in checkpoints) + \
        " | first episode with 5-pt moving mean ≥ 10 (per seed) | s/run |"
    lines.append(head)
    lines.append("|" + "---|" * (head.count("|") - 1))
    crossings: dict[tuple[str, float], list] = {}
    for (v, d), runs in results.items():
        ep = runs[0]["episode"]
        cells = []
        for c in checkpoints:
            k = int(np.flatnonzero(ep == c)[0])
            cells.append(fmt(np.array([r["eval_return"][k] for r in runs])))
        cr = [first_crossing(r["episode"], r["eval_return"], 10.0) for r in runs]
        crossings[(v, d)] = cr
        secs = np.mean([r["seconds"] for r in runs])
        lines.append(f"| {v} | {d} | " + " | ".join(cells) + f" | {', '.join(str(x) for x in cr)} | {secs:.1f} |")
    lines.append("")
    # acceptance criteria (research notes §17 E1)
    lines.append("Acceptance (distractor 0.01):")
    lines += acceptance_lines(results, crossings, checkpoints, variants[0])
    agree, total = anchor_agreement(results, checkpoints)
    if total:
        lines.append(f"- per-checkpoint means within 2 SE (combined) of the §14.1 anchors: {agree}/{total} cells")
    lines.append("")
    lines.append("Anchor (research notes §14.1, @1k / @2.5k / @5k with distractor): " +
                 "; ".join(f"{k}: {v}" for k, v in ANCHOR_DISTRACTOR.items()))
    lines.append(f"\nTotal wall time {time.time() - t_start:.0f} s.")
    table = "\n".join(lines)
    print(table)
    OUT.mkdir(parents=True, exist_ok=True)
    tag = ("smoke" if args.smoke else f"report_{args.episodes}") + ("" if args.tie_break == "random" else "_first")
    (OUT / f"explors_chain_{tag}.md").write_text(table + "\n")
    if not args.no_plots:
        plot_curves(results, settings, variants, len(seeds), tag)
    print(f"\n(written to {OUT})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
