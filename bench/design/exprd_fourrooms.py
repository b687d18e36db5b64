"""E2 - EXPRD on the 7x7 four-room grid: sparsity budget vs informativeness vs convergence.

Reproduces notes §14.2 / §17 E2 (Devidze et al., NeurIPS 2021, main Room figure):

* greedy support selection for B = 0..5 (HiGHS LP) - picks, I_H, invariance slack;
* Q-learning (alpha 0.5, eps 0.1, horizon 50, Q0 = 0) on R_orig, EXPRD B=0..5 and PBRS(V*),
  greedy policy evaluated exactly on the ORIGINAL reward every 16 episodes, mean curve over
  seeds; with the reference's argmax-first tie-breaking AND with random tie-breaking.

Usage (one command, prints markdown to stdout):

    python bench/design/exprd_fourrooms.py                  # full: 10 seeds x 4096 episodes
    python bench/design/exprd_fourrooms.py --smoke          # 3 seeds x 2048 episodes
    python bench/design/exprd_fourrooms.py --report bench/design/results/exprd   # + PNG plots + table.md
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from rewardkit.shaping import ExprdProblem, invariance_slack, pbrs_reward
from rewardkit.tabular import episodes_to_fraction, four_rooms, run_q_learning

# anchors: notes §14.2 (reference code cvxpy 1.9.3 + ECOS; Q-learning 10 seeds x 4096 episodes)
ANCHOR_PICKS = [48, 0, 15, 9, 19, 37]
ANCHOR_IH = {"orig": -0.15573, "B=0": -0.15573, "B=1": -0.09970, "B=2": -0.09245, "B=3": -0.08418,
             "B=4": -0.07756, "B=5": -0.07094, "PBRS(V*)": 0.0}
ANCHOR_L1 = {"orig": 10.0, "B=0": 16.0, "B=1": 30.8, "B=2": 96.3, "B=3": 66.7, "B=4": 75.6, "B=5": 82.2,
             "PBRS(V*)": 95.0}
ANCHOR_E90 = {"first": {"orig": None, "B=0": 992, "B=1": 576, "B=2": 2000, "B=3": 400, "B=4": 416, "B=5": 128,
                        "PBRS(V*)": 16},
              "random": {"orig": 880, "B=0": 240, "B=1": 224, "B=2": 3040, "B=3": None, "B=4": 1920, "B=5": 2800,
                         "PBRS(V*)": 16}}
ANCHOR_M1024 = {"first": {"orig": 0.06, "B=0": 0.51, "B=1": 0.54, "B=2": 0.38, "B=3": 0.69, "B=4": 0.74,
                          "B=5": 0.85, "PBRS(V*)": 0.98},
                "random": {"orig": 0.70, "B=0": 0.76, "B=1": 0.81, "B=2": 0.09, "B=3": 0.05, "B=4": 0.23,
                           "B=5": 0.26, "PBRS(V*)": 0.98}}


def design(budget: int = 5):
    """Run EXPRD's greedy on the grid; return (rows, rewards, greedy result, problem)."""
    mdp, layout = four_rooms()
    prob = ExprdProblem(mdp)
    t0 = time.perf_counter()
    g = prob.greedy(budget)
    secs = time.perf_counter() - t0
    V, _, _ = mdp.value_iteration()
    rewards = {"orig": mdp.R.copy()}
    for b, d in enumerate(g.designs):
        rewards[f"B={b}"] = d.reward
    rewards["PBRS(V*)"] = pbrs_reward(mdp, V)
    # the LP optimum is a face: the min-L1 optimal reward on the same support (same I_H) is a
    # different design, and learners react differently to it
    rewards["B=5 min-L1"] = ExprdProblem(mdp, refine="l1").solve(g.support).reward
    rows = []
    for name, R in rewards.items():
        ih = prob.informativeness(R)
        slack = invariance_slack(R, mdp, margin="gap", all_combinations=False).slack
        nz = int(np.count_nonzero(np.abs(R[:49]).sum(axis=1)))
        rows.append({"reward": name, "nonzero": nz, "l1": float(np.abs(R).sum()), "I_H": ih,
                     "anchor": ANCHOR_IH.get(name, ANCHOR_IH["B=5"]), "l1_anchor": ANCHOR_L1.get(name),
                     "slack": slack})
    return mdp, layout, rows, rewards, g, secs


def learn(mdp, rewards, seeds: int, episodes: int, tie_break: str, eval_every: int = 16):
    """Mean normalised curve per reward, episodes to 90 % of V*(s0), mean over the first 1024 episodes."""
    out = {}
    for name, R in rewards.items():
        curves = []
        for seed in range(seeds):
            res = run_q_learning(mdp, episodes, R, alpha=0.5, epsilon=0.1, tie_break=tie_break, seed=seed,
                                 max_steps=50, eval_every=eval_every)
            curves.append(res["expected_return"] / res["optimal_return"])
        mean = np.mean(curves, axis=0)
        eps = res["episode"]
        e90 = episodes_to_fraction({"episode": eps, "expected_return": mean, "optimal_return": 1.0}, 0.9)
        first = eps <= 1024
        out[name] = {"curve": mean, "episodes": eps, "e90": e90, "m1024": float(mean[first].mean()),
                     "seed_e90": [episodes_to_fraction({"episode": eps, "expected_return": c, "optimal_return": 1.0})
                                  for c in curves]}
    return out


