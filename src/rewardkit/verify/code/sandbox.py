"""A local process sandbox for untrusted (model-generated) Python code.

No service, no container: one short-lived child process per run, confined by the
kernel.  The layers, outermost first:

1. **namespaces** (``unshare``, util-linux): a fresh *network* namespace (only a
   down loopback: no network at all) and a fresh *PID* namespace whose init is the
   program, so when it dies the kernel kills every process it left behind;
2. **resource limits** (``prlimit``): ``RLIMIT_CPU``, ``RLIMIT_AS`` (memory),
   ``RLIMIT_NPROC`` (fork bombs), ``RLIMIT_FSIZE`` (file size), ``RLIMIT_NOFILE``,
   ``RLIMIT_CORE=0`` (no core dumps);
3. **privilege drop** (``setpriv``): when run as root, the program runs as
   a fresh unprivileged uid (:func:`sandbox_uid`) with no capabilities and ``no_new_privs`` – it cannot write the
   host's files, read other users' ``/proc/<pid>/environ`` or signal the parent
   (and ``RLIMIT_NPROC`` is only enforced for non-root users);
4. **environment**: an empty environment (no secrets leak), a private temporary
   working directory removed afterwards, an isolated interpreter
   (``python -I -S -B``: no user site, no ``PYTHON*`` variables, no site-packages);
5. **a wall-clock deadline** enforced by the parent, which kills the whole process
   group; stdout/stderr are read incrementally and capped – a flood is cut and the
   run killed;
6. **defence in depth** inside the child: a ``sys.addaudithook`` guard that refuses
   ``os.system``, ``posix_spawn``, ``fork``, ``subprocess``, sockets, ``ctypes``,
   signals and writes outside the working directory (PEP 578, Dower & Dickinson,
   2019, "Python Runtime Audit Hooks").  Audit hooks are *not* a security boundary
   on their own; layers 1-5 are.

Each layer that cannot be set up on this machine is skipped and reported in
:class:`SandboxResult.isolation` (``network_isolated``, ``pid_namespace``,
``privileges_dropped``, ``rlimits``), so callers can refuse to run untrusted code
without the layers they require (``SandboxLimits(network="isolate")`` raises).

Cost: about 30–60 ms per run on this machine (one interpreter start-up).  Design
follows the measurements in the project notes (plain subprocess + rlimits + netns),
and the threat list of the HumanEval execution harness (Chen et al., 2021,
"Evaluating Large Language Models Trained on Code").

Example:
    >>> r = run_python("print(sum(range(10)))")
    >>> r.returncode, r.stdout.strip(), r.timed_out
    (0, '45', False)
    >>> run_python("import os; os.system('true')").returncode != 0
    True
"""

from __future__ import annotations

import ast
import functools
import marshal
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Mapping, Sequence

from rewardkit.core.errors import ConfigError

__all__ = [
    "SandboxLimits",
    "SandboxResult",
    "SandboxUnavailable",
    "run_python",
    "sandbox_capabilities",
    "sandbox_python",
    "sandbox_uid",
]

_HARNESS_SOURCE = (Path(__file__).with_name("_harness.py")).read_text(encoding="utf-8")
_NOBODY = 65534
_UID_BASE, _UID_SPAN = 200_000, 60_000


def sandbox_uid() -> int:
    """A fresh unprivileged uid for one run (random in 200000-259999, no passwd entry).

    Each run (or fork-server job) gets its own uid, so ``RLIMIT_NPROC`` – counted per
    uid – and signal permissions are per run: a fork bomb in one solution cannot starve
    concurrently running solutions of processes, nor signal them.
    """
    return _UID_BASE + secrets.randbelow(_UID_SPAN)


class SandboxUnavailable(RuntimeError):
    """A required isolation layer cannot be set up on this machine."""


