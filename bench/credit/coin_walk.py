"""Reproduction E5: return decomposition on the RUDDER tutorial's delayed-reward walk.

1000 random-policy episodes of CoinWalk (13 positions, 50 steps, +1 per step onto
position +2, paid at the end).  Features: one-hot of the next position.  Metrics:
share of positive redistributed mass on coin steps (ideal 1.0), per-step MSE to the
true immediate reward, return-equivalence error; then tabular Q-learning (ε 0.1,
α 0.2, γ 0.99, random tie-breaking) on the lump-sum reward vs the redistributed
reward, 10 seeds: episodes until the greedy policy earns ≥ 90% of the optimal 24 coins.  A second
table replays each finished episode backwards through the same Q-learner with a per-episode
redistribution: the lump sum, uniform R/T, ReviBranch's importance weights (#15; weights = the
positive part of RUDDER's per-step prediction) and RUDDER's return-equivalent rewards.

    python bench/credit/coin_walk.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rewardkit.credit import (CoinWalk, ProgressAttribution, RRDLinear, RudderLinear, RudderLSTM, coin_mass,
                              importance_redistribution)
from rewardkit.tabular.qlearning import QLearning


def collect(n: int, seed: int = 0):
    env, rng = CoinWalk(), np.random.default_rng(seed)
    eps, rets, events = [], [], []
    for i in range(n):
        env.reset(seed=i)
        f, ev = [], []
        for _ in range(50):
            s, r, _, _, info = env.step(int(rng.integers(2)))
            f.append(np.eye(13)[s])
            ev.append(info["immediate_reward"])
        eps.append(np.array(f))
        rets.append(r)
        events.append(np.array(ev))
    return eps, rets, events


def greedy_return(agent: QLearning) -> float:
    env = CoinWalk()
    s, _ = env.reset(seed=0)
    total = 0.0
    for _ in range(50):
        s, _r, _, _trunc, info = env.step(int(np.argmax(agent.Q[s])))
        total += info["immediate_reward"]
    return total


def q_learning(step_reward, seed: int, episodes: int = 300) -> int | None:
    """Episodes until the greedy policy collects >= 0.9 * 24 coins (None if never)."""
    env = CoinWalk()
    agent = QLearning(13, 2, alpha=0.2, gamma=0.99, epsilon=0.1, tie_break="random", seed=seed)
    for ep in range(episodes):
        s, _ = env.reset(seed=seed * 1000 + ep)
        while True:
            a = agent.act(s)
            s2, r, term, trunc, _info = env.step(a)
            rr = r if step_reward is None else step_reward[s2]
            agent.update(s, a, rr, s2, term)
            s = s2
            if term or trunc:
                break
        if greedy_return(agent) >= 0.9 * 24:
            return ep + 1
    return None


def q_learning_episodic(redistribute, seed: int, episodes: int = 300) -> int | None:
    """Q-learning that replays each finished episode backwards with per-step rewards ``redistribute(states, R)``.

    Every redistribution (including the lump sum, which pays R at the last step) goes through the
    same loop, so only the reward differs.  Returns the episodes until the greedy policy collects
    >= 0.9 * 24 coins (None if never).
    """
    env = CoinWalk()
    agent = QLearning(13, 2, alpha=0.2, gamma=0.99, epsilon=0.1, tie_break="random", seed=seed)
    for ep in range(episodes):
        s, _ = env.reset(seed=seed * 1000 + ep)
        steps, R = [], 0.0
        while True:
            a = agent.act(s)
            s2, r, term, trunc, _info = env.step(a)
            steps.append((s, a, s2, term))
            R += r
            s = s2
            if term or trunc:
                break
        rewards = redistribute(np.array([x[2] for x in steps]), R)
        for (s0, a0, s1, t1), rr in zip(reversed(steps), reversed(rewards), strict=True):
            agent.update(s0, a0, float(rr), s1, t1)
        if greedy_return(agent) >= 0.9 * 24:
            return ep + 1
    return None


def redistributions(rudder: RudderLinear) -> dict:
    """The per-episode redistributions compared by the episodic Q-learning table."""
    def lump(states, R):
        out = np.zeros(len(states))
        out[-1] = R
        return out

    def uniform(states, R):
        return np.full(len(states), R / len(states))

    def revibranch(states, R):   # ReviBranch: importance = the positive part of RUDDER's per-step prediction
        return importance_redistribution(R, np.eye(13)[states] @ rudder.w, floor=1e-3)

    def rudder_equivalent(states, R):
        return rudder.redistribute(np.eye(13)[states], R)

    return {"lump sum (delayed)": lump, "uniform R/T": uniform, "ReviBranch (importance = RUDDER+)": revibranch,
            "RUDDER (return-equivalent)": rudder_equivalent}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    eps, rets, events = collect(1000)
    models = {"RUDDER (linear, aux 0.1)": RudderLinear(), "RRD (K=8, SGD)": RRDLinear(k=8, epochs=40),
              "RRD (exact)": RRDLinear(solver="exact"), "progress attribution": ProgressAttribution(),
              "RUDDER (LSTM, 16 units)": RudderLSTM(13, hidden=16, epochs=300, seed=0)}
    print("| method | fit s | coin mass | per-step MSE | max return-equivalence error |")
    print("|---|---|---|---|---|")
    tables = {}
    for name, m in models.items():
        t0 = time.time()
        m.fit(eps, rets)
        fit = time.time() - t0
        red = [m.redistribute(e, R) if hasattr(m, "redistribute") else m.step_rewards(e, outcome=R)
               for e, R in zip(eps[:300], rets, strict=False)]
        mass = np.mean([coin_mass(x, v > 0) for x, v, R in zip(red, events, rets, strict=False) if R > 0])
        mse = np.mean([np.mean((x - v) ** 2) for x, v in zip(red, events, strict=False)])
        eq = max(abs(x.sum() - R) for x, R in zip(red, rets, strict=False))
        print(f"| {name} | {fit:.2f} | {mass:.3f} | {mse:.4f} | {eq:.1e} |")
        # per-position reward table for Q-learning: the model's prediction for each next position
        onehots = np.eye(13)
        if isinstance(m, RudderLSTM):
            continue   # history-dependent: no per-position table
        if isinstance(m, RudderLinear):
            tables[name] = onehots @ m.w
        elif isinstance(m, RRDLinear):
            tables[name] = m.predict(onehots)
        else:
            tables[name] = m.contributions(onehots)
    print("\n| reward | median episodes to 90% of optimal | solved seeds |")
    print("|---|---|---|")
    for name, table in [("lump sum (delayed)", None)] + [(k, tables[k]) for k in ("RUDDER (linear, aux 0.1)",
                                                                                   "RRD (exact)")]:
        res = [q_learning(table, s) for s in range(args.seeds)]
        solved = [r for r in res if r is not None]
        med = np.median([r if r is not None else 10**9 for r in res])
        print(f"| {name} | {int(med) if med < 10**9 else 'not reached'} | {len(solved)}/{args.seeds} |")
    print("\nEpisodic replay (each finished episode replayed backwards with its redistributed rewards):\n")
    print("| per-episode redistribution | median episodes to 90% of optimal | solved seeds |")
    print("|---|---|---|")
    for name, fn in redistributions(models["RUDDER (linear, aux 0.1)"]).items():
        res = [q_learning_episodic(fn, s) for s in range(args.seeds)]
        med = np.median([r if r is not None else 10**9 for r in res])
        print(f"| {name} | {int(med) if med < 10**9 else 'not reached'} | {sum(r is not None for r in res)}/{args.seeds} |")


if __name__ == "__main__":
    main()
