"""(5) BARFI on a tiny grid: misleading vs helpful heuristics (Gupta et al., NeurIPS 2023).

"Behavior Alignment via Reward Function Optimization" claims (i) plain potential-based
shaping or naive addition of a misspecified heuristic can make learning *worse* than the
primary reward alone while BARFI recovers at least the primary reward's performance, and
(ii) with a helpful heuristic BARFI learns faster than the primary reward alone.

Setup (``rewardkit.tabular.barfi_gridworld``): a 5x5 grid, start (0,0), goal (4,4)
(+1, terminates), slip 0.1, gamma 0.99, time limit 30 steps, run as a Gymnasium
``TabularEnv``.  Heuristics (scale 0.5): ``good`` = expected progress towards the goal,
``bad`` = progress towards the decoy corner (4,0).  Learner: tabular softmax REINFORCE
(batch-mean baseline, entropy 0.01, lr 0.5, 8 episodes per update), pinned and identical
for every variant; the same seed for every variant (common random numbers).
Variants: ``primary`` (r_p), ``naive`` (r_p + r_aux), ``pbrs`` (r_p + γΦ(s') − Φ(s),
Φ = −0.5·distance to the heuristic's target, Φ = 0 after termination), ``barfi``
(learned r_φ and γ_φ; implicit gradient with a 5-term Neumann series; φ2 starts at 0).
Metric: the *exact* 30-step discounted primary return of the learner's current policy.

A second table runs the exact tabular variant (``TabularBARFI``): inner problem solved by
soft value iteration (τ = 0.005), implicit gradient with the exact Hessian.

Usage:
    python bench/design/barfi_grid.py --smoke    # 3 seeds, 100 updates
    python bench/design/barfi_grid.py            # 10 seeds, 150 updates (1200 episodes)

Writes the markdown table to stdout and (with PNG curves) to bench/design/results/barfi/.
The paper's code is a research repository (not on PyPI); there is no speed ratio here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rewardkit.shaping.barfi import (BARFI, AlignedBlend, BarfiReward, NaiveSum, PotentialShaped, PrimaryReward,
                                     TabularBARFI, finite_horizon_return)
from rewardkit.tabular import BarfiWorld, TabularEnv, barfi_gridworld

OUT = Path(__file__).resolve().parent / "results" / "barfi"
#: row label -> (BARFI variant, extra kwargs); "barfi-w" learns only the heuristic weight φ2 and γ_φ (ablation)
VARIANTS = {"primary": (PrimaryReward(), {}), "naive": (NaiveSum(), {}), "pbrs": (PotentialShaped(), {}),
            "barfi": (AlignedBlend(), {}), "barfi-w": (AlignedBlend(), {"learn_bias": False})}
LEARNER = dict(policy_lr=0.5, entropy_coef=0.01, episodes_per_update=8, reward_lr=0.05, gamma_lr=0.05,
               neumann_steps=5, neumann_alpha=0.1, aux_weight_init=0.0)


def barfi_learning_curve(world: BarfiWorld, kind: str, variant: str | BarfiReward, *, seed: int, n_updates: int,
                         horizon: int = 30, eval_every: int = 5, **kwargs: Any) -> dict[str, np.ndarray]:
    """Train one learner on ``world`` (a :class:`~rewardkit.tabular.TabularEnv` with time limit
    ``horizon``) and record the *exact* finite-horizon primary return of its policy.

    ``kind`` picks the heuristic (``"good"``/``"bad"``), ``variant`` the reward (a
    :class:`~rewardkit.shaping.barfi.BarfiReward` or its name ``primary, naive, pbrs, barfi``);
    other keyword arguments go to :class:`~rewardkit.shaping.barfi.BARFI`.
    The same ``seed`` across variants gives common random numbers.

    Example:
        >>> from rewardkit.tabular import barfi_gridworld
        >>> w = barfi_gridworld(size=3)
        >>> c = barfi_learning_curve(w, "good", "primary", seed=0, n_updates=4, horizon=10, eval_every=2,
        ...                          episodes_per_update=2)
        >>> c["episodes"].tolist(), c["primary_return"].shape
        ([0, 4, 8], (3,))
    """
    env = TabularEnv(world.mdp, max_steps=horizon)
    agent = BARFI(env, world.aux_fn(kind), variant=variant, potential=world.potential_fn(kind), seed=seed,
                  gamma=world.mdp.gamma, **kwargs)
    eps, vals, aux_w, gam = [0], [finite_horizon_return(world.mdp, agent.policy_table(), horizon)], [], []

    def cb(a: BARFI, i: int) -> None:
        if (i + 1) % eval_every == 0:
            eps.append(a.episodes_seen)
            vals.append(finite_horizon_return(world.mdp, a.policy_table(), horizon))
            aux_w.append(float(a.aux_weights()[: world.size ** 2].mean()))
            gam.append(a.gamma_value())

    agent.fit(n_updates, cb)
    return {"episodes": np.asarray(eps), "primary_return": np.asarray(vals), "mean_aux_weight": np.asarray(aux_w),
            "gamma_phi": np.asarray(gam)}


def fmt(x: np.ndarray) -> str:
    se = x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else 0.0
    return f"{x.mean():.3f}±{se:.3f}"


def first_reach(episodes: np.ndarray, curve: np.ndarray, thr: float) -> float:
    hit = np.flatnonzero(curve >= thr)
    return float(episodes[hit[0]]) if hit.size else float("inf")


def exact_table(world, steps: int) -> list[str]:
    lines = ["| heuristic | primary (soft-opt) | naive | pbrs | BARFI-exact step 1 | "
             f"BARFI-exact step {steps} | optimal | hypergradient vs finite differences (max abs err) |",
             "|---|---|---|---|---|---|---|---|"]
    opt = world.mdp.expected_return(world.mdp.value_iteration()[2])
    for kind in ("bad", "good"):
        tau = 0.005
        prim = TabularBARFI(world.mdp, world.R_aux[kind], tau=tau).primary_return()
        naive = TabularBARFI(world.mdp, world.R_aux[kind], tau=tau, aux_weight_init=1.0).primary_return()
        # PBRS as the aux "reward" with weight 1: E[γΦ(s')] − Φ(s)
        pot = world.potential[kind]
        F = world.mdp.gamma * np.einsum("sat,t->sa", world.mdp.transitions, pot) - pot[:, None]
        pbrs = TabularBARFI(world.mdp, F, tau=tau, aux_weight_init=1.0).primary_return()
        tb = TabularBARFI(world.mdp, world.R_aux[kind], tau=tau, aux_weight_init=0.0, lr=5.0)
        js = tb.fit(steps)
        # finite-difference check at a random point
        chk = TabularBARFI(world.mdp, world.R_aux[kind], tau=tau, aux_weight_init=0.5)
        hg = chk.hypergradient()
        pb, pa = chk.phi_bias.detach().numpy().copy(), chk.phi_aux.detach().numpy().copy()
        errs = []
        for s in range(0, world.size ** 2, 3):
            e = np.zeros_like(pa)
            e[s] = 1e-5
            fd_a = (chk.primary_objective_at(pb, pa + e) - chk.primary_objective_at(pb, pa - e)) / 2e-5
            fd_b = (chk.primary_objective_at(pb + e, pa) - chk.primary_objective_at(pb - e, pa)) / 2e-5
            errs += [abs(fd_a - float(hg["phi_aux"][s])), abs(fd_b - float(hg["phi_bias"][s]))]
        lines.append(f"| {kind} | {prim:.4f} | {naive:.4f} | {pbrs:.4f} | {js[0]:.4f} | {js[-1]:.4f} | {opt:.4f} | "
                     f"{max(errs):.1e} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--updates", type=int, default=None)
    ap.add_argument("--reward-lr", type=float, default=None, help="override BARFI's outer step size (default 0.05)")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.reward_lr is not None:
        LEARNER["reward_lr"] = args.reward_lr
    seeds = list(range(args.seeds or (3 if args.smoke else 10)))
    n_updates = args.updates or (100 if args.smoke else 150)
    horizon, eval_every = 30, 5
    world = barfi_gridworld(size=5, slip=0.1, gamma=0.99, aux_scale=0.5)
    t0 = time.time()
    curves: dict[tuple[str, str], np.ndarray] = {}
    learned: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    secs: dict[tuple[str, str], float] = {}
    episodes = None
    for kind in ("bad", "good"):
        for v, (variant, extra) in VARIANTS.items():
            ys, aux_w, gam = [], [], []
            t1 = time.time()
            for s in seeds:
                c = barfi_learning_curve(world, kind, variant, seed=s, n_updates=n_updates, horizon=horizon,
                                         eval_every=eval_every, **{**LEARNER, **extra})
                ys.append(c["primary_return"])
                aux_w.append(c["mean_aux_weight"][-1])
                gam.append(c["gamma_phi"][-1])
                episodes = c["episodes"]
            if variant.learned:
                learned[f"{kind} ({v})"] = (np.array(aux_w), np.array(gam))
            curves[(kind, v)] = np.array(ys)
            secs[(kind, v)] = (time.time() - t1) / len(seeds)
            print(f"  {kind:4s} {v:8s} final {np.mean([y[-1] for y in ys]):.3f} ({secs[(kind, v)]:.1f}s/run)",
                  file=sys.stderr, flush=True)
    assert episodes is not None
    cmd = "python bench/design/barfi_grid.py " + " ".join(argv if argv is not None else sys.argv[1:])
    ck_idx = [i for i, e in enumerate(episodes) if e in (80, 160, 320, 480, 800, episodes[-1])]
    lines = [f"### BARFI grid 5x5 (H=30), softmax REINFORCE, {len(seeds)} seeds x {n_updates} updates "
             f"x 8 episodes\n", f"Command: `{cmd.strip()}`\n",
             "Exact 30-step discounted primary return of the learner's policy, mean±SE over seeds "
             f"(optimal policy: {optimal_return(world, horizon):.3f}).\n",
             "| heuristic | variant | " + " | ".join(f"@{episodes[i]} ep" for i in ck_idx) +
             " | mean over training (AUC) | episodes to 0.7 (mean; inf=never) | s/run |",
             "|---|---|" + "---|" * (len(ck_idx) + 3)]
    for (kind, v), Y in curves.items():
        reach = np.array([first_reach(episodes, y, 0.7) for y in Y])
        lines.append(f"| {kind} | {v} | " + " | ".join(fmt(Y[:, i]) for i in ck_idx) +
                     f" | {fmt(Y.mean(1))} | {np.mean(reach):.0f} | {secs[(kind, v)]:.1f} |")
    fin = {k: Y[:, -1] for k, Y in curves.items()}
    auc = {k: Y.mean(1) for k, Y in curves.items()}
    checks = [
        ("bad: naive final < primary final", fin[("bad", "naive")].mean() < fin[("bad", "primary")].mean()),
        ("bad: pbrs final < primary final", fin[("bad", "pbrs")].mean() < fin[("bad", "primary")].mean()),
        ("bad: BARFI final >= primary final", fin[("bad", "barfi")].mean() >= fin[("bad", "primary")].mean()),
        ("good: BARFI AUC > primary AUC", auc[("good", "barfi")].mean() > auc[("good", "primary")].mean()),
        ("good: BARFI final >= primary final", fin[("good", "barfi")].mean() >= fin[("good", "primary")].mean()),
    ]
    n_seeds_bad = int(np.sum(fin[("bad", "barfi")] >= fin[("bad", "primary")] - 1e-9))
    n_seeds_good = int(np.sum(auc[("good", "barfi")] > auc[("good", "primary")]))
    lines.append("")
    lines.append("Claims (the brief asks for 'plain PBRS *or* naive addition' to be worse):")
    for name, ok in checks:
        lines.append(f"- {name}: {'YES' if ok else 'NO'}")
    lines.append(f"- per seed: bad BARFI final >= primary final in {n_seeds_bad}/{len(seeds)}; "
                 f"good BARFI AUC > primary AUC in {n_seeds_good}/{len(seeds)}")
    for kind, (aw, gm) in learned.items():
        lines.append(f"- learned with the {kind} heuristic (end of training, mean±SE over seeds): "
                     f"mean aux weight φ2 over grid cells {fmt(aw)} (init 0), γ_φ {fmt(gm)} (init 0.99)")
    lines.append("\n#### Exact tabular BARFI (soft-optimal inner learner, τ=0.005; infinite-horizon J_p)\n")
    lines += exact_table(world, 5)
    lines.append(f"\nTotal wall time {time.time() - t0:.0f} s.")
    table = "\n".join(lines)
    print(table)
    OUT.mkdir(parents=True, exist_ok=True)
    tag = ("smoke" if args.smoke else "report") + ("" if args.reward_lr is None else f"_rlr{args.reward_lr}")
    (OUT / f"barfi_grid_{tag}.md").write_text(table + "\n")
    if not args.no_plots:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
        for ax, kind in zip(axes, ("bad", "good"), strict=False):
            for v in VARIANTS:
                Y = curves[(kind, v)]
                m = Y.mean(0)
                se = Y.std(0, ddof=1) / np.sqrt(len(Y)) if len(Y) > 1 else 0 * m
                ax.plot(episodes, m, label=v)
                ax.fill_between(episodes, m - se, m + se, alpha=0.2)
            ax.set_title(f"{kind} heuristic ({len(seeds)} seeds)")
            ax.set_xlabel("episodes")
        axes[0].set_ylabel("exact primary return (H=30)")
        axes[1].legend()
        fig.tight_layout()
        fig.savefig(OUT / f"barfi_grid_{tag}.png", dpi=100)
        plt.close(fig)
    print(f"\n(written to {OUT})", file=sys.stderr)
    return 0


def optimal_return(world, horizon: int) -> float:
    from rewardkit.shaping.barfi import finite_horizon_return
    _, _, pi = world.mdp.value_iteration()
    return finite_horizon_return(world.mdp, pi, horizon)


if __name__ == "__main__":
    raise SystemExit(main())