@dataclass(frozen=True)
class SandboxLimits:
    """Limits and isolation settings of one sandboxed run.

    Attributes:
        wall_seconds: wall-clock deadline of the whole run (the process group is killed).
        cpu_seconds: ``RLIMIT_CPU``.
        memory_mb: ``RLIMIT_AS`` (address space).
        max_processes: ``RLIMIT_NPROC`` (processes/threads of the sandbox user).
        max_file_mb: ``RLIMIT_FSIZE`` (largest file the program may write).
        max_open_files: ``RLIMIT_NOFILE``.
        max_output_bytes: cap on captured stdout and on stderr each; exceeding it kills the run.
        network: ``"isolate"`` (require a network namespace), ``"auto"`` (isolate when
            possible, else report ``network_isolated=False``) or ``"allow"``.
        drop_privileges: ``"auto"`` (run as a fresh unprivileged uid when started as root) or ``"never"``.
        audit_guard: install the in-process audit-hook guard.
        python: interpreter to run; ``""`` (default) picks one with
            :func:`sandbox_python` (this one if the sandbox user can use its standard
            library, else a system interpreter of the same version).
    """

    wall_seconds: float = 10.0
    cpu_seconds: float = 5.0
    memory_mb: int = 1024
    max_processes: int = 32
    max_file_mb: float = 1.0
    max_open_files: int = 64
    max_output_bytes: int = 1 << 20
    network: str = "auto"
    drop_privileges: str = "auto"
    audit_guard: bool = True
    python: str = ""

    def __post_init__(self) -> None:
        for name in ("wall_seconds", "cpu_seconds", "max_file_mb"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not v > 0:
                raise ConfigError(name, f"got {v!r}", "a positive number")
        for name in ("memory_mb", "max_processes", "max_open_files", "max_output_bytes"):
            v = getattr(self, name)
            if not isinstance(v, int) or v <= 0:
                raise ConfigError(name, f"got {v!r}", "a positive int")
        if self.network not in ("isolate", "auto", "allow"):
            raise ConfigError("network", f"got {self.network!r}", "'isolate', 'auto' or 'allow'")
        if self.drop_privileges not in ("auto", "never"):
            raise ConfigError("drop_privileges", f"got {self.drop_privileges!r}", "'auto' or 'never'")


@dataclass
class SandboxResult:
    """What happened in one sandboxed run.

    Attributes:
        returncode: exit status (negative: killed by that signal); None if it never started.
        stdout, stderr: captured output (decoded, capped at ``max_output_bytes``).
        timed_out: the wall deadline was hit and the process group killed.
        output_limit_exceeded: stdout or stderr exceeded the cap (the run was killed).
        wall_time: seconds from start to exit.
        isolation: which layers were active (``network_isolated``, ``pid_namespace``,
            ``privileges_dropped``, ``rlimits``, ``audit_guard``).
        channel: records the untrusted child reported (test *outputs*; never trusted as verdicts).
        checks: records of the checker process (verdicts of assert code it ran on plain data).
        error: ``None`` or why the sandbox itself failed (``"spawn_failed:..."``).
    """

    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    output_limit_exceeded: bool = False
    wall_time: float = 0.0
    isolation: dict[str, bool] = field(default_factory=dict)
    channel: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def killed_by(self) -> str | None:
        """Signal name that ended the process (``"SIGKILL"``, ``"SIGXCPU"`` ...), if any."""
        if self.returncode is not None and self.returncode < 0:
            try:
                return signal.Signals(-self.returncode).name
            except ValueError:
                return str(-self.returncode)
        return None


def _probe(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=20, env={}, cwd="/").returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _stdlib_of(py: str, as_nobody: bool) -> str | None:
    pre = [shutil.which("setpriv") or "setpriv", f"--reuid={_NOBODY}", f"--regid={_NOBODY}", "--clear-groups", "--"]
    cmd = (pre if as_nobody else []) + [py, "-I", "-S", "-c",
                                        "import os, sys; print(sys.version_info[:2], os.path.dirname(os.__file__))"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20, env={}, cwd="/")
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout.strip() if p.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def sandbox_python() -> str:
    """The interpreter sandboxed code runs with.

    An unprivileged sandbox user (probed as ``nobody``) must be able to read the interpreter's own standard
    library: an interpreter installed under a private home (``/root/.pyenv`` with
    ``/root`` mode 0700) silently falls back to another stdlib when run as ``nobody``
    and cannot import anything new in the fork server.  So: this interpreter if
    ``nobody`` sees the same stdlib as we do, else the first system interpreter of
    the same ``major.minor`` that passes the same check.
    """
    me = os.path.realpath(sys.executable)
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return me
    ver = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for cand in (me, f"/usr/bin/python{ver}", f"/usr/local/bin/python{ver}", "/usr/bin/python3"):
        if os.path.exists(cand):
            root_view = _stdlib_of(cand, False)
            if root_view and root_view == _stdlib_of(cand, True):
                return cand
    return me


@functools.lru_cache(maxsize=8)
def sandbox_capabilities(python: str | None = None) -> dict[str, bool]:
    """Which isolation layers work here (probed once per interpreter, then cached).

    Example:
        >>> sorted(sandbox_capabilities())
        ['drop_privileges', 'net_namespace', 'pid_namespace', 'prlimit']
    """
    py = python or sandbox_python()
    unshare, prlimit, setpriv = shutil.which("unshare"), shutil.which("prlimit"), shutil.which("setpriv")
    caps = {
        "net_namespace": bool(unshare) and _probe([unshare, "-n", "--", "true"]),
        "pid_namespace": bool(unshare) and _probe([unshare, "-n", "-p", "-f", "--kill-child", "--", "true"]),
        "prlimit": bool(prlimit) and _probe([prlimit, "--nofile=64", "--", "true"]),
        "drop_privileges": bool(setpriv) and os.geteuid() == 0 and _probe(
            [setpriv, f"--reuid={_NOBODY}", f"--regid={_NOBODY}", "--clear-groups", "--no-new-privs", "--",
             py, "-I", "-S", "-c", "pass"]),
    }
    if not caps["net_namespace"] and unshare:  # unprivileged users: a user namespace gives a netns
        caps["net_namespace_user"] = _probe([unshare, "-U", "-r", "-n", "--", "true"])
    return caps


def _command(limits: SandboxLimits, result_fd: int | str, label: str = "",
             uid: int = _NOBODY) -> tuple[list[str], dict[str, bool]]:
    py = limits.python or sandbox_python()
    caps = sandbox_capabilities(py)
    cmd: list[str] = []
    iso = {"network_isolated": False, "pid_namespace": False, "privileges_dropped": False, "rlimits": False,
           "audit_guard": bool(limits.audit_guard)}
    unshare = shutil.which("unshare") or "unshare"
    if limits.network != "allow":
        if caps.get("pid_namespace"):
            cmd += [unshare, "-n", "-p", "-f", "--kill-child", "--"]
            iso["network_isolated"] = iso["pid_namespace"] = True
        elif caps.get("net_namespace"):
            cmd += [unshare, "-n", "--"]
            iso["network_isolated"] = True
        elif caps.get("net_namespace_user"):
            cmd += [unshare, "-U", "-r", "-n", "--"]
            iso["network_isolated"] = True
        elif limits.network == "isolate":
            raise SandboxUnavailable("network isolation requested (network='isolate') but unshare -n does not work "
                                     "here; use network='auto' to run without it")
    if caps.get("prlimit"):
        mem = int(limits.memory_mb) * 1024 * 1024
        cpu = max(1, round(limits.cpu_seconds))
        cmd += [shutil.which("prlimit") or "prlimit", f"--cpu={cpu}:{cpu + 1}", f"--as={mem}",
                f"--nproc={limits.max_processes}", f"--fsize={int(limits.max_file_mb * 1024 * 1024)}",
                "--core=0", f"--nofile={limits.max_open_files}", "--"]
        iso["rlimits"] = True
    if limits.drop_privileges == "auto" and caps.get("drop_privileges"):
        cmd += [shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--no-new-privs", "--"]
        iso["privileges_dropped"] = True
    cmd += [py, "-I", "-S", "-B", "-c", _HARNESS_SOURCE, str(result_fd), "rk-sandbox:" + label]
    return cmd, iso


def _fallback_rlimits(limits: SandboxLimits):  # pragma: no cover - only without util-linux prlimit
    def apply() -> None:
        import resource

        mem = int(limits.memory_mb) * 1024 * 1024
        cpu = max(1, round(limits.cpu_seconds))
        for res, val in ((resource.RLIMIT_AS, (mem, mem)), (resource.RLIMIT_CPU, (cpu, cpu + 1)),
                         (resource.RLIMIT_NPROC, (limits.max_processes,) * 2), (resource.RLIMIT_CORE, (0, 0)),
                         (resource.RLIMIT_FSIZE, (int(limits.max_file_mb * 1024 * 1024),) * 2),
                         (resource.RLIMIT_NOFILE, (limits.max_open_files,) * 2)):
            try:
                resource.setrlimit(res, val)
            except (ValueError, OSError):
                pass
    return apply


def run_python(source: str, stdin: str | bytes = "", limits: SandboxLimits | None = None, *,
               tests: Sequence[Mapping[str, Any]] | None = None, per_test_timeout: float = 0.0,
               files: Mapping[str, str | bytes] | None = None, argv: Sequence[str] = (),
               label: str = "", via: str = "auto", checks: Mapping[str, Any] | None = None) -> SandboxResult:
    """Run Python ``source`` in a fresh sandbox and return what happened.

    ``via="server"`` starts a one-shot :class:`~rewardkit.verify.code.forkserver.ForkServer`
    for this run (adds a private mount namespace: read-only ``/``, private ``/tmp``);
    ``via="exec"`` execs the program directly under ``unshare``/``prlimit``/``setpriv``
    (no mount namespace; works without root); ``"auto"`` uses the server when it is
    available (root, PID namespace, privilege drop) and the network is isolated.
    Other arguments as in :func:`_run_exec`.
    """
    if via not in ("auto", "server", "exec"):
        raise ConfigError("via", f"got {via!r}", "'auto', 'server' or 'exec'")
    lim = limits or _DEFAULT_LIMITS
    if via == "server" or (via == "auto" and _server_available(lim)):
        from .forkserver import ForkServer

        fs = ForkServer(lim, preload=(), label=label, one_shot=True)
        try:
            return fs.run(source, stdin, lim, tests=tests, per_test_timeout=per_test_timeout, files=files, argv=argv,
                          checks=checks)
        finally:
            fs.close()
    return _run_exec(source, stdin, lim, tests=tests, per_test_timeout=per_test_timeout, files=files, argv=argv,
                     label=label, checks=checks)


def _server_available(lim: SandboxLimits) -> bool:
    if lim.network == "allow" or lim.drop_privileges == "never" or os.geteuid() != 0:
        return False
    caps = sandbox_capabilities(lim.python or sandbox_python())
    return bool(caps.get("pid_namespace") and caps.get("drop_privileges"))


def _run_exec(source: str, stdin: str | bytes = "", limits: SandboxLimits | None = None, *,
              tests: Sequence[Mapping[str, Any]] | None = None, per_test_timeout: float = 0.0,
              files: Mapping[str, str | bytes] | None = None, argv: Sequence[str] = (),
              label: str = "", checks: Mapping[str, Any] | None = None) -> SandboxResult:
    """Run Python ``source`` in a fresh exec'd sandbox and return what happened.

    Args:
        source: the program.
        stdin: data fed to its standard input.
        limits: a :class:`SandboxLimits` (defaults are sized for unit-test snippets).
        tests: if given, the harness loads ``source`` once and runs these test cases in
            the same child, reporting one record per test in ``result.channel``
            (see :mod:`rewardkit.verify.code.runner` for the test formats).
        per_test_timeout: seconds per test case inside the child (0: only the wall deadline).
        files: extra files to create in the working directory (name → content).
        argv: ``sys.argv[1:]`` of the program.
        label: shown in the child's command line (``ps``) as ``rk-sandbox:<label>``.
        checks: assert code for the checker process (``{"tests": [{"i", "code", "timeout"}],
            "names": [...], "per_test_timeout"}``, see :func:`~rewardkit.verify.code.runner.split_tests`);
            sent on a pipe only the checker reads.
    """
    lim = limits or _DEFAULT_LIMITS
    t_start = time.perf_counter()
    workdir = tempfile.mkdtemp(prefix="rk-sbx-")
    read_fd = write_fd = -1
    ck_fds: list[int] = []
    proc = None
    try:
        job = {"mode": "tests" if tests is not None else "script", "source": str(source),
               "tests": [dict(t) for t in (tests or [])], "per_test_timeout": float(per_test_timeout),
               "guard": bool(lim.audit_guard), "argv": [str(a) for a in argv], "nonce": secrets.token_hex(16)}
        nonce = job["nonce"]
        try:
            blob = marshal.dumps(job)
        except ValueError as e:
            raise ConfigError("tests", f"cannot be serialised ({e})",
                              "plain data: str, int, float, list, dict, None") from e
        _write_workdir(workdir, blob, files)
        read_fd, write_fd = os.pipe()
        check_blob = _check_blob(checks, nonce)
        fd_arg = str(write_fd)
        if check_blob:
            data_r, data_w = os.pipe()
            out_r, out_w = os.pipe()
            ck_fds = [data_r, data_w, out_r, out_w]
            fd_arg = f"{write_fd},{data_r},{out_w}"
        uid = sandbox_uid()
        cmd, iso = _command(lim, fd_arg, "".join(c for c in str(label) if c.isalnum() or c in "-_.")[:64], uid)
        if iso["privileges_dropped"]:
            _chown_tree(workdir, uid)
            os.chmod(workdir, 0o700)
        preexec = None if iso["rlimits"] else _fallback_rlimits(lim)
        iso["rlimits"] = True
        try:
            passed = (write_fd, ck_fds[0], ck_fds[3]) if ck_fds else (write_fd,)
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    cwd=workdir, env={}, pass_fds=passed, start_new_session=True,
                                    preexec_fn=preexec, close_fds=True)
        except (OSError, subprocess.SubprocessError) as e:
            return SandboxResult(None, error=f"spawn_failed:{type(e).__name__}: {e}", isolation=iso,
                                 wall_time=time.perf_counter() - t_start)
        for fd in [write_fd] + ([ck_fds[0], ck_fds[3]] if ck_fds else []):
            os.close(fd)
        write_fd = -1
        if ck_fds:
            ck_fds = [ck_fds[1], ck_fds[2]]
        data_fd, ck_fds = (ck_fds[0], ck_fds[1:]) if ck_fds else (-1, [])  # _communicate closes data_fd
        out = _communicate(proc, stdin, read_fd, lim, t_start, data_fd, ck_fds[0] if ck_fds else -1, check_blob)
        stdout, stderr, chan, timed_out, flooded, chk = out
        records, returncode = parse_records(chan, nonce), proc.returncode
        for rec in [r for r in records if isinstance(r.get("signal"), int)]:  # reported by the namespace init
            returncode = -rec["signal"]
            records.remove(rec)
        return SandboxResult(returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"),
                             timed_out, flooded, time.perf_counter() - t_start, iso, records,
                             checks=parse_records(chk, nonce))
    finally:
        if proc is not None and proc.poll() is None:
            _kill_group(proc)
        for fd in (read_fd, write_fd, *ck_fds):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        shutil.rmtree(workdir, ignore_errors=True)


def _write_workdir(workdir: str, job_blob: bytes, files: Mapping[str, str | bytes] | None) -> None:
    """Write the harness's job file and the program's extra ``files`` (relative names only) into ``workdir``."""
    Path(workdir, "_rk_job.bin").write_bytes(job_blob)
    for name, content in (files or {}).items():
        p = Path(workdir, name).resolve()
        if not str(p).startswith(str(Path(workdir).resolve()) + os.sep):
            raise ConfigError(f"files[{name!r}]", "points outside the working directory", "a relative file name")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else bytes(content))


