"""Dichotomy of Control (#192): return-conditioned imitation vs DoC where high returns come from luck.

Two steps.  Step 1: action 0 pays 0.4; action 1 is a gamble paying 2 with probability 0.25, else 0
(expected 0.5).  Step 2: action 1 pays 0.3, action 0 pays 0.  4,000 offline trajectories from a
uniformly random policy.  For each target return: what the method promises (DoC: V(z) of its chosen
action sequence; DT: the target itself) and what it achieves (mean over 4,000 evaluation episodes).

    python bench/credit/doc_stochastic.py
"""

from __future__ import annotations

import argparse

import numpy as np

from rewardkit.credit.control import doc_plan, dt_policy_rollout, dt_table


def env_step(s: int, a: int, rng: np.random.Generator) -> tuple[int, float, bool]:
    if s == 0:
        r = 0.4 if a == 0 else (2.0 if rng.random() < 0.25 else 0.0)
        return 1, r, False
    return 2, 0.3 if a == 1 else 0.0, True


def offline_data(n: int, seed: int) -> list[list[tuple[int, int, float]]]:
    rng = np.random.default_rng(seed)
    data = []
    for _ in range(n):
        s, tr = 0, []
        for _ in range(2):
            a = int(rng.integers(2))
            s2, r, done = env_step(s, a, rng)
            tr.append((s, a, r))
            s = s2
            if done:
                break
        data.append(tr)
    return data


def play(z: tuple[int, ...], rng: np.random.Generator) -> float:
    s, total = 0, 0.0
    for a in z:
        s, r, _ = env_step(s, a, rng)
        total += r
    return total


def compare(target: float, seed: int = 0, n_data: int = 4000, n_eval: int = 4000) -> dict[str, float]:
    data = offline_data(n_data, seed)
    rng = np.random.default_rng(seed + 1)
    z, v = doc_plan(data, target)
    doc = float(np.mean([play(z, rng) for _ in range(n_eval)]))
    table = dt_table(data)
    dt = float(np.mean([dt_policy_rollout(table, target, env_step, 0, rng, 2) for _ in range(n_eval)]))
    return {"target": target, "doc_promised": v, "doc_achieved": doc, "dt_achieved": dt}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print("| target return | DoC: V(z) promised | DoC achieved | DT achieved (promised = target) |")
    print("|---|---|---|---|")
    for target in (2.3, 0.8, 0.7, 0.4):
        r = compare(target, args.seed)
        print(f"| {target:g} | {r['doc_promised']:.3f} | {r['doc_achieved']:.3f} | {r['dt_achieved']:.3f} |")


if __name__ == "__main__":
    main()
