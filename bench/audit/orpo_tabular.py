"""ORPO (#197): occupancy-measure regularisation bounds hacking of a correlated proxy (tabular, exact).

Each seed: a random 8-state, 3-action MDP (gamma 0.9) with a Gaussian true reward; the base policy
is its soft-optimal policy at temperature 1.  The proxy equals the true reward except at the
state-action the base policy visits least, where the proxy pays +5 and the true reward -5: the two
are correlated on the base policy's occupancy and the correlation breaks where it rarely goes.
For a grid of lambda, the exact chi^2-occupancy-regularised optimum and the action-KL-regularised
optimum; compared at matched proxy return (the best true return among the points whose proxy gain
is at least a quarter of the unregularised gain).

    python bench/audit/orpo_tabular.py [--seeds 10]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from rewardkit.audit.orpo import action_kl_policy, occupancy, occupancy_regularised_policy
from rewardkit.tabular import TabularMDP, soft_value_iteration

LAMBDAS = tuple(np.geomspace(0.03, 1000, 21))


def correlated_proxy(seed: int, bonus: float = 5.0, penalty: float = 5.0) -> tuple[TabularMDP, np.ndarray, np.ndarray]:
    """(MDP with the true reward, proxy reward, base policy) of one seed (see the module doc)."""
    mdp = TabularMDP.random(8, 3, gamma=0.9, seed=seed)
    R = np.random.default_rng(seed).normal(size=(8, 3))
    _, _, base = soft_value_iteration(TabularMDP(mdp.T, R, mdp.gamma, mdp.mu0), R, temperature=1.0)
    d = occupancy(mdp, base)
    s, a = np.unravel_index(np.argmin(d), d.shape)
    proxy, true = R.copy(), R.copy()
    proxy[s, a] += bonus
    true[s, a] -= penalty
    return TabularMDP(mdp.T, true, mdp.gamma, mdp.mu0), proxy, base


@dataclass
class SeedResult:
    base_true: float
    base_proxy: float
    unregularised_true: float
    unregularised_proxy: float
    chi2: list[tuple[float, float]]        # (proxy, true) per lambda
    action_kl: list[tuple[float, float]]

    def best_true(self, points: list[tuple[float, float]], gain_fraction: float = 0.25) -> float:
        target = self.base_proxy + gain_fraction * (self.unregularised_proxy - self.base_proxy)
        return max([t for p, t in points if p >= target - 1e-9], default=float("nan"))


def run_seed(seed: int, lambdas: tuple[float, ...] = LAMBDAS) -> SeedResult:
    mdp, proxy, base = correlated_proxy(seed)
    J = mdp.expected_return
    _, _, opt = mdp.value_iteration(R=proxy)
    chi2 = [(J(p, proxy), J(p, mdp.R)) for p in (occupancy_regularised_policy(mdp, proxy, base, lam) for lam in lambdas)]
    akl = [(J(p, proxy), J(p, mdp.R)) for p in (action_kl_policy(mdp, proxy, base, lam) for lam in lambdas)]
    return SeedResult(J(base, mdp.R), J(base, proxy), J(opt, mdp.R), J(opt, proxy), chi2, akl)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    print("| seed | base true | unregularised true | chi2-occupancy true | action-KL true | chi2 >= action-KL |")
    print("|---|---|---|---|---|---|")
    wins = 0
    for seed in range(args.seeds):
        r = run_seed(seed)
        c, k = r.best_true(r.chi2), r.best_true(r.action_kl)
        wins += c >= k - 1e-9
        verdict = "yes" if c >= k - 1e-9 else "no"
        print(f"| {seed} | {r.base_true:.3f} | {r.unregularised_true:.3f} | {c:.3f} | {k:.3f} | {verdict} |")
    print(f"\nchi2-occupancy regularisation keeps more true return at matched proxy gain on {wins}/{args.seeds} seeds")


if __name__ == "__main__":
    main()