def _chown_tree(path: str, uid: int) -> None:
    """Give ``path`` and everything under it to ``uid`` (user and group)."""
    for root, dirs, fls in os.walk(path):
        for n in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in fls)]:
            os.chown(n, uid, uid)


def _check_blob(checks: Mapping[str, Any] | None, nonce: str) -> bytes:
    """The checker's data (marshal of plain data), or ``b""`` when there is nothing to check."""
    if not checks or not checks.get("tests"):
        return b""
    try:
        return marshal.dumps({**dict(checks), "nonce": nonce})
    except ValueError as e:
        raise ConfigError("tests", f"cannot be serialised ({e})",
                          "plain data: str, int, float, list, dict, None") from None


AST_LOCK = threading.Lock()  # CPython 3.11's ast.parse is not thread-safe ("recursion depth mismatch")


def parse_records(chan: bytes, nonce: str) -> list[dict[str, Any]]:
    """The records on a result pipe that carry this run's nonce (garbage is skipped)."""
    records = []
    for line in chan.decode("utf-8", "replace").splitlines():
        if len(line) > 16 << 20:
            continue
        try:
            with AST_LOCK:
                rec = ast.literal_eval(line)
        except Exception:  # garbage written by the program
            continue
        if isinstance(rec, dict) and rec.pop("nonce", None) == nonce:
            records.append(rec)
    return records


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        proc.kill()
    except OSError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass


