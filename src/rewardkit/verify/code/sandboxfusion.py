"""Client (and a local stand-in server) for the SandboxFusion ``/run_code`` HTTP API.

SandboxFusion (Bytedance Seed, 2024, "FullStack Bench: Evaluating LLMs as Full
Stack Coders" – the sandbox service released with it) runs code in isolated
containers behind a JSON API; verl's ``sandbox_fusion`` reward calls it once per
test case.  The protocol:

``POST /run_code`` with ``{"code", "language", "compile_timeout", "run_timeout",
"memory_limit_MB", "stdin", "files": {name: base64}, "fetch_files": [...]}`` returns
``{"status": "Success" | "Failed" | "SandboxError", "message", "compile_result",
"run_result": {"status": "Finished" | "Error" | "TimeLimitExceeded",
"execution_time", "return_code", "stdout", "stderr"}, "executor_pod_name", "files"}``.

:class:`SandboxFusionClient` speaks it through the shared client and retry policy
of :mod:`rewardkit.verify.http` (retries on 429, 5xx, timeouts and connection
errors with capped backoff, honouring ``Retry-After``; 3 attempts as in verl's
client; request timeout = compile + run + 10 s).  :class:`SandboxFusionVerifier`
scores solutions against tests through it with verl's per-case status codes mapped to names.  :func:`serve_local` starts a
server on loopback speaking the same protocol, backed by the local
:func:`~rewardkit.verify.code.sandbox.run_python` – a drop-in for development and
the real counterpart of the client in tests.

Example:
    >>> server = serve_local()
    >>> client = SandboxFusionClient(server.url)
    >>> resp = client.run_code("print(input()[::-1])", stdin="abc")
    >>> resp["status"], resp["run_result"]["stdout"]
    ('Success', 'cba\\n')
    >>> server.close()
"""

from __future__ import annotations

import base64
import functools
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from collections.abc import Mapping, Sequence

from rewardkit.core.errors import ConfigError
from rewardkit.verify.http import HTTPClient, RequestError, RetryPolicy, call_with_retry
from rewardkit.verify.result import Verifier, VerifyResult

from . import _harness
from .runner import _as_call, _compare, extract_code, normalize_tests, safe_message
from .sandbox import AST_LOCK, SandboxLimits, run_python

__all__ = ["LocalSandboxFusionServer", "SandboxFusionClient", "SandboxFusionVerifier", "serve_local"]


class SandboxFusionClient:
    """Minimal client of a SandboxFusion-compatible ``/run_code`` endpoint.

    Args:
        url: the service base URL (``http://host:8080``) or the full ``.../run_code`` URL.
        max_retries: attempts (the first included) on 429, 5xx, timeouts and connection errors.
        retry_delay: base backoff in seconds (doubled per retry, capped at 8 s, ``Retry-After`` honoured).
        extra_timeout: added to ``compile_timeout + run_timeout`` for the HTTP timeout of one attempt.
        retry: a full :class:`~rewardkit.verify.http.RetryPolicy` instead of ``max_retries``/``retry_delay``
            (its ``deadline`` bounds one :meth:`run_code`, retries included).
    """

    def __init__(self, url: str, max_retries: int = 3, retry_delay: float = 1.0, extra_timeout: float = 10.0,
                 retry: RetryPolicy | None = None):
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError("url", f"got {url!r}", "an http(s):// URL of a SandboxFusion service")
        self.url = url if url.rstrip("/").endswith("/run_code") else url.rstrip("/") + "/run_code"
        self.max_retries = max(1, int(max_retries))
        self.retry_delay = float(retry_delay)
        self.extra_timeout = float(extra_timeout)
        self.retry = retry or RetryPolicy(max_retries=self.max_retries - 1, base_delay=self.retry_delay,
                                          deadline=None)
        self.http = HTTPClient(timeout=3600.0)

    def run_code(self, code: str, language: str = "python", stdin: str = "", compile_timeout: float = 10,
                 run_timeout: float = 10, memory_limit_mb: int = 1024, files: Mapping[str, bytes | str] | None = None,
                 fetch_files: Sequence[str] = ()) -> dict[str, Any]:
        """POST one run; returns the response JSON, or a ``SandboxError`` dict after retries."""
        payload = {
            "code": code, "language": language, "compile_timeout": compile_timeout, "run_timeout": run_timeout,
            "memory_limit_MB": memory_limit_mb, "stdin": stdin,
            "files": {k: base64.b64encode(v.encode() if isinstance(v, str) else v).decode()
                      for k, v in (files or {}).items()},
            "fetch_files": list(fetch_files),
        }
        timeout = float(compile_timeout) + float(run_timeout) + self.extra_timeout

        def attempt(left: float | None) -> Any:
            return self.http.post_json(self.url, payload, timeout=timeout if left is None else min(timeout, left))

        try:
            reply = call_with_retry(attempt, self.retry)
        except RequestError as e:
            return {"status": "SandboxError", "message": f"request failed: {e.kind}: {e}"[:500],
                    "compile_result": None, "run_result": None, "files": {}}
        if not isinstance(reply, dict):
            return {"status": "SandboxError", "message": f"request failed: not a JSON object: {str(reply)[:200]}",
                    "compile_result": None, "run_result": None, "files": {}}
        return reply


