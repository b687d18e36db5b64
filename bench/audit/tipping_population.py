"""Alignment Tipping Process (#156): violating fraction vs deviation bonus, with and without imitation.

100 agents (5 start deviant), 300 rounds, catch probability 0.2, penalty 1; deviation pays in
expectation when the bonus exceeds 0.5.  Mean over 10 seeds of the population's violation
probability after 50 rounds and at the end.

    python bench/audit/tipping_population.py [--seeds 10]
"""

from __future__ import annotations

import argparse

import numpy as np

from rewardkit.audit.tipping import TippingConfig, simulate_tipping


def table(seeds: int) -> list[tuple[float, float, float, float]]:
    rows = []
    for bonus in (0.0, 0.25, 0.5, 1.0, 1.5):
        for imitation in (0.0, 0.2):
            runs = [simulate_tipping(TippingConfig(bonus=bonus, imitation=imitation), seed=s) for s in range(seeds)]
            rows.append((bonus, imitation, float(np.mean([r[49] for r in runs])), float(np.mean([r[-1] for r in runs]))))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    print("| deviation bonus | imitation | violating fraction, round 50 | violating fraction, round 300 |")
    print("|---|---|---|---|")
    for bonus, imitation, mid, end in table(args.seeds):
        print(f"| {bonus:g} | {imitation:g} | {mid:.3f} | {end:.3f} |")


if __name__ == "__main__":
    main()