def _fmt(x):
    return "not reached" if x is None else str(x)


def ordering_holds(res) -> bool:
    """PBRS < B=5 < B=0 < orig in episodes-to-90 % (None = never = infinity)."""
    inf = float("inf")
    e = [inf if res[k]["e90"] is None else res[k]["e90"] for k in ("PBRS(V*)", "B=5", "B=0", "orig")]
    return e[0] < e[1] < e[2] < e[3]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--episodes", type=int, default=4096)
    ap.add_argument("--smoke", action="store_true", help="3 seeds x 2048 episodes")
    ap.add_argument("--report", type=str, default=None, help="directory for table.md and PNG plots")
    args = ap.parse_args(argv)
    if args.smoke:
        args.seeds, args.episodes = 3, 2048
    lines: list[str] = []
    mdp, _layout, rows, rewards, g, secs = design()
    lines.append("## EXPRD design on the 7x7 four-room grid (HiGHS LP)\n")
    lines.append(f"greedy picks: `{g.support}` (anchor `{ANCHOR_PICKS}`) - "
                 f"{'MATCH' if g.support == ANCHOR_PICKS else 'DIFFERENT'}; {g.n_lps} LPs in {secs:.2f} s "
                 f"({secs / g.n_lps * 1000:.1f} ms per LP)\n")
    lines.append("| reward | nonzero states | ‖R‖₁ (rewardkit) | ‖R‖₁ (reference ECOS) | I_H (rewardkit) | "
                 "I_H anchor | abs diff | min invariance slack |")
    lines.append("|---|---|---|---|---|---|---|---|")
    ok_ih = True
    for r in rows:
        diff = abs(r["I_H"] - r["anchor"])
        ok_ih &= diff < 1e-4
        l1a = "-" if r["l1_anchor"] is None else f"{r['l1_anchor']:.1f}"
        lines.append(f"| {r['reward']} | {r['nonzero']} | {r['l1']:.1f} | {l1a} | {r['I_H']:.5f} | "
                     f"{r['anchor']:.5f} | {diff:.1e} | {r['slack']:.1e} |")
    lines.append(f"\nI_H within 1e-4 of every anchor: **{ok_ih}**; all slacks >= -1e-5: "
                 f"**{all(r['slack'] >= -1e-5 for r in rows)}**\n")
    all_res = {}
    for tb in ("first", "random"):
        t0 = time.perf_counter()
        res = learn(mdp, rewards, args.seeds, args.episodes, tb)
        all_res[tb] = res
        lines.append(f"## Q-learning, tie_break={tb!r} ({args.seeds} seeds x {args.episodes} episodes, "
                     f"{time.perf_counter() - t0:.0f} s)\n")
        lines.append("| reward | episodes to 90% of V*(s0) (mean curve) | anchor | mean normalised return, "
                     "first 1024 ep. | anchor | per-seed episodes to 90% |")
        lines.append("|---|---|---|---|---|---|")
        for name in rewards:
            r = res[name]
            a_e90 = _fmt(ANCHOR_E90[tb][name]) if name in ANCHOR_E90[tb] else "-"
            a_m = f"{ANCHOR_M1024[tb][name]:.2f}" if name in ANCHOR_M1024[tb] else "-"
            lines.append(f"| {name} | {_fmt(r['e90'])} | {a_e90} | {r['m1024']:.2f} | "
                         f"{a_m} | {', '.join(_fmt(x) for x in r['seed_e90'])} |")
        if tb == "first":
            lines.append(f"\nordering PBRS < B=5 < B=0 < orig (episodes to 90%): **{ordering_holds(res)}**\n")
        else:
            rev = res["orig"]["m1024"] > res["B=5"]["m1024"] and (
                res["orig"]["e90"] is not None and (res["B=5"]["e90"] is None or res["orig"]["e90"] < res["B=5"]["e90"]))
            lines.append(f"\nreversal under random ties (orig learns faster than B=5): **{rev}**\n")
    text = "\n".join(lines)
    print(text)
    if args.report:
        out = Path(args.report)
        out.mkdir(parents=True, exist_ok=True)
        (out / "table.md").write_text(text + "\n", encoding="utf-8")
        _plots(out, rows, all_res)
        print(f"\nwrote {out / 'table.md'} and PNG plots", file=sys.stderr)
    return 0


def _plots(out: Path, rows, all_res) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bs = [r for r in rows if r["reward"].startswith("B=") and "min" not in r["reward"]]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(range(len(bs)), [r["I_H"] for r in bs], "o-", label="rewardkit (HiGHS)")
    ax.plot(range(len(bs)), [r["anchor"] for r in bs], "x--", label="reference (ECOS)")
    ax.set_xlabel("budget B (added states)")
    ax.set_ylabel("I_H")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "exprd_informativeness.png", dpi=120)
    plt.close(fig)
    for tb, res in all_res.items():
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, r in res.items():
            ax.plot(r["episodes"], r["curve"], label=name)
        ax.axhline(0.9, color="grey", lw=0.5, ls=":")
        ax.set_xscale("symlog", linthresh=16)
        ax.set_xlim(left=0)
        ax.set_xlabel("episode")
        ax.set_ylabel("normalised expected return (original reward)")
        ax.set_title(f"Q-learning, tie_break={tb}")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / f"exprd_qlearning_{tb}.png", dpi=120)
        plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
