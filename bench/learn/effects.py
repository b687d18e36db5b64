"""Benchmark: the effects rewardkit.learn claims, over more seeds than the tests use.

One command (from the repo root):

    python bench/learn/effects.py            # ~1-3 min on one core

Prints markdown tables for
1. noisy labels (30 % flips): clean held-out accuracy of vanilla BT, conservative
   (label-smoothed) BT, noise-aware BT, and BT after preference-strength denoising
   (flip / soft labels from an out-of-fold ensemble; Wang et al. 2024);
2. active queries: labels needed to reach 95 % held-out accuracy, ensemble
   disagreement and BALD vs random (noiseless and Boltzmann labels);
3. pluralistic users: VPL-lite vs unconditioned BT, per user group (unseen users,
   8 context pairs each);
4. MCE IRL on random MDPs: normalised return of the greedy policy for the recovered
   reward, fraction of expert-visited states whose learned action is optimal, time.
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np


def _bt_accuracy(pairs, test, diff, **fit_kw) -> float:
    """Held-out pair accuracy of a Bradley-Terry model fitted on ``pairs`` with ``fit_kw``."""
    from rewardkit.learn import fit_bt, pair_accuracy
    return pair_accuracy(fit_bt(pairs, **fit_kw), test.a, test.b, diff)


def _mean_and_seeds(counts: list[float]) -> str:
    """``mean (per seed, ...)`` for a table cell."""
    return f"{np.mean(counts):.0f} ({', '.join(f'{x:.0f}' for x in counts)})"


def noisy_labels(seeds: list[int]) -> None:
    from rewardkit.learn import denoise_labels, linear_preference_task, preference_strength
    print("### 1. 30 % flipped labels (250 train pairs, d = 8, MLP 64, 100 full-batch epochs)\n")
    print("| seed | vanilla BT | smooth BT (eps 0.3) | noise-aware BT (eps 0.3) | denoised: flip | denoised: soft |")
    print("|---|---|---|---|---|---|")
    rows = []
    for seed in seeds:
        train, w, _ = linear_preference_task(250, dim=8, flip_rate=0.3, seed=seed)
        test, _, diff = linear_preference_task(1000, dim=8, seed=100 + seed, w=w)
        kw = dict(hidden=(64,), epochs=100, batch_size=None, lr=1e-2, seed=seed)
        acc = functools.partial(_bt_accuracy, test=test, diff=diff, **kw)
        strength, _ = preference_strength(train, seed=seed)
        row = [acc(train), acc(train, loss="smooth", epsilon=0.3), acc(train, loss="noisy", epsilon=0.3),
               acc(denoise_labels(train, strength, "flip")), acc(denoise_labels(train, strength, "soft"))]
        rows.append(row)
        print(f"| {seed} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    m = np.mean(rows, axis=0)
    print("| mean | " + " | ".join(f"**{v:.3f}**" for v in m) + " |\n")


def active(seeds: list[int]) -> None:
    from rewardkit.learn import linear_preference_task
    from rewardkit.learn.active import active_learning_curve, queries_to_reach
    print("### 2. Labels to reach 95 % held-out accuracy (pool 1000, d = 8, 5 bagged linear members, 10 per round)\n")
    print("| labeller | disagreement: mean (per seed) | BALD: mean (per seed) | random: mean (per seed) "
          "| random / disagreement |")
    print("|---|---|---|---|---|")
    for temp in (0.0, 0.1):
        need = {"disagreement": [], "bald": [], "random": []}
        for seed in seeds:
            pool, w, _ = linear_preference_task(1000, dim=8, temperature=temp, seed=seed)
            test, _, tdiff = linear_preference_task(1000, dim=8, seed=50 + seed, w=w)
            for m in need:
                n, acc = active_learning_curve(pool, lambda i, pool=pool: pool.label[i], test, tdiff, method=m, initial=10,
                                               per_round=10, rounds=30, seed=seed, l2=1.0)
                need[m].append(min(queries_to_reach(n, acc, 0.95), n[-1] + 10))
        a, r = np.mean(need["disagreement"]), np.mean(need["random"])
        cells = " | ".join(_mean_and_seeds(need[k]) for k in ("disagreement", "bald", "random"))
        print(f"| tau = {temp} | {cells} | {r / a:.2f}x |")
    print()


def pluralistic(seeds: list[int]) -> None:
    from rewardkit.learn import fit_linear_bt, pair_accuracy, fit_vpl, user_groups_task
    print("### 3. Two user groups with opposed utilities (40 train users x 24 pairs; 20 unseen users)\n")
    print("| seed | VPL-lite group 0 | VPL-lite group 1 | BT group 0 | BT group 1 | VPL train time (s) |")
    print("|---|---|---|---|---|---|")
    for seed in seeds:
        pairs, _, _, w = user_groups_task(40, 24, dim=6, seed=seed)
        t = time.perf_counter()
        model = fit_vpl(pairs, steps=300, seed=seed)
        dt = time.perf_counter() - t
        bt = fit_linear_bt(pairs)
        test, g, tdiff, _ = user_groups_task(20, 48, dim=6, seed=100 + seed, w_opposed=w[0], w_shared=w[1])
        acc = {(k, grp): [] for k in ("vpl", "bt") for grp in (0, 1)}
        for u in range(20):
            m = np.flatnonzero(test.user == u)
            held = test.subset(m[8:])
            acc[("vpl", g[u])].append(pair_accuracy(model.for_user(test.subset(m[:8])), held.a, held.b, tdiff[m[8:]]))
            acc[("bt", g[u])].append(pair_accuracy(bt, held.a, held.b, tdiff[m[8:]]))
        vals = [np.mean(acc[k]) for k in (("vpl", 0), ("vpl", 1), ("bt", 0), ("bt", 1))]
        print(f"| {seed} | " + " | ".join(f"{v:.3f}" for v in vals) + f" | {dt:.2f} |")
    print()


def irl(seeds: list[int]) -> None:
    from rewardkit.learn import mce_irl
    from rewardkit.tabular import TabularMDP
    print("### 4. MCE IRL on random MDPs (S = 16 / 64, A = 4, gamma 0.9, branching 3, one-hot state features, "
          "exact expert occupancy, Adam lr 0.3, 200 iterations)\n")
    print("| S | seed | normalised return | optimal action on visited states | time (s) |")
    print("|---|---|---|---|---|")
    for S in (16, 64):
        for seed in seeds:
            mdp = TabularMDP.random(S, 4, gamma=0.9, seed=seed, state_reward=True, branching=3)
            V, Q, pi_E = mdp.value_iteration()
            t = time.perf_counter()
            res = mce_irl(mdp, np.eye(S), mdp.occupancy(pi_E), iters=200, lr=0.3)
            dt = time.perf_counter() - t
            _, _, pi_L = mdp.value_iteration(R=res.reward)
            uni = np.full((S, 4), 0.25)
            jr, je, jl = (mdp.expected_return(p) for p in (uni, pi_E, pi_L))
            vis = mdp.state_occupancy(pi_E) > 0.05
            ok = (V - Q[np.arange(S), pi_L.argmax(1)])[vis] < 1e-8
            print(f"| {S} | {seed} | {(jl - jr) / (je - jr):.4f} | {ok.mean():.3f} | {dt:.2f} |")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    noisy_labels(args.seeds)
    active(args.seeds)
    pluralistic(args.seeds[:3])
    irl(args.seeds)


if __name__ == "__main__":
    main()
