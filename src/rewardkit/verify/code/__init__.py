"""rewardkit.verify.code: unit-test rewards for generated code in a local process sandbox.

Importing this package registers the term type ``code_tests``.  See ``docs/verify-code.md``.
"""

from .forkserver import ForkServer, ForkServerPool
from .runner import CodeVerifier, TestReport, extract_code, normalize_tests, run_tests
from .sandbox import SandboxLimits, SandboxResult, SandboxUnavailable, run_python, sandbox_capabilities
from .sandboxfusion import SandboxFusionClient, SandboxFusionVerifier, serve_local
from . import terms  # noqa: F401  (registers the term type)

__all__ = [
    "CodeVerifier",
    "ForkServer",
    "ForkServerPool",
    "SandboxFusionClient",
    "SandboxFusionVerifier",
    "SandboxLimits",
    "SandboxResult",
    "SandboxUnavailable",
    "TestReport",
    "extract_code",
    "normalize_tests",
    "run_python",
    "run_tests",
    "sandbox_capabilities",
    "serve_local",
]
