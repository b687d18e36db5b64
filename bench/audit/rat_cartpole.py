"""RAT (#23): a targeted-behaviour attack vs a reward-minimising attack on a CartPole victim.

Victim: the linear CartPole balancer a = 1[theta + theta_dot > 0] (survives all 500 steps).  Target
behaviour: keep balancing while drifting right.  A scripted teacher labels 300 pairs of 30-step
segments (from random linear controllers), preferring the segment whose cart ends further right while
the pole stays up; a linear Bradley-Terry reward is fitted on [x, x_dot, |theta|, 1] and the intention
policy maximises it (cross-entropy method).  The attacker perturbs the victim's observations within an
l_inf ball of epsilon: targeted (toward the intention policy's action) or reward-minimising (toward
the action the victim would not take).  Metric over 20 episodes: the share of steps with the cart
right of x = 0.5 and the pole up (the target behaviour), and the episode length.

    python bench/audit/rat_cartpole.py [--episodes 20]
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

from rewardkit.audit.rat import (LinearVictim, fit_intention_policy, fit_preference_reward,
                                 reward_minimising_perturbation, rollout, targeted_perturbation)

VICTIM = LinearVictim(np.array([0.0, 0.0, 1.0, 1.0]))


def env_factory() -> gym.Env:
    return gym.make("CartPole-v1")


def features(obs: np.ndarray) -> np.ndarray:
    o = np.atleast_2d(obs)
    return np.column_stack([o[:, 0], o[:, 1], np.abs(o[:, 2]), np.ones(len(o))])


def teacher_pairs(n: int, seed: int) -> tuple[list, list, list]:
    rng = np.random.default_rng(seed)
    segs = []
    for i in range(2 * n):
        pol = LinearVictim(np.array([0.0, 0.0, 1.0, 1.0]) + rng.normal(scale=0.6, size=4), float(rng.normal(scale=0.1)))
        segs.append(rollout(env_factory, pol.act, seed=seed * 10_000 + i, max_steps=30))

    def score(s: np.ndarray) -> float:     # the teacher: further right, pole up
        return float(s[-1, 0]) - 5.0 * float(np.abs(s[:, 2]).max() > 0.2)
    a, b = segs[:n], segs[n:]
    return a, b, [float(score(x) > score(y)) for x, y in zip(a, b, strict=True)]


def target_share(traj: np.ndarray) -> float:
    return float(np.mean((traj[:, 0] > 0.5) & (np.abs(traj[:, 2]) < 0.2)))


def run(epsilon: float = 0.05, episodes: int = 20, seed: int = 0) -> dict[str, tuple[float, float]]:
    a, b, y = teacher_pairs(300, seed)
    theta = fit_preference_reward(a, b, y, features)
    intention = fit_intention_policy(env_factory, lambda o: float(features(o)[0] @ theta), dim=4, iterations=20,
                                     population=32, elite=8, seed=seed)
    attacks = {
        "no attack": None,
        "reward-minimising": lambda o: reward_minimising_perturbation(VICTIM, o, epsilon),
        "targeted (RAT)": lambda o: targeted_perturbation(VICTIM, o, intention.act(o), epsilon),
    }
    out = {}
    for name, perturb in attacks.items():
        trajs = [rollout(env_factory, VICTIM.act, seed=500 + e, perturb=perturb) for e in range(episodes)]
        out[name] = (float(np.mean([target_share(t) for t in trajs])), float(np.mean([len(t) - 1 for t in trajs])))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--epsilon", type=float, default=0.05)
    args = ap.parse_args()
    print(f"| attack (l_inf <= {args.epsilon:g}) | share of steps in the target behaviour | mean episode length |")
    print("|---|---|---|")
    for name, (share, length) in run(args.epsilon, args.episodes).items():
        print(f"| {name} | {share:.3f} | {length:.1f} |")


if __name__ == "__main__":
    main()
