"""Benchmark: preference labels -> learned reward -> policy, on a Gymnasium tabular env.

One command (from the repo root):

    python bench/learn/prefs_to_policy.py         # ~1-2 min on one core

The loop of Christiano et al. (2017) at tabular scale: a random MDP (S = 30, A = 4,
gamma 0.9, dense N(0, 1) rewards, branching 3) is wrapped as a Gymnasium env
(``rewardkit.tabular.TabularEnv``); a uniform-random policy generates 10-step segments;
a Boltzmann-rational rater (temperature 1) labels pairs by their true returns; a linear
BT reward on one-hot (s, a) features is fitted (``fit_linear_bt``) and used through the
``reward_model`` term to build the reward table; then
* planning: the optimal policy of the learned reward (value iteration), and
* learning: tabular Q-learning trained on the learned reward for 300 episodes,
are scored by their exact expected return under the TRUE reward, normalised so that the
uniform policy is 0 and the optimal policy 1.  Pairs are chosen at random or by ensemble
disagreement (variance of P(a > b)) or BALD mutual information (5 bagged members,
pool of 3000 candidate pairs).
"""

from __future__ import annotations

import argparse
import functools

import numpy as np


def normalised_return(mdp, pi: np.ndarray, j0: float, j1: float) -> float:
    """True return of ``pi`` rescaled so that the uniform policy scores 0 and the optimal one 1."""
    return (mdp.expected_return(pi) - j0) / (j1 - j0)


def rollout_segments(env, n_episodes: int, seg_len: int, seed: int):
    """(state, action) index segments from a uniform-random policy in a Gymnasium env."""
    rng = np.random.default_rng(seed)
    segs, rets = [], []
    S, A = env.observation_space.n, env.action_space.n
    for ep in range(n_episodes):
        s, _ = env.reset(seed=seed * 100_000 + ep)
        states, actions, rewards = [], [], []
        done = False
        while not done:
            a = int(rng.integers(A))
            s2, r, term, trunc, _ = env.step(a)
            states.append(s), actions.append(a), rewards.append(r)
            s, done = s2, term or trunc
        for st in range(0, len(states) - seg_len + 1, seg_len):
            segs.append((np.array(states[st:st + seg_len]), np.array(actions[st:st + seg_len])))
            rets.append(float(np.sum(rewards[st:st + seg_len])))
    X = np.zeros((len(segs), seg_len, S * A))
    for i, (ss, aa) in enumerate(segs):
        X[i, np.arange(seg_len), ss * A + aa] = 1.0
    return X, np.array(rets)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--budgets", type=int, nargs="+", default=[25, 50, 100, 200, 400, 800])
    args = ap.parse_args()

    from rewardkit.core import TransitionBatch
    from rewardkit.learn import (PreferencePairs, RewardModelTerm, boltzmann_labels, fit_linear_bt,
                                 select_queries, fit_ensemble)
    from rewardkit.tabular import TabularEnv, TabularMDP, run_q_learning

    S, A = 30, 4
    rows = {}
    for seed in args.seeds:
        mdp = TabularMDP.random(S, A, gamma=0.9, seed=seed, state_reward=False, branching=3)
        env = TabularEnv(mdp, max_steps=50)
        X, R = rollout_segments(env, 200, 10, seed)
        rng = np.random.default_rng(seed)
        ia, ib = rng.integers(0, len(X), 3000), rng.integers(0, len(X), 3000)
        labels = boltzmann_labels(R[ia], R[ib], 1.0, rng=rng)
        uniform = np.full((S, A), 1.0 / A)
        j0 = mdp.expected_return(uniform)
        j1 = mdp.expected_return(mdp.value_iteration()[2])
        norm = functools.partial(normalised_return, mdp, j0=j0, j1=j1)
        ss, aa = np.repeat(np.arange(S), A), np.tile(np.arange(A), S)
        grid = TransitionBatch.from_arrays(np.eye(S)[ss], aa, np.eye(S)[ss], np.zeros(S * A))
        init = rng.choice(3000, size=args.budgets[0], replace=False)  # the same first labels for both methods
        for method in ("random", "disagreement", "bald"):
            chosen = init.copy()
            for budget in args.budgets:
                if len(chosen) < budget:
                    ens = fit_ensemble(PreferencePairs(X[ia[chosen]], X[ib[chosen]], labels[chosen]), 5,
                                         seed=seed, l2=1.0)
                    new = select_queries(ens, X[ia], X[ib], budget - len(chosen), method, chosen, rng)
                    chosen = np.concatenate([chosen, new])
                model = fit_linear_bt(PreferencePairs(X[ia[chosen]], X[ib[chosen]], labels[chosen]), l2=1.0)
                term = RewardModelTerm(model, features=lambda b: _sa_onehot(b, S, A))
                R_hat = term(grid).reshape(S, A)
                plan = norm(mdp.value_iteration(R=R_hat)[2])
                ql = run_q_learning(mdp, 300, R_hat, tie_break="random", seed=seed, max_steps=50, eval_every=300)
                qret = norm(ql["agent"].greedy_policy())
                corr = float(np.corrcoef(R_hat.ravel(), mdp.R.ravel())[0, 1])
                rows.setdefault((method, budget), []).append((corr, plan, qret))
        qtrue = run_q_learning(mdp, 300, None, tie_break="random", seed=seed, max_steps=50, eval_every=300)
        rows.setdefault(("true reward", 0), []).append((1.0, 1.0, norm(qtrue["agent"].greedy_policy())))

    print("| selection | labels | corr(R_hat, R) | planning: normalised true return "
          "| Q-learning (300 ep): normalised true return |")
    print("|---|---|---|---|---|")
    for (method, budget), vals in rows.items():
        v = np.array(vals)
        m, se = v.mean(0), v.std(0, ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.zeros(3)
        lab = "-" if method == "true reward" else budget
        print(f"| {method} | {lab} | {m[0]:.3f} ± {se[0]:.3f} | {m[1]:.3f} ± {se[1]:.3f} | {m[2]:.3f} ± {se[2]:.3f} |")
    print(f"\n(mean ± s.e. over seeds {args.seeds})")


def _sa_onehot(batch, S: int, A: int) -> np.ndarray:
    s = np.asarray(batch.obs).argmax(1)
    a = np.asarray(batch.action).astype(int)
    out = np.zeros((len(s), S * A))
    out[np.arange(len(s)), s * A + a] = 1.0
    return out


if __name__ == "__main__":
    main()