@functools.lru_cache(maxsize=1)
def _encoder_source() -> str:
    import inspect

    with AST_LOCK:  # inspect parses the module; CPython 3.11's parser is not thread-safe
        parts = [inspect.getsource(obj) for obj in (_harness.Unserialisable, _harness._type_name, _harness.encode)]
        return f"\n\n_VALUE_CAP = {_harness._VALUE_CAP:d}\n" + "".join(p + "\n" for p in parts)


def _case_program(code: str, test: Mapping[str, Any], marker: str = "") -> tuple[str, str, dict[str, Any] | None]:
    """(program, stdin, the case to compare in this process - or None: the remote exit status decides).

    A call test (and an ``assert f(<literals>) == <literal>`` converted to one) sends no
    expected value: the program prints ``marker`` + the encoded return value, and
    :meth:`SandboxFusionVerifier._run_case` compares it here.  Other assert code still runs
    remotely next to the solution (see the guarantee table in docs/verify-code.md).
    """
    kind = test.get("type", "assert")
    if kind == "stdio":
        return code, str(test.get("stdin", "")), dict(test)
    case = dict(test) if kind == "call" else _as_call(str(test.get("code", "")))
    if case is None:
        return code + "\n\n" + str(test.get("code", "")) + "\n", "", None
    blob = json.dumps({"args": case.get("args", []), "kwargs": case.get("kwargs", {})})
    check = (f"\n\nimport json as _rk_j\n_rk_c = _rk_j.loads({blob!r})\n"
             f"_rk_o = {case['fn']}(*_rk_c['args'], **_rk_c['kwargs'])\n" + _encoder_source() +
             f"print('\\n' + {marker!r} + encode(_rk_o))\n")
    return code + check, "", case


def _remote_error(stderr: str, is_assert: bool) -> str:
    """The error type of a failed remote run, from the tail of its stderr."""
    last = safe_message(stderr[-_harness._MSG_CAP:]).strip().split("\n")[-1]
    if is_assert and last.startswith("AssertionError"):
        return "wrong_answer"
    if last.startswith("MemoryError"):
        return "memory"
    if "sandbox:" in last or last.startswith("PermissionError"):
        return "blocked"
    if last.startswith("SyntaxError"):
        return "syntax_error"
    if "Unserialisable" in last:
        return "unserialisable"
    return "runtime_error"


class SandboxFusionVerifier(Verifier):
    """Unit-test reward through a SandboxFusion-compatible service (one request per case,
    as verl does).  Per-case statuses: ``pass``, ``wrong_answer``, ``runtime_error`` (verl −2),
    ``timeout`` (−3), ``compile_error`` (−4), ``api_error`` (−1), ``memory``, ``blocked``,
    ``syntax_error``, ``unserialisable``.  Call and stdio outputs (and simple asserts,
    converted to calls) are compared in this process.

    Args:
        url: service URL.
        tests_column, mode: as in :class:`~rewardkit.verify.code.runner.CodeVerifier`.
        run_timeout, memory_limit_mb: per-request limits sent to the service.
        concurrency: simultaneous requests per solution batch.
    """

    name = "code_tests_remote"

    def __init__(self, url: str, tests_column: str = "tests", mode: str = "pass_rate", run_timeout: float = 10,
                 memory_limit_mb: int = 1024, concurrency: int = 8, client: SandboxFusionClient | None = None):
        if mode not in ("pass_rate", "all_pass"):
            raise ConfigError("mode", f"got {mode!r}", "'pass_rate' or 'all_pass'")
        self.client = client or SandboxFusionClient(url)
        self.tests_column = tests_column
        self.reference_columns = (tests_column,)
        self.mode = mode
        self.run_timeout = run_timeout
        self.memory_limit_mb = memory_limit_mb
        self.concurrency = max(1, int(concurrency))

    def _run_case(self, code: str, test: Mapping[str, Any]) -> str:
        import secrets

        marker = "rk-out-" + secrets.token_hex(8) + ":"
        prog, stdin, case = _case_program(code, test, marker)
        resp = self.client.run_code(prog, stdin=stdin, run_timeout=self.run_timeout,
                                    memory_limit_mb=self.memory_limit_mb)
        status = resp.get("status")
        comp = resp.get("compile_result") or {}
        run = resp.get("run_result") or {}
        if status == "SandboxError" or (not run and not comp):
            return "api_error"
        if comp and (comp.get("status") not in (None, "Finished") or comp.get("return_code", 0) != 0):
            return "compile_error"
        if run.get("status") == "TimeLimitExceeded":
            return "timeout"
        stdout, stderr = str(run.get("stdout", "")), str(run.get("stderr", ""))
        if run.get("status") != "Finished" or run.get("return_code", 1) != 0:
            return _remote_error(stderr, case is None)
        if case is None:
            return "pass"
        if case.get("type") == "stdio":
            return _compare(case, {"stdout": stdout})[0]
        line = next((ln for ln in reversed(stdout.split("\n")) if ln.startswith(marker)), None)
        if line is None:
            return "unserialisable"
        return _compare(case, {"out": line[len(marker):]})[0]

    def verify(self, completion: str, **references: Any) -> VerifyResult:
        tests = references.get(self.tests_column, references.get("tests"))
        if tests is None:
            return VerifyResult(0.0, {"pass_rate": 0.0, "all_pass": 0.0}, None, "missing_reference")
        code = extract_code(completion)
        if code is None:
            return VerifyResult(0.0, {"pass_rate": 0.0, "all_pass": 0.0}, None, "no_code")
        cases = normalize_tests(tests, self.tests_column)
        with ThreadPoolExecutor(min(self.concurrency, max(1, len(cases)))) as ex:
            statuses = list(ex.map(lambda t: self._run_case(code, t), cases))
        passed = sum(s == "pass" for s in statuses)
        rate = passed / len(statuses) if statuses else 0.0
        allp = float(bool(statuses) and passed == len(statuses))
        order = ("api_error", "compile_error", "timeout", "memory", "blocked", "syntax_error", "unserialisable",
                 "runtime_error", "wrong_answer")
        err = next((e for e in order if e in statuses), None)
        return VerifyResult(rate if self.mode == "pass_rate" else allp, {"pass_rate": rate, "all_pass": allp}, code,
                            err, info={"tests": [{"status": s} for s in statuses]})


