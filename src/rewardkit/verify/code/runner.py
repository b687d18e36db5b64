"""Unit-test rewards for generated code: all tests of a solution in one sandboxed child.

The execution reward of code RL (Le et al., 2022, "CodeRL: Mastering Code
Generation through Pretrained Models and Deep Reinforcement Learning"; Chen et al.,
2021, "Evaluating Large Language Models Trained on Code" for the functional-
correctness protocol) runs the program against the task's tests:

.. math::

    r_{\\text{all}} = \\prod_{j=1}^{T} [\\text{test}_j \\text{ passes}], \\qquad
    r_{\\text{rate}} = \\frac{1}{T} \\sum_{j=1}^{T} [\\text{test}_j \\text{ passes}]

**Verdicts are reached outside the untrusted interpreter.**  The sandboxed child only
computes outputs for the test inputs (it never receives an expected value) and sends them
back through a strict serialiser of plain data (:func:`~rewardkit.verify.code._harness.encode`);
this module compares them.  ``assert f(<literals>) == <literal>`` tests (also ``is``,
bare ``assert f(...)`` and ``assert not f(...)``) are turned into such input/expected
pairs; other test code (HumanEval ``check(candidate)``, method calls, tolerances) runs in
a second, clean *checker* process that calls the solution's functions with plain data
and gets plain data back.  So an object whose ``__eq__`` is always true, a trace hook or
a patched ``assert``/test module in the solution changes nothing.

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
    >>> r.value, r.components["all_pass"], [t["status"] for t in r.info["tests"]], r.error
    (0.5, 0.0, ['pass', 'wrong_answer'], 'wrong_answer')
"""

from __future__ import annotations

import ast
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar
from collections.abc import Callable, Mapping, Sequence

from rewardkit.core import SampleBatch
from rewardkit.core.errors import ConfigError
from rewardkit.core.pickling import RebuildOnUnpickle
from rewardkit.verify.budget import DEFAULT_BUDGETS
from rewardkit.verify.result import Verifier, VerifyResult
from rewardkit.verify.tags import iter_fences

from . import _harness
from .sandbox import AST_LOCK as _AST_LOCK
from .sandbox import SandboxLimits, SandboxResult, SandboxUnavailable, run_python

__all__ = [
    "STATUSES",
    "CodeVerifier",
    "TestReport",
    "extract_code",
    "normalize_tests",
    "run_tests",
    "safe_message",
    "split_tests",
]

#: every per-test status, and the sample-level error types, worst first
STATUSES = ("pass", "sandbox_error", "timeout", "memory", "blocked", "output_limit", "syntax_error",
            "unserialisable", "runtime_error", "wrong_answer")
_MSG_CAP = 2048


def extract_code(completion: str, language: str = "python", require_block: bool = False) -> str | None:
    """The code of a completion: the last fenced block tagged ``language`` (else the last
    fenced block), else – unless ``require_block`` – what follows an unterminated opening
    fence (truncated output), else the whole completion.  Fences are found by
    :func:`rewardkit.verify.tags.iter_fences` (linear time, also on ```` '```' * n ````).

    Example:
        >>> extract_code("text\\n```python\\nx = 1\\n```\\nmore")
        'x = 1\\n'
        >>> extract_code("no code", require_block=True) is None
        True
    """
    if not isinstance(completion, str):
        completion = "" if completion is None else str(completion)
    tags = (language, "py" if language == "python" else language)
    last = last_tagged = None
    for f in iter_fences(completion):  # keep only the last fence and the last tagged one
        last = f
        if f.lang.lower() in tags:
            last_tagged = f
    if last is not None:
        return (last_tagged or last).content(completion)
    if require_block:
        return None
    # an unterminated fence (truncated output): take what follows its info line
    text = completion
    o = completion.find("```")
    nl = completion.find("\n", o + 3) if o >= 0 else -1
    if nl >= 0:
        text = completion[nl + 1:]
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
                         "expected": o[0] if isinstance(o, list) and len(o) == 1 else o}
                        for i, o in zip(ins, outs, strict=False)]
            return [{"type": "stdio", "stdin": _text(i), "stdout": _text(o)} for i, o in zip(ins, outs, strict=False)]
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
    """Per-solution outcome: ``statuses[j]`` is ``"pass"`` or one of the error types in
    :data:`STATUSES` (``wrong_answer``, ``runtime_error``, ``timeout``, ``memory``,
    ``blocked``, ``syntax_error``, ``unserialisable``, ``output_limit``, ``sandbox_error``).

    ``error`` is the sample's error type: the worst non-pass status (``None`` if all pass).
    """

    statuses: list[str]
    details: list[dict[str, Any]] = field(default_factory=list)
    sandbox: SandboxResult | None = None
    blocked_events: list[str] = field(default_factory=list)

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

    @property
    def error(self) -> str | None:
        bad = {s for s in self.statuses if s != "pass"}
        if not self.statuses:
            return "runtime_error"
        return next((s for s in STATUSES if s in bad), None)


