"""OPRL (#144): an implicit PRM trained by trajectory-level DPO on outcome preferences, in a tabular chain.

A deterministic corridor of 6 cells (actions left / right / stay, start at cell 0, 8 steps); the
outcome is 1 when the goal (cell 5) is reached.  2,000 uniformly random trajectories give
(success, failure) preference pairs.  The implicit PRM's logits are fitted by trajectory-level DPO
(beta 0.5); its step reward is beta log(pi_theta / pi_ref).  Checks: the summed step rewards rank
held-out (success, failure) pairs, and the greedy policy of the step rewards (value iteration)
reaches the goal as fast as the outcome-optimal policy.

    python bench/credit/oprl_tabular.py [--seeds 5]
"""

from __future__ import annotations

import argparse

import numpy as np

from rewardkit.credit import fit_trajectory_dpo, implicit_step_rewards
from rewardkit.tabular import TabularMDP

N, H, A = 6, 8, 3


def step(s: int, a: int) -> int:
    return s if s == N - 1 else int(np.clip(s + (1 if a == 1 else -1 if a == 0 else 0), 0, N - 1))


def sample(rng: np.random.Generator, n: int) -> tuple[list[list[tuple[int, int]]], np.ndarray]:
    trajs, outcome = [], []
    for _ in range(n):
        s, tr = 0, []
        for _ in range(H):
            if s == N - 1:
                break
            a = int(rng.integers(A))
            tr.append((s, a))
            s = step(s, a)
        trajs.append(tr)
        outcome.append(s == N - 1)
    return trajs, np.asarray(outcome)


def pairs(trajs: list, outcome: np.ndarray, rng: np.random.Generator) -> tuple[list, list]:
    win = [t for t, o in zip(trajs, outcome, strict=True) if o]
    lose = [t for t, o in zip(trajs, outcome, strict=True) if not o]
    k = min(len(win), len(lose))
    idx = rng.permutation(len(lose))[:k]
    return win[:k], [lose[i] for i in idx]


def greedy_steps_to_goal(R: np.ndarray) -> int | None:
    T = np.zeros((N, A, N))
    for s in range(N):
        for a in range(A):
            T[s, a, step(s, a)] = 1.0
    terminal = np.zeros(N, dtype=bool)
    terminal[-1] = True
    mdp = TabularMDP(T, R, 0.99, np.eye(N)[0], terminal=terminal)
    _, Q, _ = mdp.value_iteration()
    s = 0
    for t in range(H):
        s = step(s, int(np.argmax(Q[s])))
        if s == N - 1:
            return t + 1
    return None


def run(seed: int, beta: float = 0.5) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    trajs, outcome = sample(rng, 2000)
    w, lo = pairs(trajs, outcome, rng)
    cut = int(0.8 * len(w))
    theta = fit_trajectory_dpo(w[:cut], lo[:cut], N, A, beta=beta, lr=1.0, iters=400)
    R = implicit_step_rewards(theta, beta)
    score = lambda tr: sum(R[s, a] for s, a in tr)   # noqa: E731
    acc = float(np.mean([score(a) > score(b) for a, b in zip(w[cut:], lo[cut:], strict=True)]))
    return {"pairs": len(w), "heldout_accuracy": acc, "greedy_steps": greedy_steps_to_goal(R) or float("nan"),
            "optimal_steps": N - 1}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    print("| seed | preference pairs | held-out pair accuracy of summed step rewards "
          "| greedy steps to goal | optimal |")
    print("|---|---|---|---|---|")
    for seed in range(args.seeds):
        r = run(seed)
        print(f"| {seed} | {r['pairs']} | {r['heldout_accuracy']:.3f} | {r['greedy_steps']} | {r['optimal_steps']} |")


if __name__ == "__main__":
    main()
