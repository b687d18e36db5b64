"""Per-sample cost of a plain-function term against the same reward written as a batch function.

The reference is a hand-batched :class:`~rewardkit.core.FunctionTerm` computing the same values
(exact match of the stripped completion).  Runs it, the ``@rewardkit.term`` version of the
``def``, and the ``async def`` version interleaved (A B C A B C ...) on the same batch. It checks
that all three give the same values, then prints the best time of each, the added microseconds per
sample and the machine load.

    python bench/verify/function_term_overhead.py [--n 1024] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import rewardkit
from rewardkit.core import FunctionTerm, SampleBatch


def correct(completion: str, answer: str) -> float:
    return float(completion.strip() == answer)


async def correct_async(completion: str, answer: str) -> float:
    return float(completion.strip() == answer)


def terms() -> dict[str, object]:
    batched = FunctionTerm("batched", lambda b: [correct(c, a) for c, a in
                                                 zip(b.completion_texts(), b.column("answer"), strict=True)])
    return {"batch function (reference)": batched, "@term def": rewardkit.term(correct),
            "@term async def": rewardkit.term(correct_async)}


def measure(n: int, repeats: int) -> dict[str, float]:
    """Best seconds per batch of ``n`` samples for each variant (interleaved); values checked equal."""
    batch = SampleBatch(["p"] * n, [str(i % 7) for i in range(n)], {"answer": ["3"] * n})
    ts = terms()
    want = ts["batch function (reference)"](batch)  # type: ignore[operator]
    best = {k: float("inf") for k in ts}
    for _ in range(repeats):
        for k, t in ts.items():
            t0 = time.perf_counter()
            out = t(batch)  # type: ignore[operator]
            best[k] = min(best[k], time.perf_counter() - t0)
            np.testing.assert_array_equal(out, want)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    best = measure(args.n, args.repeats)
    ref = best["batch function (reference)"]
    print(f"load average {os.getloadavg()[0]:.2f}; {args.n} samples per batch, best of {args.repeats}")
    print("| term | ms per batch | added us per sample |")
    print("|---|---|---|")
    for k, t in best.items():
        print(f"| {k} | {t * 1e3:.2f} | {(t - ref) / args.n * 1e6:.1f} |")


if __name__ == "__main__":
    main()
