"""Policy Cliff (#8): argmax vs soft-optimal policy change under an epsilon reward perturbation.

On random tabular MDPs with a tied optimal action planted in every state (two copies of the best
action), the argmax policy jumps by a whole action (TV 1) for any epsilon, while the soft-optimal
policy moves by O(epsilon / tau) and stays under the bound 0.5 (exp(2 eps / ((1 - gamma) tau)) - 1).

    python bench/audit/policy_cliff.py [--mdps 10]
"""

from __future__ import annotations

import argparse

import numpy as np

from rewardkit.audit.cliff import policy_cliff
from rewardkit.tabular import TabularMDP


def tied_mdp(seed: int, S: int = 8, A: int = 3, gamma: float = 0.9) -> TabularMDP:
    """A random MDP whose last action duplicates the first, made the best one: a tie in every state."""
    base = TabularMDP.random(S, A - 1, gamma=gamma, seed=seed)
    _, Q, _ = base.value_iteration()
    R = base.R.copy()
    R[:, 0] += Q.max(axis=1) - Q[:, 0] + 0.1     # action 0 becomes the unique best of the base actions
    T = np.concatenate([base.T, base.T[:, :1]], axis=1)
    R = np.concatenate([R, R[:, :1]], axis=1)
    return TabularMDP(T, R, gamma, base.mu0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mdps", type=int, default=10)
    args = ap.parse_args()
    print("| epsilon | tau | states with ties | argmax TV (max) | soft TV (max) | bound |")
    print("|---|---|---|---|---|---|")
    for eps in (1e-6, 1e-4, 1e-2):
        for tau in (0.05, 0.5):
            reps = [policy_cliff(tied_mdp(s), epsilon=eps, temperature=tau, seed=s) for s in range(args.mdps)]
            print(f"| {eps:g} | {tau:g} | {np.mean([r.degenerate_fraction for r in reps]):.2f} | "
                  f"{max(r.argmax_tv for r in reps):.2f} | {max(r.soft_tv for r in reps):.3g} | {reps[0].soft_bound:.3g} |")


if __name__ == "__main__":
    main()
