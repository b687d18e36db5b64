"""E2 extension - EXPRD on a chain: sparsity budget B vs I_H vs Q-learning speed (notes §17 E2, "Extension").

A 20-position chain (``chain_with_distractor(n1=10, n2=9, distractor=0)``: start at 9, goal at the
right end paying 1 per step for *right*, *left* at position 0 ends the episode), slip 0.1,
gamma 0.95.  Greedy EXPRD for B in {0, 1, 2, 4, 8}, PBRS(V*) and the original reward; Q-learning
(alpha 0.5, eps 0.1, horizon 40) with both tie-breaking rules.  No paper number exists; the checks
are that I_H is monotone in B and PBRS(V*) reaches I_H = 0.

    python bench/design/exprd_chain.py [--seeds 5] [--episodes 1024]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import itertools

import numpy as np

from rewardkit.shaping import ExprdProblem, pbrs_reward
from rewardkit.tabular import chain_with_distractor, episodes_to_fraction, run_q_learning


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--episodes", type=int, default=1024)
    args = ap.parse_args(argv)
    mdp, _layout = chain_with_distractor(n1=10, n2=9, slip=0.1, gamma=0.95, distractor=0.0)
    prob = ExprdProblem(mdp, H=(1, 2, 4, 8, 16))
    g = prob.greedy(8)
    V, _, _ = mdp.value_iteration()
    rewards = {"orig": mdp.R}
    for b in (0, 1, 2, 4, 8):
        rewards[f"B={b}"] = g.designs[b].reward
    rewards["PBRS(V*)"] = pbrs_reward(mdp, V)
    lines = ["## EXPRD on a 20-position chain (slip 0.1, gamma 0.95, H = {1,2,4,8,16})\n",
             f"greedy picks (goal first): `{g.support}`\n",
             f"| reward | I_H | episodes to 90% argmax-first ({args.seeds} seeds, mean curve) | random ties |",
             "|---|---|---|---|"]
    ihs = []
    for name, R in rewards.items():
        ih = prob.informativeness(R)
        if name.startswith("B="):
            ihs.append(ih)
        e90 = {}
        for tb in ("first", "random"):
            cs = [run_q_learning(mdp, args.episodes, R, tie_break=tb, seed=s, max_steps=40, eval_every=16)
                  for s in range(args.seeds)]
            mean = np.mean([c["expected_return"] for c in cs], axis=0)
            e90[tb] = episodes_to_fraction({"episode": cs[0]["episode"], "expected_return": mean,
                                            "optimal_return": cs[0]["optimal_return"]})
        fmt = lambda x: "not reached" if x is None else str(x)  # noqa: E731
        lines.append(f"| {name} | {ih:.5f} | {fmt(e90['first'])} | {fmt(e90['random'])} |")
    mono = all(b >= a - 1e-9 for a, b in itertools.pairwise(ihs))
    lines += ["", f"- I_H monotone in B: **{mono}**",
              f"- I_H(PBRS(V*)) = 0: **{abs(prob.informativeness(rewards['PBRS(V*)'])) < 1e-9}**"]
    print("\n".join(lines))
    return 0 if mono else 1


if __name__ == "__main__":
    raise SystemExit(main())
