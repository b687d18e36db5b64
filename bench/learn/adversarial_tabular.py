"""Benchmark: the full adversarial imitation loop (GAIL / AIRL) on a Gymnasium tabular env.

One command (from the repo root):

    python bench/learn/adversarial_tabular.py        # ~1-3 min on one core

Expert: the optimal policy of a random MDP (S = 20, A = 4, gamma 0.9, state reward,
branching 3), 30 demonstration episodes of 30 steps collected through the Gymnasium
API (``rewardkit.tabular.TabularEnv``).  Generator: the soft-optimal (MaxEnt) policy of
the current discriminator reward, R(s, a) = E_{s'}[reward(s, a, s')], computed exactly
by soft value iteration (AIRL: reward f at temperature 1, since the generator maximises
E[f - log pi]; GAIL: reward -log(1 - D) with entropy weight 0.1); it collects 30
episodes per round.  The generator moves a fraction ``--mix`` (default 0.3) of the way
to that optimum per round (a conservative update; full best responses oscillate).  Each round the
discriminator continues training (``fit_discriminator(..., init=previous)``) on
expert vs current-generator transitions (AIRL sees the generator's log pi).  Reported:
the generator's exact normalised TRUE return per round (uniform policy 0, expert 1),
and for AIRL the return of the optimal policy of its disentangled reward g.
"""

from __future__ import annotations

import argparse
import functools

import numpy as np


def normalised_return(mdp, pi: np.ndarray, j0: float, j1: float) -> float:
    """True return of ``pi`` rescaled so that the uniform policy scores 0 and the optimal one 1."""
    return (mdp.expected_return(pi) - j0) / (j1 - j0)


def collect(env, policy: np.ndarray, episodes: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    S, A = policy.shape
    obs, act, nxt, logp = [], [], [], []
    for ep in range(episodes):
        s, _ = env.reset(seed=seed * 10_000 + ep)
        done = False
        while not done:
            a = int(rng.choice(A, p=policy[s]))
            s2, _, term, trunc, _ = env.step(a)
            obs.append(s), act.append(a), nxt.append(s2), logp.append(np.log(max(policy[s, a], 1e-12)))
            s, done = s2, term or trunc
    eye_s, eye_a = np.eye(S), np.eye(A)
    return {"obs": eye_s[obs], "action": eye_a[act], "next_obs": eye_s[nxt], "log_pi": np.array(logp)}


def reward_table(model, mdp, log_pi: np.ndarray | None, use: str = "train") -> np.ndarray:
    """R(s, a) = sum_{s'} T(s'|s, a) reward(s, a, s')."""
    S, A = mdp.n_states, mdp.n_actions
    ss, aa, s2 = np.meshgrid(np.arange(S), np.arange(A), np.arange(S), indexing="ij")
    ss, aa, s2 = ss.ravel(), aa.ravel(), s2.ravel()
    lp = np.zeros(ss.size) if log_pi is None else log_pi[ss, aa]
    kw = {} if model.kind == "gail" else {"use": use}
    r = model.reward(np.eye(S)[ss], np.eye(A)[aa], np.eye(S)[s2], np.zeros(ss.size, bool), lp, **kw)
    return (mdp.T * r.reshape(S, A, S)).sum(axis=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--mix", type=float, default=0.3, help="generator step: pi <- (1-mix) pi + mix pi_new")
    args = ap.parse_args()

    from rewardkit.learn import soft_value_iteration, fit_discriminator
    from rewardkit.tabular import TabularEnv, TabularMDP

    results: dict[str, list[list[float]]] = {"gail": [], "airl": [], "airl g (transfer)": []}
    for seed in args.seeds:
        mdp = TabularMDP.random(20, 4, gamma=0.9, seed=seed, state_reward=True, branching=3)
        env = TabularEnv(mdp, max_steps=30)
        _, _, pi_E = mdp.value_iteration()
        uniform = np.full((20, 4), 0.25)
        j0, j1 = mdp.expected_return(uniform), mdp.expected_return(pi_E)
        norm = functools.partial(normalised_return, mdp, j0=j0, j1=j1)
        expert = collect(env, pi_E, 30, seed)
        for kind in ("gail", "airl"):
            pi, model, curve, gcurve = uniform.copy(), None, [], []
            for r in range(args.rounds):
                gen = collect(env, pi, 30, 1000 + 100 * seed + r)
                ex = dict(expert)
                if kind == "airl":  # AIRL scores expert transitions under the current policy too
                    s_idx, a_idx = expert["obs"].argmax(1), expert["action"].argmax(1)
                    ex["log_pi"] = np.log(np.maximum(pi[s_idx, a_idx], 1e-12))
                model = fit_discriminator(kind, ex, gen, gamma=0.9, steps=200, seed=seed + r, init=model,
                                            lr=3e-3)
                # generator = the entropy-regularised optimum of the discriminator reward.  AIRL: the
                # generator maximises E[f - log pi] = soft RL on f at temperature 1 (the -log pi IS the
                # entropy term, so it is not added again); GAIL: E[-log(1 - D)] + 0.1 H(pi).
                R = reward_table(model, mdp, None)
                _, _, pi_new = soft_value_iteration(mdp, R, temperature=1.0 if kind == "airl" else 0.1)
                # damped (conservative) generator update - a full best response makes the game oscillate
                pi = (1 - args.mix) * pi + args.mix * pi_new
                curve.append(norm(pi))
                if kind == "airl":
                    g = model.g(np.eye(20))
                    gcurve.append(norm(mdp.value_iteration(R=g)[2]))
            results[kind].append(curve)
            if kind == "airl":
                results["airl g (transfer)"].append(gcurve)

    marks = sorted({0, 1, 2, 4, 9, args.rounds - 1} & set(range(args.rounds)))
    print("| reward | " + " | ".join(f"round {m + 1}" for m in marks) + " |")
    print("|---|" + "---|" * len(marks))
    for name, curves in results.items():
        c = np.array(curves)
        cells = [f"{c[:, m].mean():.3f} ± {c[:, m].std(ddof=1) / np.sqrt(len(c)) if len(c) > 1 else 0:.3f}"
                 for m in marks]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\n(normalised true return, uniform policy 0, expert 1; mean ± s.e. over seeds {args.seeds})")


if __name__ == "__main__":
    main()
