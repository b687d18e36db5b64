"""A warm sandbox: one long-lived, namespaced fork server per worker.

:func:`~rewardkit.verify.code.sandbox.run_python` starts a fresh interpreter inside
fresh namespaces for every solution – the strongest isolation, but ~40–70 ms of
fixed cost per run on this machine (interpreter start-up, namespace creation and
teardown, imports).  For RL throughput, :class:`ForkServer` pays those once:

* the server is started like a sandboxed run (``unshare -n -p -f -m``: no network, its
  own PID and mount namespaces, empty environment, isolated interpreter) but stays root
  *inside* the namespaces; it makes ``/`` read-only and mounts private tmpfs on the
  world-writable directories (``/tmp``, ``/var/tmp``, ``/dev/shm``, ``/run/lock``), then
  pre-imports common standard-library modules;
* per job it ``fork``\\ s a child which sets its own rlimits (CPU, address space,
  processes, file size, open files, no core), drops to a fresh unprivileged uid (no capabilities),
  enters a private ``0700`` directory and runs the job with the same harness and
  audit-hook guard as the fresh sandbox;
* when the job ends (or hits its wall deadline, or floods its output) the server –
  PID 1 of the namespace – kills **every other process in the namespace**
  (``kill(-1)``), reaps them and removes the directory.

Isolation from the host is the same as the fresh sandbox.  Between jobs of the same
server it is weaker: jobs share the (empty) network namespace and the server's
memory image, so a job could read remnants of earlier jobs' sources from memory it
inherited – irrelevant for reward computation, but use ``backend="fresh"`` when
solutions must not see each other at all.  The child runs as a different uid than
the server, so it cannot signal, ptrace or read the server.

The server needs root and a PID namespace (``kill(-1)`` is only safe there); on
machines without them :class:`SandboxUnavailable` is raised and
:class:`~rewardkit.verify.code.runner.CodeVerifier` falls back to fresh runs.

Example:
    >>> with ForkServer() as fs:
    ...     r = fs.run("print(sum(range(5)))")
    >>> r.stdout, r.returncode
    ('10\\n', 0)
"""

from __future__ import annotations

import atexit
import os
import queue
import secrets
import select
import shutil
import subprocess
import threading
import time
from typing import Any
from collections.abc import Mapping, Sequence

from rewardkit.core.errors import ConfigError

from .sandbox import (_HARNESS_SOURCE, SandboxLimits, SandboxResult, SandboxUnavailable, _check_blob, _kill_group,
                      parse_records, sandbox_capabilities, sandbox_python, sandbox_uid)

__all__ = ["DEFAULT_PRELOAD", "ForkServer", "ForkServerPool"]

#: standard-library modules imported once in the server (children inherit them)
DEFAULT_PRELOAD = ("typing", "math", "collections", "itertools", "functools", "heapq", "bisect", "string", "re",
                   "fractions", "statistics", "copy", "operator", "random", "json", "hashlib", "datetime")


