"""Per-step cost of rewardkit's Gymnasium RewardWrapper on the hot path (one env, three terms).

Runs the raw env and the wrapped env interleaved (A B A B ...) on the same action sequence and
prints steps/s for each, the wrapper's added microseconds per step, and the machine load.
To compare two checkouts, run this script with ``PYTHONPATH=<checkout>/src`` for each.

    python bench/core/wrapper_overhead.py [--steps 3000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium as gym

from rewardkit.core import build_reward
from rewardkit.integrations.gymnasium import RewardWrapper

REWARD = {"terms": [{"type": "env_reward", "name": "task"}, {"type": "alive", "weight": 0.1},
                    {"type": "constant", "params": {"value": 0.5}, "scale": 2.0}]}


def _run(env: gym.Env, steps: int) -> float:
    env.reset(seed=0)
    t0 = time.perf_counter()
    for i in range(steps):
        _, _, terminated, truncated, _ = env.step(i % 2)
        if terminated or truncated:
            env.reset()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    raw, wrapped = gym.make("CartPole-v1"), RewardWrapper(gym.make("CartPole-v1"), build_reward(REWARD))
    t_raw, t_wrapped = [], []
    for _ in range(args.repeats):  # interleaved, best of repeats
        t_raw.append(_run(raw, args.steps))
        t_wrapped.append(_run(wrapped, args.steps))
    r, w = min(t_raw), min(t_wrapped)
    print(f"load average {os.getloadavg()[0]:.2f}")
    print("| env | steps/s |")
    print("|---|---|")
    print(f"| CartPole-v1 | {args.steps / r:,.0f} |")
    print(f"| RewardWrapper(CartPole-v1), 3 terms | {args.steps / w:,.0f} |")
    print(f"added per step: {(w - r) / args.steps * 1e6:.1f} us")


if __name__ == "__main__":
    main()