def _communicate(proc: subprocess.Popen, stdin: str | bytes, chan_fd: int, lim: SandboxLimits,
                 t_start: float, data_fd: int = -1, check_fd: int = -1,
                 check_data: bytes = b"") -> tuple[bytes, bytes, bytes, bool, bool, bytes]:
    """Feed stdin (and the checker's data), read stdout/stderr/result channels with caps,
    enforce the wall deadline."""
    cap = lim.max_output_bytes
    bufs = {"out": bytearray(), "err": bytearray(), "chan": bytearray(), "chk": bytearray()}
    caps = {"out": cap, "err": cap, "chan": 8 * cap, "chk": 8 * cap}
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    sel.register(chan_fd, selectors.EVENT_READ, "chan")
    open_readers = 3
    if check_fd >= 0:
        sel.register(check_fd, selectors.EVENT_READ, "chk")
        open_readers += 1
    pending = {"in": stdin.encode() if isinstance(stdin, str) else bytes(stdin or b""), "data": check_data}
    if pending["in"]:
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin, selectors.EVENT_WRITE, "in")
    else:
        proc.stdin.close()
    if data_fd >= 0:
        os.set_blocking(data_fd, False)
        sel.register(data_fd, selectors.EVENT_WRITE, "data")
    deadline = t_start + lim.wall_seconds
    timed_out = flooded = False
    try:
        while open_readers:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in sel.select(timeout=min(remaining, 0.5)):
                tag = key.data
                if tag in pending:
                    _feed(sel, key, pending, tag, proc)
                    continue
                eof, over_cap = _read_capped(key.fd, bufs[tag], caps[tag])
                if eof:
                    sel.unregister(key.fileobj)
                    open_readers -= 1
                flooded = flooded or over_cap
            if flooded:
                break
        if timed_out or flooded:
            _kill_group(proc)
        else:
            try:
                proc.wait(timeout=max(0.1, deadline - time.perf_counter()))
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc)
    finally:
        sel.close()
        _close_pipes(proc, data_fd if not pending.get("data_closed") else -1)
    return bytes(bufs["out"]), bytes(bufs["err"]), bytes(bufs["chan"]), timed_out, flooded, bytes(bufs["chk"])


