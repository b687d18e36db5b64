"""STARC / EPIC speed: rewardkit's closed forms against the reference algorithms' iterative method, same inputs.

The STARC reference implementation (lucyfarnik/starc) and EPIC's (HumanCompatibleAI/evaluating-rewards)
are not on PyPI (and the latter needs TF1), so neither can be installed here.  This bench times the
*algorithm* the STARC reference uses - V^pi by iterated Bellman backups until the sup-norm change is
below 1e-12, in NumPy - written here from its description (sharing the expected-reward step with
rewardkit's, so only the value computation differs), against rewardkit's single linear solve,
on the same random MDPs, interleaved (A B A B), with the machine load printed.  It also checks that
both canonical forms agree to 1e-8.  EPIC's canonicalisation is closed-form in both; its time is listed.

    python bench/audit/starc_epic_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from rewardkit.audit.distances import as_sas, epic_distance, val_canonical


def val_canonical_iterative(R: np.ndarray, T: np.ndarray, gamma: float, tol: float = 1e-12) -> np.ndarray:
    """c_VAL with V^pi (uniform pi) by Bellman iteration, the reference's method."""
    R = as_sas(R, T.shape[0])
    n_s, n_a, _ = T.shape
    pi = np.full((n_s, n_a), 1.0 / n_a)
    expected = (T * R).sum(axis=2)
    r_pi = (pi * expected).sum(axis=1)
    P = np.einsum("sa,sax->sx", pi, T)
    v = np.zeros(n_s)
    while True:
        v_new = r_pi + gamma * P @ v
        if np.max(np.abs(v_new - v)) < tol:
            v = v_new
            break
        v = v_new
    return expected + gamma * (T @ v) - v[:, None]


def _time(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"machine load (1, 5, 15 min): {os.getloadavg()}")
    print("| states | actions | gamma | closed form ms | iterative ms | ratio | max abs diff | EPIC distance ms |")
    print("|---|---|---|---|---|---|---|---|")
    for S, A, gamma in [(10, 4, 0.9), (50, 4, 0.99), (200, 4, 0.99), (500, 4, 0.99)]:
        rng = np.random.default_rng(S)
        T = rng.dirichlet(np.ones(S), size=(S, A))
        R = rng.normal(size=(S, A, S))
        closed, iterative, epic = [], [], []
        for _ in range(args.repeats):              # interleaved A B A B
            closed.append(_time(val_canonical, R, T, gamma))
            iterative.append(_time(val_canonical_iterative, R, T, gamma))
            epic.append(_time(epic_distance, R, R + 1.0, gamma))
        diff = float(np.max(np.abs(val_canonical(R, T, gamma) - val_canonical_iterative(R, T, gamma))))
        c, it = np.median(closed) * 1e3, np.median(iterative) * 1e3
        print(f"| {S} | {A} | {gamma} | {c:.2f} | {it:.2f} | {it / c:.1f}x | {diff:.1e} | {np.median(epic) * 1e3:.2f} |")


if __name__ == "__main__":
    main()
