"""QARL (#124): robust adversarial RL with a quantal-response adversary and a rationality curriculum, tabular.

Cliff walking (3 x 6) where an adversary may push the agent one row down after its move (success 0.5).
Tabular Q-learning on the joint action for 3,000 episodes: the nominal protagonist (no adversary),
QARL (adversary temperature annealed linearly from 2 to 0 over 80 % of training) and RARL (a fully
rational adversary from the start).  Each protagonist's greedy policy is evaluated exactly against the
best-responding adversary and without perturbation.

    python bench/audit/qarl_cliff.py [--seeds 5] [--episodes 3000]
"""

from __future__ import annotations

import argparse

import numpy as np

from rewardkit.audit.qarl import cliff_game, greedy_protagonist, qarl_q_learning, worst_case_return
from rewardkit.core.schedules import constant, linear


def run(seed: int, episodes: int = 3000) -> dict[str, tuple[float, float]]:
    """protagonist -> (return against the worst-case adversary, return without perturbation)."""
    g = cliff_game(width=6, push=0.5)
    trained = {
        "nominal (no adversary)": (qarl_q_learning(g, episodes, constant(1.0), adversary=False, seed=seed), False),
        "QARL (tau 2 -> 0)": (qarl_q_learning(g, episodes, linear(2.0, 0.0, int(0.8 * episodes)), seed=seed), True),
        "RARL (tau = 0 throughout)": (qarl_q_learning(g, episodes, constant(0.0), seed=seed), True),
    }
    out = {}
    for name, (Q, adv) in trained.items():
        pi = greedy_protagonist(Q, adversary=adv)
        out[name] = (worst_case_return(g, pi), worst_case_return(g, pi, adversarial=False))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--episodes", type=int, default=3000)
    args = ap.parse_args()
    runs = [run(s, args.episodes) for s in range(args.seeds)]
    print("| protagonist | return under attack (mean, min over seeds) | return without attack (mean) |")
    print("|---|---|---|")
    for name in runs[0]:
        att = [r[name][0] for r in runs]
        clean = [r[name][1] for r in runs]
        print(f"| {name} | {np.mean(att):.3f} ({min(att):.3f}) | {np.mean(clean):.3f} |")


if __name__ == "__main__":
    main()
