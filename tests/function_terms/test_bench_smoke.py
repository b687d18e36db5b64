"""Smoke version of bench/verify/function_term_overhead.py: all three forms agree, on a small batch."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "verify" / "function_term_overhead.py"


def test_function_term_overhead_bench_runs():
    spec = importlib.util.spec_from_file_location("bench_function_term_overhead", BENCH)
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    best = mod.measure(n=64, repeats=1)     # asserts equal values inside
    assert set(best) == {"batch function (reference)", "@term def", "@term async def"}
    assert all(t > 0 for t in best.values())
