"""ReST-MCTS* (#155): Monte-Carlo step values on an arithmetic toy with known answers.

Each problem is a chain of 5 operations (+, -, *) on a start value; a solution writes one
intermediate result per step.  The rollout policy completes a prefix step by step and slips (off by
+-1) with probability 0.15 per step.  For every prefix length k we compare the MC value (32 rollouts)
of the correct prefix with that of a corrupted prefix (its last step off by a random +-1..3).

    python bench/credit/rest_mcts_steps.py [--problems 30]
"""

from __future__ import annotations

import argparse
import operator
from collections.abc import Sequence

import numpy as np

from rewardkit.credit import mc_step_values

_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def make_problem(rng: np.random.Generator, length: int = 5) -> tuple[int, list[tuple[str, int]]]:
    ops = [(str(rng.choice(list(_OPS))), int(rng.integers(1, 6))) for _ in range(length)]
    return int(rng.integers(1, 10)), ops


def solve(start: int, ops: Sequence[tuple[str, int]]) -> list[int]:
    out, x = [], start
    for op, v in ops:
        x = _OPS[op](x, v)
        out.append(x)
    return out


def rollout_policy(start: int, ops: Sequence[tuple[str, int]], slip: float = 0.15):
    """A policy that continues a prefix of intermediate results, slipping by +-1 with probability ``slip``."""
    def rollout(prefix: Sequence[int], rng: np.random.Generator) -> list[int]:
        x = list(prefix)
        cur = x[-1] if x else start
        while len(x) < len(ops):
            op, v = ops[len(x)]
            cur = _OPS[op](cur, v) + (int(rng.choice([-1, 1])) if rng.random() < slip else 0)
            x.append(cur)
        return x
    return rollout


def prefix_values(seed: int, n_rollouts: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(values of the correct prefixes k=1..5, values of corrupted prefixes k=1..5) for one problem."""
    rng = np.random.default_rng(seed)
    start, ops = make_problem(rng)
    gold = solve(start, ops)
    rollout = rollout_policy(start, ops)
    correct = mc_step_values(gold, rollout, lambda x: x[-1] == gold[-1], n_rollouts, seed)[1:]
    corrupted = []
    for k in range(1, len(gold) + 1):
        bad = gold[:k]
        bad[-1] += int(rng.choice([-3, -2, -1, 1, 2, 3]))
        corrupted.append(mc_step_values(bad, rollout, lambda x: x[-1] == gold[-1], n_rollouts, seed)[-1])
    return correct, np.asarray(corrupted)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", type=int, default=30)
    args = ap.parse_args()
    runs = [prefix_values(s) for s in range(args.problems)]
    good = np.array([r[0] for r in runs])
    bad = np.array([r[1] for r in runs])
    print("| prefix length k | mean value, correct prefix | mean value, corrupted prefix "
          "| problems where correct > corrupted |")
    print("|---|---|---|---|")
    for k in range(good.shape[1]):
        wins = int(np.sum(good[:, k] > bad[:, k]))
        print(f"| {k + 1} | {good[:, k].mean():.3f} | {bad[:, k].mean():.3f} | {wins}/{args.problems} |")


if __name__ == "__main__":
    main()
