"""Unit-test rewards for generated code: all tests of a solution in one sandboxed child.

The execution reward of code RL (Le et al., 2022, "CodeRL: Mastering Code
Generation through Pretrained Models and Deep Reinforcement Learning"; Chen et al.,
2021, "Evaluating Large Language Models Trained on Code" for the functional-
correctness protocol) runs the program against the task's tests:

.. math::

    r_{\\text{all}} = \\prod_{j=1}^{T} [\\text{test}_j \\text{ passes}], \\qquad
    r_{\\text{rate}} = \\frac{1}{T} \\sum_{j=1}^{T} [\\text{test}_j \\text{ passes}]

Starting a Python interpreter costs ~30 ms, more than most test cases, so every
test of one solution runs in **one** child (:func:`~rewardkit.verify.code.sandbox.run_python`
with ``tests=``): the harness loads the solution once, runs each case under its own
``setitimer`` limit and streams a result per case.  A test the child never reported
(wall deadline, crash) counts as failed.  Many solutions run concurrently on a thread
pool, each thread driving its own child process.

Test formats accepted by :func:`normalize_tests`:

* ``"assert f(1) == 2"`` – a code string executed in the solution's namespace;
* ``{"type": "assert", "code": ...}``;
* ``{"type": "call", "fn": "f", "args": [...], "expected": ...}`` (LeetCode/TACO);
* ``{"type": "stdio", "stdin": "...", "stdout": "..."}`` (APPS/CodeContests);
* ``{"inputs": [...], "outputs": [...]}`` (APPS/Code-R1 columns; with ``"fn_name"``
  they become call tests);
* ``{"test": "def check(candidate): ...", "entry_point": "f"}`` (HumanEval).

Example:
    >>> v = CodeVerifier(mode="pass_rate")
    >>> r = v.verify("```python\\ndef add(a, b):\\n    return a + b\\n```",
    ...              tests=["assert add(1, 2) == 3", "assert add(2, 2) == 5"])
    >>> r.value, r.components["all_pass"], [t["status"] for t in r.info["tests"]]
    (0.5, 0.0, ['pass', 'fail'])
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from rewardkit.core import SampleBatch
from rewardkit.core.errors import ConfigError
from rewardkit.core.pickling import RebuildOnUnpickle
from rewardkit.verify.result import Verifier, VerifyResult

from .sandbox import SandboxLimits, SandboxResult, SandboxUnavailable, run_python

__all__ = ["extract_code", "normalize_tests", "run_tests", "TestReport", "CodeVerifier"]

_FENCE_RE = re.compile(r"```([^\n`]*)\n(.*?)```", re.DOTALL)  # no stacked quantifiers: linear


def extract_code(completion: str, language: str = "python", require_block: bool = False) -> str | None:
    """The code of a completion: the last fenced block tagged ``language`` (else the last
    fenced block), else – unless ``require_block`` – the whole completion.

    Example:
        >>> extract_code("text\\n```python\\nx = 1\\n```\\nmore")
        'x = 1\\n'
        >>> extract_code("no code", require_block=True) is None
        True
    """
    if not isinstance(completion, str):
        completion = "" if completion is None else str(completion)
    blocks = [((info.split() or [""])[0].lower(), body) for info, body in _FENCE_RE.findall(completion)]
    tagged = [b for tag, b in blocks if tag in (language, "py" if language == "python" else language)]
    if tagged:
        return tagged[-1]
    if blocks:
        return blocks[-1][1]
    if require_block:
        return None
    # an unterminated fence (truncated output): take what follows it
    m = re.search(r"```[^\n]*\n(.*)$", completion, re.DOTALL)
    text = m.group(1) if m else completion
    return text if text.strip() else None


def normalize_tests(tests: Any, field_name: str = "tests") -> list[dict[str, Any]]:
    """Bring the supported test formats to a list of typed test dicts (see module doc).

    Example:
        >>> normalize_tests({"inputs": ["1\\n"], "outputs": ["2\\n"]})
        [{'type': 'stdio', 'stdin': '1\\n', 'stdout': '2\\n'}]
    """
    if isinstance(tests, str):
        import json

        s = tests.strip()
        if s.startswith(("{", "[")):
            try:
                return normalize_tests(json.loads(s), field_name)
            except ValueError:
                pass
        return [{"type": "assert", "code": tests}]
    if isinstance(tests, Mapping):
        if "test" in tests and "entry_point" in tests:
            return [{"type": "assert", "code": f"{tests['test']}\ncheck({tests['entry_point']})"}]
        if "inputs" in tests and "outputs" in tests:
            ins, outs = list(tests["inputs"]), list(tests["outputs"])
            if len(ins) != len(outs):
                raise ConfigError(f"{field_name}.outputs", f"has {len(outs)} entries for {len(ins)} inputs",
                                  "one output per input")
            fn = tests.get("fn_name")
            if fn:
                return [{"type": "call", "fn": str(fn), "args": list(i) if isinstance(i, (list, tuple)) else [i],
                         "expected": o[0] if isinstance(o, list) and len(o) == 1 else o} for i, o in zip(ins, outs)]
            return [{"type": "stdio", "stdin": _text(i), "stdout": _text(o)} for i, o in zip(ins, outs)]
        if "type" in tests:
            return [_check_test(dict(tests), field_name)]
        raise ConfigError(field_name, f"mapping with keys {sorted(tests)}",
                          "a list of tests, {'inputs','outputs'}, or {'test','entry_point'}")
    if isinstance(tests, Sequence):
        out = []
        for i, t in enumerate(tests):
            if isinstance(t, str):
                out.append({"type": "assert", "code": t})
            elif isinstance(t, Mapping):
                out.append(_check_test(dict(t), f"{field_name}[{i}]"))
            else:
                raise ConfigError(f"{field_name}[{i}]", f"is a {type(t).__name__}", "a code string or a test dict")
        return out
    raise ConfigError(field_name, f"is a {type(tests).__name__}", "a list of tests or a test mapping")


def _text(x: Any) -> str:
    if isinstance(x, (list, tuple)):
        return "\n".join(str(v) for v in x)
    return "" if x is None else str(x)


_REQUIRED = {"assert": ("code",), "call": ("fn",), "stdio": ("stdout",)}


def _check_test(t: dict[str, Any], f: str) -> dict[str, Any]:
    kind = t.setdefault("type", "assert")
    if kind not in _REQUIRED:
        raise ConfigError(f"{f}.type", f"got {kind!r}", "'assert', 'call' or 'stdio'")
    for k in _REQUIRED[kind]:
        if k not in t:
            raise ConfigError(f"{f}.{k}", "missing", f"a '{k}' field for a {kind} test")
    return t


@dataclass
class TestReport:
    """Per-solution outcome: ``statuses[j]`` is ``"pass"``, ``"fail"``, ``"error"``,
    ``"timeout"``, ``"syntax_error"`` or ``"not_run"`` (the child died first)."""

    statuses: list[str]
    details: list[dict[str, Any]] = field(default_factory=list)
    sandbox: SandboxResult | None = None

    @property
    def passed(self) -> int:
        return sum(s == "pass" for s in self.statuses)

    @property
    def total(self) -> int:
        return len(self.statuses)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def all_pass(self) -> bool:
        return self.total > 0 and self.passed == self.total


def run_tests(code: str, tests: Any, limits: SandboxLimits | None = None,
              per_test_timeout: float = 2.0, runner: Callable[..., SandboxResult] | None = None) -> TestReport:
    """Run all ``tests`` against ``code`` in one sandboxed child.

    Example:
        >>> run_tests("def f(x):\\n    return 2 * x", ["assert f(2) == 4", "assert f(3) == 7"]).statuses
        ['pass', 'fail']
    """
    cases = normalize_tests(tests)
    res = (runner or run_python)(code, tests=cases, limits=limits, per_test_timeout=per_test_timeout)
    statuses = ["not_run"] * len(cases)
    details: list[dict[str, Any]] = [{} for _ in cases]
    setup = next((r for r in res.channel if "setup" in r), None)
    for rec in res.channel:
        i = rec.get("i")
        if isinstance(i, int) and 0 <= i < len(cases):
            statuses[i] = str(rec.get("status", "error"))
            details[i] = {k: v for k, v in rec.items() if k != "i"}
    if res.timed_out or res.output_limit_exceeded:
        why = "timeout" if res.timed_out else "output_limit"
        statuses = [s if s != "not_run" else why for s in statuses]
    if setup is not None and setup.get("setup") not in (None, "ok"):
        for d in details:
            d.setdefault("setup_error", str(setup.get("error", ""))[-300:])
    return TestReport(statuses, details, res)


class CodeVerifier(RebuildOnUnpickle, Verifier):
    """Code reward from unit tests run in the local sandbox.

    Args:
        tests_column: batch column with each sample's tests (any :func:`normalize_tests` format).
        mode: ``"pass_rate"`` (fraction passed) or ``"all_pass"`` (1 only if all pass).
        limits: :class:`SandboxLimits` of each child.
        per_test_timeout: seconds per test inside the child.
        workers: solutions run concurrently by :meth:`verify_batch`.
        prefix_column: a column whose text is prepended to the completion (HumanEval:
            the prompt holds the signature, the completion the body).
        require_block: only accept code inside a fenced block.
        backend: ``"fresh"`` (a new interpreter in new namespaces per solution:
            strongest isolation, ~40-70 ms overhead), ``"forkserver"`` (``workers``
            warm :class:`~rewardkit.verify.code.forkserver.ForkServer` s: same host
            isolation, ~3x the throughput) or ``"auto"`` (fork server when available).
    """

    name = "code_tests"

    def __init__(self, tests_column: str = "tests", mode: str = "pass_rate", limits: SandboxLimits | None = None,
                 per_test_timeout: float = 2.0, workers: int = 2, prefix_column: str | None = None,
                 require_block: bool = False, language: str = "python", backend: str = "auto"):
        if mode not in ("pass_rate", "all_pass"):
            raise ConfigError("mode", f"got {mode!r}", "'pass_rate' or 'all_pass'")
        if not (isinstance(workers, int) and workers >= 1):
            raise ConfigError("workers", f"got {workers!r}", "a positive int")
        if backend not in ("auto", "fresh", "forkserver"):
            raise ConfigError("backend", f"got {backend!r}", "'auto', 'fresh' or 'forkserver'")
        if language != "python":
            raise ConfigError("language", f"got {language!r}", "'python' (the local sandbox runs Python)")
        self.tests_column = tests_column
        self.prefix_column = prefix_column
        self.reference_columns = (tests_column,) + ((prefix_column,) if prefix_column else ())
        self.mode = mode
        self.limits = limits or SandboxLimits()
        self.per_test_timeout = float(per_test_timeout)
        self.workers = workers
        self.require_block = bool(require_block)
        self.language = language
        self.backend = backend
        self._pool: Any = None
        self._pool_lock = threading.Lock()

    # pickling drops the sandbox pool (processes) and its lock; the copy starts its own on first use
    _transient = {"_pool": lambda: None, "_pool_lock": threading.Lock}

    def _runner(self) -> Callable[..., SandboxResult]:
        if self.backend == "fresh":
            return run_python
        with self._pool_lock:
            if self._pool is None:
                from .forkserver import ForkServerPool

                try:
                    self._pool = ForkServerPool(self.workers, self.limits)
                except SandboxUnavailable:
                    if self.backend == "forkserver":
                        raise
                    self._pool = False
        return self._pool.run if self._pool else run_python

    def close(self) -> None:
        """Stop the fork servers (if any)."""
        with self._pool_lock:
            if self._pool:
                self._pool.close()
            self._pool = None

    def verify(self, completion: str, **references: Any) -> VerifyResult:
        tests = references.get(self.tests_column, references.get("tests"))
        if tests is None:
            return VerifyResult(0.0, {"pass_rate": 0.0, "all_pass": 0.0}, None, "missing_reference")
        code = extract_code(completion, self.language, self.require_block)
        if self.prefix_column and references.get(self.prefix_column) and code is not None:
            code = str(references[self.prefix_column]) + code
        if code is None:
            return VerifyResult(0.0, {"pass_rate": 0.0, "all_pass": 0.0}, None, "no_code")
        try:
            cases = normalize_tests(tests, self.tests_column)
        except ConfigError as e:
            return VerifyResult(0.0, {"pass_rate": 0.0, "all_pass": 0.0}, code, "bad_reference",
                                info={"message": str(e)})
        if not cases:
            return VerifyResult(0.0, {"pass_rate": 0.0, "all_pass": 0.0}, code, "missing_reference")
        rep = run_tests(code, cases, self.limits, self.per_test_timeout, runner=self._runner())
        sb = rep.sandbox
        value = rep.pass_rate if self.mode == "pass_rate" else float(rep.all_pass)
        error = None
        if sb is not None and sb.error:
            error = "sandbox_error"
        elif sb is not None and sb.timed_out:
            error = "timeout"
        elif sb is not None and sb.output_limit_exceeded:
            error = "output_limit"
        elif "syntax_error" in rep.statuses:
            error = "syntax_error"
        elif rep.statuses and all(s == "not_run" for s in rep.statuses):
            error = "runtime_error"
        info = {"tests": [{"status": s, **d} for s, d in zip(rep.statuses, rep.details)],
                "passed": rep.passed, "total": rep.total}
        if sb is not None:
            info.update(wall_time=sb.wall_time, returncode=sb.returncode, isolation=sb.isolation,
                        stderr_tail=sb.stderr[-500:])
        return VerifyResult(value, {"pass_rate": rep.pass_rate, "all_pass": float(rep.all_pass)}, code, error,
                            latency=sb.wall_time if sb else 0.0, info=info)

    def verify_batch(self, batch: SampleBatch) -> list[VerifyResult]:
        texts = batch.completion_texts()
        cols = {c: batch.column(c) for c in self.reference_columns if c in batch.columns}
        if self.tests_column not in cols:
            batch.column(self.tests_column)  # raises a BatchError naming the column
        jobs = [(t, {c: v[i] for c, v in cols.items()}) for i, t in enumerate(texts)]
        if self.workers == 1 or len(jobs) <= 1:
            return [self.safe_verify(t, **refs) for t, refs in jobs]
        with ThreadPoolExecutor(self.workers) as ex:
            return list(ex.map(lambda j: self.safe_verify(j[0], **j[1]), jobs))
