"""E4 - potential-based shaping: invariance, terminal vs truncation handling, wrapper-order accounting.

Ng, Harada & Russell (1999); imitation PR #323 (terminal potential); notes §5, §17 E4.

1. Four-room grid: PBRS with Phi = V*, Phi = -(grid distance to the goal) and a random Phi:
   exact optimal-policy equality (value iteration), I_H, and Q-learning episodes to 90 %.
2. Property sweep on random MDPs with absorbing states: the shaped reward computed *through
   the PotentialShaping term* keeps the optimal action sets (count), and the negative control
   (non-zero terminal potential, ``zero_terminal=False``) changes them (count).
3. Gymnasium accounting: the original return reported in ``info["rk/env_return"]`` is the same
   whether SB3's Monitor is inside or outside the reward wrapper, and whatever the order of two
   stacked reward wrappers (uses ``rewardkit.integrations.gymnasium.RewardWrapper``).

    python bench/design/pbrs_invariance.py [--smoke] [--report DIR]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys
from pathlib import Path

import numpy as np

from rewardkit.core import ComposedReward, TransitionBatch
from rewardkit.core.builtin import EnvReward
from rewardkit.shaping import PotentialShaping, informativeness_h
from rewardkit.tabular import TabularEnv, TabularMDP, episodes_to_fraction, four_rooms, run_q_learning


def grid_distance_potential(mdp: TabularMDP, goal: int) -> np.ndarray:
    """-(shortest-path length to the goal) over the deterministic move graph (walls respected)."""
    S = mdp.n_states
    adj = [set(np.flatnonzero(mdp.T[s].max(axis=0) >= 0.5)) - {s} for s in range(S)]
    dist = np.full(S, np.inf)
    dist[goal] = 0
    frontier = [goal]
    while frontier:
        nxt = []
        for u in frontier:
            for v in range(S):
                if u in adj[v] and dist[v] == np.inf:
                    dist[v] = dist[u] + 1
                    nxt.append(v)
        frontier = nxt
    dist[~np.isfinite(dist)] = dist[np.isfinite(dist)].max() + 1
    phi = -dist
    phi[mdp.terminal] = 0.0
    return phi


def expected_shaped(mdp: TabularMDP, term: PotentialShaping) -> np.ndarray:
    """E_{s'}[R + F(s, a, s')] evaluated by calling the term on every (s, a, s')."""
    S, A = mdp.n_states, mdp.n_actions
    s, a, s2 = np.meshgrid(np.arange(S), np.arange(A), np.arange(S), indexing="ij")
    b = TransitionBatch.from_arrays(s.ravel(), a.ravel(), s2.ravel(), np.zeros(s.size),
                                    terminated=mdp.terminal[s2.ravel()])
    return mdp.R + (mdp.T * term(b).reshape(S, A, S)).sum(axis=2)


def room_section(seeds: int, episodes: int, lines: list[str]) -> dict:
    mdp, layout = four_rooms()
    V, _, _ = mdp.value_iteration()
    goal = layout.goal_states[0]
    potentials = {"V*": V, "-distance": grid_distance_potential(mdp, goal),
                  "random N(0,5)": np.random.default_rng(0).normal(scale=5.0, size=mdp.n_states)}
    opt = mdp.optimal_actions()
    lines.append("## 1. Four-room grid (gamma 0.95, slip 0.1)\n")
    lines.append("| reward | optimal action sets equal (exact VI) | I_H | episodes to 90% (mean of "
                 f"{seeds} seeds, argmax-first) | episodes to 90% (random ties) |")
    lines.append("|---|---|---|---|---|")
    rows = {"orig": mdp.R}
    for name, phi in potentials.items():
        rows[f"PBRS({name})"] = expected_shaped(mdp, PotentialShaping(phi, gamma=mdp.gamma))
    out = {}
    for name, R in rows.items():
        same = bool(np.array_equal(mdp.with_reward(R).optimal_actions(), opt))
        e90 = {}
        for tb in ("first", "random"):
            curves = [run_q_learning(mdp, episodes, R, tie_break=tb, seed=sd, eval_every=16) for sd in range(seeds)]
            mean = np.mean([c["expected_return"] for c in curves], axis=0)
            e90[tb] = episodes_to_fraction({"episode": curves[0]["episode"], "expected_return": mean,
                                            "optimal_return": curves[0]["optimal_return"]})
        ih = informativeness_h(R, mdp)
        out[name] = {"same": same, "I_H": ih, "e90": e90}
        fmt = lambda x: "not reached" if x is None else str(x)  # noqa: E731
        lines.append(f"| {name} | {same} | {ih:.5f} | {fmt(e90['first'])} | {fmt(e90['random'])} |")
    lines.append("")
    return out


def sweep_section(n: int, lines: list[str]) -> dict:
    rng = np.random.default_rng(0)
    kept = flipped_bad = kept_bad = 0
    for i in range(n):
        S, A = int(rng.integers(3, 10)), int(rng.integers(2, 5))
        mdp = TabularMDP.random(S, A, gamma=float(rng.choice([0.5, 0.9, 0.99])), seed=i, n_terminal=1, branching=3)
        phi = rng.uniform(-10, 10, size=S)
        phi[-1] = 20.0 * (1 if rng.random() < 0.5 else -1)          # a large terminal potential
        opt = mdp.optimal_actions(tol=1e-7)
        good = expected_shaped(mdp, PotentialShaping(phi, gamma=mdp.gamma))
        bad = expected_shaped(mdp, PotentialShaping(phi, gamma=mdp.gamma, zero_terminal=False))
        kept += bool(np.array_equal(mdp.with_reward(good).optimal_actions(tol=1e-7), opt))
        same_bad = bool(np.array_equal(mdp.with_reward(bad).optimal_actions(tol=1e-7), opt))
        kept_bad += same_bad
        flipped_bad += not same_bad
    lines.append("## 2. Random MDPs with an absorbing state (3-9 states, 2-4 actions, |Phi(terminal)| = 20)\n")
    lines.append("| shaping | MDPs | optimal action sets unchanged | changed |")
    lines.append("|---|---|---|---|")
    lines.append(f"| PotentialShaping (Phi(s')=0 on terminated) | {n} | {kept} | {n - kept} |")
    lines.append(f"| negative control: zero_terminal=False | {n} | {kept_bad} | {flipped_bad} |\n")
    return {"n": n, "kept": kept, "flipped_bad": flipped_bad}


def wrapper_section(lines: list[str]) -> dict:
    try:
        from stable_baselines3.common.monitor import Monitor

        from rewardkit.integrations.gymnasium import RewardWrapper, monitor_keywords
    except ImportError as e:  # pragma: no cover - optional pieces missing
        lines.append(f"## 3. Wrapper order\n\nnot run: {e}\n")
        return {"ran": False}
    mdp, _ = four_rooms()
    V, _, pi_star = mdp.value_iteration()
    greedy = pi_star.argmax(axis=1)

    def reward(scale: float = 1.0, name: str = "pbrs"):
        return ComposedReward([EnvReward(), PotentialShaping(scale * V, gamma=mdp.gamma, name=name)])

    def run(make) -> list[tuple[float, float]]:
        env = make()
        rng = np.random.default_rng(0)
        out = []
        for ep in range(6):
            env.reset(seed=ep)
            while True:
                s = env.unwrapped.state
                a = int(greedy[s]) if rng.random() < 0.8 else int(rng.integers(4))   # mostly optimal
                _, _, term, trunc, info = env.step(a)
                if term or trunc:
                    out.append((info["rk/env_return"], info.get("episode", {}).get("r", np.nan)))
                    break
        return out

    r1 = reward()
    inside = run(lambda: RewardWrapper(Monitor(TabularEnv(mdp, 50)), r1))                      # Monitor innermost
    r2 = reward()
    outside = run(lambda: Monitor(RewardWrapper(TabularEnv(mdp, 50), r2), info_keywords=monitor_keywords(r2)))
    stack_a = run(lambda: RewardWrapper(RewardWrapper(TabularEnv(mdp, 50), reward(1.0, "p1")), reward(0.5, "p2")))
    stack_b = run(lambda: RewardWrapper(RewardWrapper(TabularEnv(mdp, 50), reward(0.5, "p2")), reward(1.0, "p1")))
    env_ret = [x[0] for x in inside]
    same = (env_ret == [x[0] for x in outside] == [x[0] for x in stack_a] == [x[0] for x in stack_b]) and \
        any(r != 0 for r in env_ret)
    monitor_inner_is_original = np.allclose([x[1] for x in inside], env_ret)
    lines.append("## 3. Original-return accounting vs wrapper order (6 episodes, 80% optimal actions)\n")
    lines.append("| stack | info['rk/env_return'] per episode | Monitor 'r' |")
    lines.append("|---|---|---|")
    lines.append(f"| RewardWrapper(Monitor(env)) | {[round(x[0], 3) for x in inside]} | "
                 f"{[round(x[1], 3) for x in inside]} (original) |")
    lines.append(f"| Monitor(RewardWrapper(env)) | {[round(x[0], 3) for x in outside]} | "
                 f"{[round(x[1], 3) for x in outside]} (shaped) |")
    lines.append(f"| RW(RW(env, p1), p2) | {[round(x[0], 3) for x in stack_a]} | - |")
    lines.append(f"| RW(RW(env, p2), p1) | {[round(x[0], 3) for x in stack_b]} | - |")
    lines.append(f"\noriginal return identical in every order: **{same}**; inner Monitor sees the original "
                 f"return: **{monitor_inner_is_original}**\n")
    return {"ran": True, "same": bool(same)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="2 seeds x 1024 episodes, 50 random MDPs")
    ap.add_argument("--report", type=str, default=None)
    args = ap.parse_args(argv)
    seeds, episodes, n = (2, 1024, 50) if args.smoke else (10, 4096, 500)
    lines: list[str] = []
    room = room_section(seeds, episodes, lines)
    sweep = sweep_section(n, lines)
    wrap = wrapper_section(lines)
    checks = {
        "exact policy equality for every PBRS reward": all(v["same"] for k, v in room.items() if k != "orig"),
        "I_H(PBRS(V*)) == 0": abs(room["PBRS(V*)"]["I_H"]) < 1e-9,
        "random MDPs: all unchanged": sweep["kept"] == sweep["n"],
        "negative control flips some": sweep["flipped_bad"] > 0,
        "wrapper-order independent original return": wrap.get("same", False),
    }
    lines.append("## Checks\n")
    lines += [f"- {k}: **{v}**" for k, v in checks.items()]
    text = "\n".join(lines)
    print(text)
    if args.report:
        out = Path(args.report)
        out.mkdir(parents=True, exist_ok=True)
        (out / "table.md").write_text(text + "\n", encoding="utf-8")
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(5, 3))
        names = list(room)
        ax.bar(names, [room[k]["I_H"] for k in names])
        ax.set_ylabel("I_H")
        ax.tick_params(axis="x", labelsize=7)
        fig.tight_layout()
        fig.savefig(out / "pbrs_informativeness.png", dpi=120)
        plt.close(fig)
        print(f"wrote {out}", file=sys.stderr)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
