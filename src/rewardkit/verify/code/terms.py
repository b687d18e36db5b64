"""Registered term types of the code verifiers.

Example:
    >>> from rewardkit.core import build_reward, SampleBatch
    >>> r = build_reward({"terms": [{"type": "code_tests", "params": {"mode": "all_pass", "workers": 1}}]})
    >>> r(SampleBatch(["p"], ["def f():\\n    return 1"], {"tests": [["assert f() == 1"]]})).tolist()
    [1.0]
"""

from __future__ import annotations

from rewardkit.core import register_term
from rewardkit.verify.result import VerifierTerm

from .runner import CodeVerifier
from .sandbox import SandboxLimits

__all__ = ["code_tests"]


@register_term("code_tests", batch_kind="sample")
def code_tests(tests_column: str = "tests", mode: str = "pass_rate", per_test_timeout: float = 2.0,
               workers: int = 2, wall_seconds: float = 10.0, cpu_seconds: float = 5.0, memory_mb: int = 1024,
               max_processes: int = 32, network: str = "auto", prefix_column: str | None = None,
               require_block: bool = False, backend: str = "auto", name: str = "code_tests") -> VerifierTerm:
    """Unit-test pass rate (or all-pass) of generated Python code in the local sandbox."""
    limits = SandboxLimits(wall_seconds=wall_seconds, cpu_seconds=cpu_seconds, memory_mb=memory_mb,
                           max_processes=max_processes, network=network)
    return VerifierTerm(CodeVerifier(tests_column, mode, limits, per_test_timeout, workers, prefix_column,
                                     require_block, backend=backend), name)