# -- a local server speaking the same protocol -------------------------------------------
class LocalSandboxFusionServer:
    """A ``ThreadingHTTPServer`` on loopback serving ``POST /run_code`` with the local sandbox.

    Only ``language="python"`` is supported; ``fetch_files`` returns nothing.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, limits: SandboxLimits | None = None):
        base = limits or SandboxLimits()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:  # keep test output quiet
                pass

            def _send(self, code: int, obj: Mapping[str, Any]) -> None:
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # http.server API
                if self.path.rstrip("/") != "/run_code":
                    self._send(404, {"detail": "Not Found"})
                    return
                try:
                    n = int(self.headers.get("Content-Length", "0"))
                    req = json.loads(self.rfile.read(n).decode("utf-8"))
                    if not isinstance(req, dict) or not isinstance(req.get("code"), str):
                        raise ValueError("body must be a JSON object with a string 'code'")
                except (ValueError, UnicodeDecodeError) as e:
                    self._send(422, {"detail": str(e)})
                    return
                outer.requests += 1
                self._send(200, outer.handle(req, base))

        self.requests = 0
        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="sandboxfusion-local", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @staticmethod
    def handle(req: Mapping[str, Any], base: SandboxLimits) -> dict[str, Any]:
        """Map one ``/run_code`` request to a response using :func:`run_python`."""
        if req.get("language", "python") != "python":
            return {"status": "SandboxError", "message": f"unsupported language {req.get('language')!r}",
                    "compile_result": None, "run_result": None, "executor_pod_name": "local", "files": {}}
        run_timeout = float(req.get("run_timeout") or base.wall_seconds)
        mem = int(req.get("memory_limit_MB") or -1)
        lim = SandboxLimits(wall_seconds=max(0.1, run_timeout), cpu_seconds=max(1.0, run_timeout),
                            memory_mb=mem if mem > 0 else base.memory_mb, max_processes=base.max_processes,
                            max_file_mb=base.max_file_mb, max_output_bytes=base.max_output_bytes,
                            network=base.network, drop_privileges=base.drop_privileges, audit_guard=base.audit_guard,
                            python=base.python)
        try:
            files = {k: base64.b64decode(v) for k, v in (req.get("files") or {}).items()}
        except (ValueError, TypeError):
            return {"status": "SandboxError", "message": "files must be base64", "compile_result": None,
                    "run_result": None, "executor_pod_name": "local", "files": {}}
        res = run_python(req["code"], stdin=str(req.get("stdin") or ""), limits=lim, files=files)
        if res.error:
            return {"status": "SandboxError", "message": res.error, "compile_result": None, "run_result": None,
                    "executor_pod_name": "local", "files": {}}
        status = "TimeLimitExceeded" if res.timed_out else "Finished"
        run = {"status": status, "execution_time": round(res.wall_time, 4), "return_code": res.returncode,
               "stdout": res.stdout, "stderr": res.stderr}
        ok = status == "Finished" and res.returncode == 0
        return {"status": "Success" if ok else "Failed", "message": "", "compile_result": None, "run_result": run,
                "executor_pod_name": "local", "files": {}}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def serve_local(host: str = "127.0.0.1", port: int = 0, limits: SandboxLimits | None = None) -> LocalSandboxFusionServer:
    """Start a :class:`LocalSandboxFusionServer` in a background thread (``port=0``: any free port)."""
    return LocalSandboxFusionServer(host, port, limits)