_CMP_CONST = {"None": None, "True": True, "False": False}


def _parse(code: str) -> ast.Module | None:
    with _AST_LOCK:
        try:
            return ast.parse(code)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return None


def _literal(node: ast.AST) -> tuple[bool, Any]:
    try:
        with _AST_LOCK:
            return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _as_call(code: str) -> dict[str, Any] | None:
    """``assert f(<literals>) <op> <literal>`` as a call test with a ``compare`` mode, else None."""
    tree = _parse(code)
    if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return None
    test, compare, expected = tree.body[0].test, "truthy", None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, compare = test.operand, "falsy"
    elif isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if not isinstance(left, ast.Call) and isinstance(right, ast.Call) and isinstance(op, ast.Eq):
            left, right = right, left
        if isinstance(op, ast.Eq):
            ok, expected = _literal(right)
            compare = "exact"
        elif isinstance(op, ast.Is) and isinstance(right, ast.Constant) and repr(right.value) in _CMP_CONST:
            ok, expected, compare = True, right.value, "is"
        else:
            return None
        if not ok:
            return None
        test = left
    if not (isinstance(test, ast.Call) and isinstance(test.func, ast.Name)):
        return None
    args = [_literal(a) for a in test.args if not isinstance(a, ast.Starred)]
    kwargs = {k.arg: _literal(k.value) for k in test.keywords if k.arg}
    if len(args) != len(test.args) or len(kwargs) != len(test.keywords) or not all(
            ok for ok, _ in args + list(kwargs.values())):
        return None
    return {"type": "call", "fn": test.func.id, "args": [v for _, v in args],
            "kwargs": {k: v for k, (_, v) in kwargs.items()}, "expected": expected, "compare": compare}


def _top_level_names(code: str) -> list[str]:
    """Names the solution binds at module level (the checker's remote stand-ins)."""
    tree = _parse(code)
    if tree is None:
        return []
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return sorted(names)


def split_tests(code: str, cases: Sequence[Mapping[str, Any]],
                per_test_timeout: float = 0.0) -> tuple[list[dict[str, Any]], list[int], dict[str, Any] | None]:
    """Split normalised tests into what the untrusted child gets and what stays trusted.

    Returns ``(inputs, index, checks)``: ``inputs[j]`` is the input-only form of test
    ``index[j]`` (call and stdio tests, and asserts converted to calls - *no expected
    value*); ``checks`` holds the remaining assert code for the checker process (or None).

    Example:
        >>> cases = normalize_tests(["assert f(2) == 2", "assert f(1) < 2"])
        >>> inputs, index, checks = split_tests("def f(x):\\n    return x", cases)
        >>> inputs, index, [t["i"] for t in checks["tests"]]
        ([{'type': 'call', 'fn': 'f', 'args': [2], 'kwargs': {}}], [0], [1])
    """
    inputs, index, checked = [], [], []
    for i, t in enumerate(cases):
        t = dict(t)
        if t.get("type", "assert") == "assert":
            conv = _as_call(str(t.get("code", "")))
            if conv is None:
                checked.append({"i": i, "code": str(t.get("code", "")), "timeout": float(t.get("timeout") or 0)})
                continue
            t = {**conv, "timeout": t.get("timeout")}
        keep = ("type", "fn", "args", "kwargs", "timeout") if t["type"] == "call" else ("type", "stdin", "timeout")
        inputs.append({k: t[k] for k in keep if t.get(k) is not None})
        index.append(i)
    checks = {"tests": checked, "names": _top_level_names(code), "per_test_timeout": float(per_test_timeout)}
    return inputs, index, (checks if checked else None)