def _read_capped(fd: int, buf: bytearray, cap: int) -> tuple[bool, bool]:
    """Read one chunk from ``fd`` into ``buf``, keeping at most ``cap`` bytes: (end of file, went past the cap)."""
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        chunk = b""
    if not chunk:
        return True, False
    room = cap - len(buf)
    if room > 0:
        buf += chunk[:room]
    return False, len(chunk) > room


def _close_pipes(proc: subprocess.Popen, data_fd: int) -> None:
    """Close the child's standard pipes and (if ``>= 0``) the checker-data pipe."""
    assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
    if data_fd >= 0:
        os.close(data_fd)
    if not proc.stdin.closed:
        try:
            proc.stdin.close()
        except OSError:
            pass
    proc.stdout.close()
    proc.stderr.close()


def _feed(sel: selectors.BaseSelector, key: selectors.SelectorKey, pending: dict[str, bytes], tag: str,
          proc: subprocess.Popen) -> None:
    """Write the next chunk of ``pending[tag]``; unregister and close the pipe when done."""
    data = pending[tag]
    try:
        n = os.write(key.fd, data[:65536])
        data = data[n:]
    except (BrokenPipeError, OSError):
        data = b""
    pending[tag] = data
    if not data:
        sel.unregister(key.fileobj)
        if tag == "in":
            proc.stdin.close()
        else:
            os.close(key.fd)
            pending["data_closed"] = b"1"


_DEFAULT_LIMITS = SandboxLimits()