class ForkServer:
    """One warm, namespaced fork server (thread-safe: one job at a time).

    Args:
        limits: default per-job :class:`SandboxLimits` (``network`` and
            ``drop_privileges`` are fixed per server).
        preload: modules the server imports once.
        label: shown in the server's (and its jobs') command line as ``rk-sandbox:<label>``.
        one_shot: this server runs a single job (``run_python(via="server")``).
        isolate_fs: give the server a private mount namespace with a read-only ``/`` and
            private tmpfs on ``/tmp``, ``/var/tmp``, ``/dev/shm``, ``/run/lock`` (reported
            as ``isolation["filesystem_isolated"]``).
    """

    def __init__(self, limits: SandboxLimits | None = None, preload: Sequence[str] = DEFAULT_PRELOAD,
                 isolate_fs: bool = True, label: str = "", one_shot: bool = False):
        self.limits = limits or SandboxLimits()
        self.isolate_fs = bool(isolate_fs)
        self.label = "".join(c for c in str(label) if c.isalnum() or c in "-_.")[:64]
        self.one_shot = bool(one_shot)
        self.python = self.limits.python or sandbox_python()
        caps = sandbox_capabilities(self.python)
        if os.geteuid() != 0 or not caps.get("pid_namespace") or not caps.get("drop_privileges"):
            raise SandboxUnavailable("the fork server needs root, a PID namespace and setpriv-style privilege drop")
        if self.limits.network == "allow":
            raise ConfigError("network", "'allow' is not supported by the fork server", "'auto' or 'isolate'")
        self.preload = tuple(preload)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self.restarts = 0
        self.jobs = 0

    # -- process management -----------------------------------------------------------
    def _start(self) -> subprocess.Popen:
        unshare, prlimit = shutil.which("unshare") or "unshare", shutil.which("prlimit") or "prlimit"
        ns = ["-n", "-p", "-f", "-m"] if self.isolate_fs else ["-n", "-p", "-f"]
        cmd = [unshare, *ns, "--kill-child", "--", prlimit, "--core=0", "--",
               self.python, "-I", "-S", "-B", "-c", _HARNESS_SOURCE, "--serve", ",".join(self.preload),
               "--isolate-fs" if self.isolate_fs else "--shared-fs", "rk-sandbox:" + self.label]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      env={}, cwd="/", start_new_session=True)
        return self._proc

    def _stop(self) -> None:
        p, self._proc = self._proc, None
        if p is None:
            return
        _kill_group(p)
        for f in (p.stdin, p.stdout):
            try:
                f.close()
            except (OSError, AttributeError):
                pass

    def close(self) -> None:
        """Stop the server."""
        with self._lock:
            self._stop()

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the API ------------------------------------------------------------------------
    def run(self, source: str, stdin: str | bytes = "", limits: SandboxLimits | None = None, *,
            tests: Sequence[Mapping[str, Any]] | None = None, per_test_timeout: float = 0.0,
            files: Mapping[str, str | bytes] | None = None, argv: Sequence[str] = (),
            label: str = "", checks: Mapping[str, Any] | None = None) -> SandboxResult:
        """Same contract as :func:`~rewardkit.verify.code.sandbox.run_python`.

        ``checks`` travel after the job and are read by the server only after it forked the
        job, into a buffer it wipes: neither this job nor a later one inherits them.
        """
        lim = limits or self.limits
        nonce = secrets.token_hex(16)
        check_blob = _check_blob(checks, nonce)
        uid = sandbox_uid()
        job = {
            "mode": "tests" if tests is not None else "script", "source": str(source),
            "tests": [dict(t) for t in (tests or [])], "per_test_timeout": float(per_test_timeout),
            "guard": bool(lim.audit_guard), "argv": [str(a) for a in argv], "nonce": nonce,
            "stdin": stdin.encode() if isinstance(stdin, str) else bytes(stdin or b""),
            "files": {str(k): (v.encode() if isinstance(v, str) else bytes(v)) for k, v in (files or {}).items()},
            "checks_len": len(check_blob),
            "limits": {"uid": uid, "uid2": uid + 1 if uid + 1 < 260_000 else uid - 1,
                       "cpu": max(1, round(lim.cpu_seconds)), "mem": int(lim.memory_mb) << 20,
                       "nproc": int(lim.max_processes), "fsize": int(lim.max_file_mb * (1 << 20)),
                       "nofile": int(lim.max_open_files), "wall": float(lim.wall_seconds),
                       "out_cap": int(lim.max_output_bytes)},
        }
        for name in job["files"]:
            if name.startswith("/") or ".." in name.split("/"):
                raise ConfigError(f"files[{name!r}]", "points outside the working directory", "a relative file name")
        import marshal

        try:
            blob = marshal.dumps(job)
        except ValueError as e:
            raise ConfigError("tests", f"cannot be serialised ({e})",
                              "plain data: str, int, float, list, dict, None") from e
        iso = {"network_isolated": True, "pid_namespace": True, "privileges_dropped": True, "rlimits": True,
               "audit_guard": bool(lim.audit_guard), "fork_server": not self.one_shot}
        t0 = time.perf_counter()
        with self._lock:
            reply = self._exchange(blob, lim.wall_seconds + 10.0, check_blob)
        if reply is None:
            return SandboxResult(None, timed_out=True, wall_time=time.perf_counter() - t0, isolation=iso,
                                 error="fork_server_unresponsive")
        if "error" in reply:
            return SandboxResult(None, wall_time=time.perf_counter() - t0, isolation=iso,
                                 error=f"fork_server:{reply['error']}"[:300])
        self.jobs += 1
        iso["filesystem_isolated"] = bool(reply.get("fs_isolated"))
        iso["minimal_root"] = reply.get("fs_isolated") == "minimal_root"
        return SandboxResult(reply["returncode"], reply["stdout"].decode("utf-8", "replace"),
                             reply["stderr"].decode("utf-8", "replace"), reply["timed_out"], reply["flooded"],
                             reply["wall"], iso, parse_records(reply["chan"], nonce),
                             checks=parse_records(reply.get("checks", b""), nonce))

    def _exchange(self, blob: bytes, timeout: float, extra: bytes = b"") -> dict | None:
        import marshal

        for attempt in range(2):
            p = self._proc if self._proc is not None and self._proc.poll() is None else None
            if p is None:
                if self._proc is not None:
                    self._stop()
                    self.restarts += 1
                p = self._start()
            try:
                p.stdin.write(len(blob).to_bytes(4, "big") + blob + extra)
                p.stdin.flush()
                head = self._read(p, 4, timeout)
                body = self._read(p, int.from_bytes(head, "big"), timeout)
                return marshal.loads(body)
            except (OSError, EOFError, ValueError, TimeoutError):
                self._stop()
                self.restarts += 1
                if attempt == 1:
                    return None
        return None

    @staticmethod
    def _read(p: subprocess.Popen, n: int, timeout: float) -> bytes:
        fd = p.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf


class ForkServerPool:
    """``size`` fork servers shared by many threads (each run checks one out)."""

    def __init__(self, size: int = 2, limits: SandboxLimits | None = None, preload: Sequence[str] = DEFAULT_PRELOAD):
        self.servers = [ForkServer(limits, preload) for _ in range(max(1, int(size)))]
        self._idle: queue.Queue[ForkServer] = queue.Queue()
        for s in self.servers:
            self._idle.put(s)
        _LIVE.append(self)

    def run(self, source: str, *args: Any, **kw: Any) -> SandboxResult:
        s = self._idle.get()
        try:
            return s.run(source, *args, **kw)
        finally:
            self._idle.put(s)

    def close(self) -> None:
        for s in self.servers:
            s.close()


_LIVE: list[ForkServerPool] = []


@atexit.register
def _close_all() -> None:
    for p in _LIVE:
        try:
            p.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