def _plain(x: Any) -> Any:
    """Tuples as lists, dict keys as strings: how JSON test data sees a return value."""
    if isinstance(x, (tuple, list)):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    return x


def _normalize_output(s: str) -> str:
    lines = [ln.rstrip() for ln in s.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _compare(case: Mapping[str, Any], rec: Mapping[str, Any]) -> tuple[str, str | None]:
    """The verdict of one call/stdio test from the child's *data*, reached here."""
    if "status" in rec:  # the child reports only failures; a claimed "pass" is not one
        st = str(rec["status"])
        return (st if st in STATUSES[1:] else "runtime_error"), safe_message(rec.get("error", ""))
    if case.get("type") == "stdio":
        got = rec.get("stdout")
        if not isinstance(got, str):
            return "unserialisable", "stdout missing"
        ok = _normalize_output(got) == _normalize_output(str(case.get("stdout", "")))
        return ("pass", None) if ok else ("wrong_answer", safe_message(f"stdout mismatch: {got[-200:]!r}"))
    try:
        out = _harness.decode(rec.get("out"))
    except _harness.Unserialisable as e:
        return "unserialisable", safe_message(str(e))
    mode, exp = case.get("compare", "plain"), case.get("expected")
    if mode == "exact":  # the assert's own ``==``, now on plain data only
        ok = out == exp
    elif mode == "is":
        ok = out is exp
    elif mode in ("truthy", "falsy"):
        ok = bool(out) == (mode == "truthy")
    else:
        ok = _plain(out) == _plain(exp)
    return ("pass", None) if ok else ("wrong_answer", safe_message(f"got {out!r}"))


_HOST_PATH_RE = re.compile(r"(?<![\w.])/(?:[\w.+-]+/)*[\w.+-]+")


def safe_message(text: Any, cap: int = _MSG_CAP, keep: Sequence[str] = ("/tmp/rk-sbx-",)) -> str:
    """A message that may leave the sandbox: at most ``cap`` characters (head and tail
    kept), absolute paths replaced by ``<path>`` unless under a ``keep`` prefix (the work
    directory) or the interpreter's standard library.

    Example:
        >>> safe_message("FileNotFoundError: '/etc/passwd' in /tmp/rk-sbx-1/solution.py")
        "FileNotFoundError: '<path>' in /tmp/rk-sbx-1/solution.py"
    """
    import sysconfig

    text = str(text)
    allowed = (*tuple(keep), sysconfig.get_paths()["stdlib"])
    text = _HOST_PATH_RE.sub(lambda m: m.group(0) if m.group(0).startswith(allowed) else "<path>", text)
    return text if len(text) <= cap else text[:cap // 2] + " ... " + text[-(cap // 2 - 5):]


def _sample_cause(res: SandboxResult) -> str:
    """Why tests the sandbox never finished failed."""
    if res.error:
        return "sandbox_error"
    if res.timed_out or res.killed_by in ("SIGXCPU", "SIGKILL"):
        return "timeout"
    if res.output_limit_exceeded:
        return "output_limit"
    if "MemoryError" in res.stderr[-2000:]:
        return "memory"
    return "runtime_error"


def run_tests(code: str, tests: Any, limits: SandboxLimits | None = None,
              per_test_timeout: float = 2.0, runner: Callable[..., SandboxResult] | None = None) -> TestReport:
    """Run all ``tests`` against ``code`` in one sandboxed child; verdicts are reached here
    (call/stdio outputs) or in the checker process (other assert code), never in the child.

    Example:
        >>> run_tests("def f(x):\\n    return 2 * x", ["assert f(2) == 4", "assert f(3) == 7"]).statuses
        ['pass', 'wrong_answer']
    """
    cases = normalize_tests(tests)
    inputs, index, checks = split_tests(code, cases, per_test_timeout)
    res = (runner or run_python)(code, tests=inputs, checks=checks, limits=limits, per_test_timeout=per_test_timeout)
    statuses = ["not_run"] * len(cases)
    details: list[dict[str, Any]] = [{} for _ in cases]
    setup = next((r for r in res.channel if "setup" in r), None)
    conv = {i: (_as_call(str(cases[i].get("code", ""))) if cases[i].get("type", "assert") == "assert" else cases[i])
            for i in index}
    for rec in res.channel:
        j = rec.get("i")
        if isinstance(j, int) and 0 <= j < len(index):
            i = index[j]
            statuses[i], msg = _compare(conv[i], rec)
            details[i] = {"time": rec.get("time", 0.0), **({"error": msg} if msg else {})}
    for rec in res.checks:
        i = rec.get("i")
        if isinstance(i, int) and 0 <= i < len(cases) and i not in conv:
            st = str(rec.get("status", "runtime_error"))
            statuses[i] = st if st in STATUSES or st == "crashed" else "runtime_error"
            details[i] = {"time": rec.get("time", 0.0)}
            if rec.get("error"):
                details[i]["error"] = safe_message(rec["error"])
    cause = _sample_cause(res)
    statuses = [cause if s in ("not_run", "crashed") else s for s in statuses]
    if setup is not None and setup.get("setup") not in (None, "ok"):
        for d in details:
            d.setdefault("setup_error", safe_message(setup.get("error", "")))
    blocked = next((r["blocked"] for r in res.channel if isinstance(r.get("blocked"), list)), None)
    rep = TestReport(statuses, details, res)
    if blocked:
        rep.blocked_events = [str(b)[:40] for b in blocked[:20]]
    return rep


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

    Budget per sample: a completion over 200,000 characters gets 0 and ``too_large`` before
    code extraction (which is linear below the cap) and before anything reaches the sandbox;
    the sandbox then bounds time and memory (``limits``, ``per_test_timeout``).
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
        self.budget = DEFAULT_BUDGETS["code"]
        self._pool: Any = None
        self._pool_lock = threading.Lock()
        self._stats: dict[str, Any] = {"samples": 0, "errors": {}, "tests": {}, "blocked_attempts": 0}

    # pickling drops the sandbox pool (processes) and its lock; the copy starts its own on first use
    _transient: ClassVar[dict[str, Callable[[], Any]]] = {"_pool": lambda: None, "_pool_lock": threading.Lock}

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
        big = self.budget.too_large(completion, 0.0, {"pass_rate": 0.0, "all_pass": 0.0})
        if big is not None:  # before extraction and before anything reaches the sandbox
            return big
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
        error = rep.error
        info = {"tests": [{"status": s, **d} for s, d in zip(rep.statuses, rep.details, strict=False)],
                "passed": rep.passed, "total": rep.total}
        if rep.blocked_events:
            info["blocked_events"] = rep.blocked_events
        if sb is not None:
            info.update(wall_time=sb.wall_time, returncode=sb.returncode, isolation=sb.isolation,
                        stderr_tail=safe_message(sb.stderr[-_MSG_CAP:]))
        self._count(error, rep.statuses, bool(rep.blocked_events))
        return VerifyResult(value, {"pass_rate": rep.pass_rate, "all_pass": float(rep.all_pass)}, code, error,
                            latency=sb.wall_time if sb else 0.0, info=info)

    def _count(self, error: str | None, statuses: Sequence[str], blocked: bool) -> None:
        with self._pool_lock:
            st = self._stats
            st["samples"] += 1
            if error:
                st["errors"][error] = st["errors"].get(error, 0) + 1
            for s in statuses:
                st["tests"][s] = st["tests"].get(s, 0) + 1
            st["blocked_attempts"] += int(blocked)

    def stats(self) -> dict[str, Any]:
        """Counts since creation: ``samples``, ``errors`` (sample error type → count),
        ``tests`` (per-test status → count) and ``blocked_attempts`` (samples in which the
        guard refused an action, even if the solution caught the refusal)."""
        with self._pool_lock:
            st = self._stats
            return {"samples": st["samples"], "errors": dict(st["errors"]), "tests": dict(st["tests"]),
                    "blocked_attempts": st["blocked_attempts"]}

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
