"""The escape suite: each probe must be blocked or contained, and the host unaffected.

Every probe runs on both backends (a fresh sandboxed interpreter per run, and the warm
fork server), and where meaningful twice: with the default configuration and with the
in-process audit guard switched off, to show the OS layers (namespaces, rlimits,
privilege drop, empty env, wall deadline) contain it on their own.
"""

import os
import socket
import threading
import time

import pytest

from rewardkit.verify.code.forkserver import ForkServer
from rewardkit.verify.code.sandbox import SandboxLimits, SandboxUnavailable
from rewardkit.verify.code.sandbox import run_python as fresh_run

GUARD_ON = SandboxLimits(wall_seconds=3.0, cpu_seconds=2.0)
GUARD_OFF = SandboxLimits(wall_seconds=3.0, cpu_seconds=2.0, audit_guard=False)
BOTH = pytest.mark.parametrize("limits", [GUARD_ON, GUARD_OFF], ids=["guard", "os-only"])
ROOT = os.geteuid() == 0
_SERVER = {}


@pytest.fixture(params=["fresh", "exec", "forkserver"])
def run_python(request):
    """The sandbox entry point of each backend (same signature): a fresh one-shot server
    (the default), a fresh exec'd chain without mount namespace, a warm fork server."""
    if request.param == "fresh":
        return fresh_run
    if request.param == "exec":
        return lambda *a, **k: fresh_run(*a, via="exec", **k)
    if "fs" not in _SERVER:
        try:
            _SERVER["fs"] = ForkServer()
        except SandboxUnavailable:
            pytest.skip("fork server needs root and a PID namespace")
    return _SERVER["fs"].run


def teardown_module(module):
    if "fs" in _SERVER:
        _SERVER.pop("fs").close()
    if "srv" in _SF:
        _SF.pop("srv").close()


@pytest.fixture()
def outside(tmp_path):
    d = tmp_path / "host"
    d.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(d, 0o755)
    return d


@BOTH
def test_file_write_outside_cwd(outside, limits, run_python):
    target = outside / "pwned.txt"
    r = run_python(f"open({str(target)!r}, 'w').write('x')", limits=limits)
    # guard: PermissionError; OS only: EACCES (root-owned dir), or the directory is not
    # even visible (fork server: private /tmp) / read-only
    assert r.returncode != 0 and any(e in r.stderr for e in ("PermissionError", "FileNotFoundError",
                                                              "Read-only file system"))
    assert not target.exists()


def test_fork_server_filesystem_is_read_only_with_private_tmp(outside):
    """Without the audit guard, the fork server's mount namespace still keeps every
    write off the host: ``/`` is read-only, ``/tmp`` & co. are private tmpfs wiped per job."""
    try:
        fs = ForkServer(limits=GUARD_OFF)
    except SandboxUnavailable:
        pytest.skip("fork server needs root and a PID namespace")
    os.chmod(outside, 0o777)  # world-writable on the host
    host_tmp = f"/tmp/rk_escape_{os.getpid()}_{time.time_ns()}"
    with fs:
        r = fs.run(f"import os\nfor p in ({str(outside / 'w')!r}, {host_tmp!r}, '/var/tmp/x', '/dev/shm/x', '/etc/x'):\n"
                   f"    try:\n        open(p, 'w').write('x')\n        print('wrote', p)\n"
                   f"    except OSError as e:\n        print(type(e).__name__, p)\n"
                   f"os.system('touch {outside}/cmd')")
        assert r.isolation["filesystem_isolated"], r.isolation
        assert f"wrote {host_tmp}" in r.stdout  # into the private tmpfs ...
        assert not os.path.exists(host_tmp)  # ... which the host never sees
        assert any(f"{e} /etc/x" in r.stdout for e in ("OSError", "PermissionError", "FileNotFoundError"))
        assert list(outside.iterdir()) == []
        r2 = fs.run(f"import os\nprint(os.path.exists({host_tmp!r}), sorted(os.listdir('/tmp')))")
        assert r2.stdout.startswith("False")  # wiped before the next job


def test_write_to_world_writable_tmp_is_blocked_by_guard(run_python):
    target = f"/tmp/rk_escape_{os.getpid()}_{time.time_ns()}"
    r = run_python(f"open({target!r}, 'w').write('x')", limits=GUARD_ON)
    assert r.returncode != 0 and not os.path.exists(target)


def test_posix_system_and_posix_spawn(outside, run_python):
    os.chmod(outside, 0o777)  # writable by anyone: only the sandbox can stop the marker
    for i, src in enumerate([
        f"import posix\nposix.system('touch {outside}/m0')",
        f"import os\nos.posix_spawn('/usr/bin/touch', ['touch', '{outside}/m1'], {{}})",
        f"import subprocess\nsubprocess.run(['touch', '{outside}/m2'])",
        f"import ctypes\nctypes.CDLL(None).system(b'touch {outside}/m3')",
    ]):
        r = run_python(src, limits=GUARD_ON)
        assert r.returncode != 0 and "PermissionError: sandbox" in r.stderr, (i, r.stderr[-300:])
    assert list(outside.iterdir()) == []


@BOTH
def test_parent_environment_does_not_leak(monkeypatch, limits, run_python):
    monkeypatch.setenv("RK_FAKE_SECRET", "s3cr3t-token-123")
    src = (f"import os\nprint(os.environ)\n"
           f"for p in ('/proc/{os.getpid()}/environ', '/proc/1/environ', '/proc/self/environ'):\n"
           f"    try:\n        print(open(p, 'rb').read())\n    except Exception as e:\n        print(type(e).__name__)\n")
    r = run_python(src, limits=limits)
    assert "s3cr3t" not in r.stdout + r.stderr
    if ROOT:  # the parent's /proc/<pid>/environ is not readable (exec path) or /proc is not there (minimal root)
        assert "PermissionError" in r.stdout or "FileNotFoundError" in r.stdout


@BOTH
def test_socket_to_loopback_listener(limits, run_python):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    got = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                got.append(conn.recv(100))
                conn.close()
            except OSError:
                pass

    th = threading.Thread(target=accept)
    th.start()
    r = run_python(f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=1)\ns.sendall(b'leak')",
                   limits=limits)
    time.sleep(0.3)
    stop.set()
    th.join()
    srv.close()
    assert got == []
    assert r.returncode != 0 and ("PermissionError" in r.stderr or "OSError" in r.stderr
                                  or "unreachable" in r.stderr.lower() or "refused" in r.stderr.lower())


def _processes_labelled(label: str) -> int:
    n = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    n += f"rk-sandbox:{label}".encode() in f.read()
            except OSError:
                pass
    return n


def _jobs_in_namespace(ns: str) -> int:
    """Processes in the server's PID namespace that are not the (root) server itself."""
    n = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.readlink(f"/proc/{pid}/ns/pid") == ns and os.stat(f"/proc/{pid}").st_uid != 0:
                    n += 1
            except OSError:
                pass
    return n


@BOTH
def test_fork_bomb_in_fork_server_is_killed_with_its_namespace(limits):
    try:
        fs = ForkServer()
    except SandboxUnavailable:
        pytest.skip("fork server needs root and a PID namespace")
    with fs:
        fs.run("pass")
        ns = os.readlink(f"/proc/{fs._proc.pid}/ns/pid_for_children")
        src = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
        seen = []
        th = threading.Thread(target=lambda: (time.sleep(1.0), seen.append(_jobs_in_namespace(ns))))
        th.start()
        r = fs.run(src, limits=limits)
        th.join()
        assert r.timed_out or r.killed_by in ("SIGXCPU", "SIGKILL")  # stopped by the wall or CPU limit
        assert seen[0] >= 1  # the probe saw the job running ...
        assert _jobs_in_namespace(ns) == 0  # ... and nothing of it is left
        assert fs.run("print(7)").stdout == "7\n" and fs.restarts == 0  # the server is fine


@pytest.mark.parametrize("limits,via", [(GUARD_ON, "auto"), (GUARD_OFF, "auto"), (GUARD_OFF, "exec")],
                         ids=["guard", "os-only", "os-only-exec"])
def test_fork_bomb_is_contained(limits, via):
    def run_python(*a, **k):
        return fresh_run(*a, via=via, **k)

    label = f"forkbomb{os.getpid()}{int(limits.audit_guard)}{via}"
    src = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    t = time.perf_counter()
    seen = []
    th = threading.Thread(target=lambda: (time.sleep(1.0), seen.append(_processes_labelled(label))))
    th.start()
    r = run_python(src, limits=limits, label=label)
    th.join()
    assert time.perf_counter() - t < limits.wall_seconds + 3
    assert r.timed_out or r.killed_by in ("SIGXCPU", "SIGKILL")  # stopped by the wall or CPU limit
    assert seen[0] >= 1  # the probe really saw the bomb running ...
    time.sleep(0.2)
    assert _processes_labelled(label) == 0  # ... and nothing is left behind


@BOTH
def test_memory_bomb(limits, run_python):
    r = run_python("x = bytearray(4 * 1024 ** 3)\nprint('allocated')", limits=limits)
    assert r.returncode != 0 and "allocated" not in r.stdout and "MemoryError" in r.stderr


def test_sleep_hits_the_wall_deadline(run_python):
    t = time.perf_counter()
    r = run_python("import time\ntime.sleep(100)", limits=SandboxLimits(wall_seconds=1.0))
    assert r.timed_out and r.killed_by == "SIGKILL"
    assert time.perf_counter() - t < 2.5


def test_stdout_flood_is_cut(run_python):
    lim = SandboxLimits(wall_seconds=5.0, max_output_bytes=100_000)
    t = time.perf_counter()
    r = run_python("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", limits=lim)
    assert r.output_limit_exceeded and len(r.stdout) == 100_000
    assert time.perf_counter() - t < 3


@BOTH
def test_killing_the_parent_fails(limits, run_python):
    me = os.getpid()
    r = run_python(f"import os, signal\nos.kill({me}, signal.SIGKILL)\nos.kill(os.getppid(), signal.SIGKILL)",
                   limits=limits)
    assert r.returncode != 0
    assert os.getpid() == me  # still alive


def test_big_file_is_cut_by_fsize(run_python):
    r = run_python("f = open('big.bin', 'wb')\nf.write(b'x' * (8 * 1024 * 1024))\nf.close()\nprint('done')",
                   limits=SandboxLimits(max_file_mb=1.0, audit_guard=False))
    assert "done" not in r.stdout and r.returncode != 0


def test_a_fork_bomb_does_not_starve_concurrent_runs():
    """Each run has its own uid, so RLIMIT_NPROC is per run: a concurrent fork bomb
    (guard off, exec path) cannot make other sandboxes fail to start."""
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    th = threading.Thread(target=fresh_run, args=(bomb,), kwargs={"limits": GUARD_OFF, "via": "exec"})
    th.start()
    time.sleep(0.8)  # the bomb is at its process limit now
    outs = [fresh_run("print(6 * 7)", via=via).stdout for via in ("exec", "server", "exec")]
    th.join()
    assert outs == ["42\n"] * 3


# ---- the three families of issue #10: verdicts, host files, error types ---------------------
import json  # noqa: E402

from rewardkit.verify.code.runner import CodeVerifier, run_tests  # noqa: E402
from rewardkit.verify.code.sandboxfusion import SandboxFusionVerifier, serve_local  # noqa: E402

BACKENDS = ["fresh", "exec", "forkserver", "sandboxfusion"]
_SF = {}


def score(backend, code, tests, limits=None):
    """(per-test statuses, sample error type, every text the result carries) on one backend."""
    lim = limits or SandboxLimits(wall_seconds=6.0, cpu_seconds=3.0)
    if backend == "sandboxfusion":
        if "srv" not in _SF:
            _SF["srv"] = serve_local(limits=lim)
        r = SandboxFusionVerifier(_SF["srv"].url, run_timeout=3).verify(code, tests=tests)
        return [t["status"] for t in r.info["tests"]], r.error, json.dumps(r.info)
    if backend == "forkserver":
        if "fs" not in _SERVER:
            try:
                _SERVER["fs"] = ForkServer()
            except SandboxUnavailable:
                pytest.skip("fork server needs root and a PID namespace")
        runner = _SERVER["fs"].run
    else:
        via = "exec" if backend == "exec" else "auto"
        runner = lambda *a, **k: fresh_run(*a, via=via, **k)  # noqa: E731
    rep = run_tests(code, tests, lim, per_test_timeout=1.0, runner=runner)
    text = json.dumps(rep.details) + "\n" + rep.sandbox.stderr + rep.sandbox.stdout
    return rep.statuses, rep.error, text


ALWAYS_EQUAL = "class A:\n    def __eq__(self, o):\n        return True\n    __hash__ = None\n"
FAMILY_1 = {
    "always-equal object": ALWAYS_EQUAL + "def f(x):\n    return A()\n",
    "always-equal str subclass": "class S(str):\n    def __eq__(self, o):\n        return True\n"
                                 "def f(x):\n    return S('nope')\n",
    "always-equal int subclass": "class I(int):\n    __eq__ = lambda s, o: True\n    __hash__ = int.__hash__\n"
                                 "def f(x):\n    return I(0)\n",
    "expected value read from the caller's frame":
        "import sys\ndef f(x):\n    fr = sys._getframe(1)\n    while fr is not None:\n"
        "        ints = [c for c in fr.f_code.co_consts if type(c) is int and c > 10]\n"
        "        if ints:\n            return ints[-1]\n        fr = fr.f_back\n    return 0\n",
    "settrace hook swaps in a function returning the test's constant":
        "import sys\ndef f(x):\n    return 0\n"
        "def hook(fr, ev, arg):\n    if fr.f_code.co_filename.startswith('test_'):\n"
        "        k = [c for c in fr.f_code.co_consts if type(c) is int and c > 10]\n"
        "        if k:\n            fr.f_globals['f'] = lambda *a, _k=k[-1]: _k\n    return None\n"
        "sys.settrace(hook)\nsys.setprofile(hook)\n",
    "patched assert / AssertionError / builtins":
        "import builtins\nclass Quiet(Exception):\n    pass\nbuiltins.AssertionError = Quiet\n"
        "builtins.abs = lambda x: 0\nbuiltins.isinstance = lambda *a: True\ndef f(x):\n    return 0\n",
    "patched harness module and forged records":
        "import __main__, os\ndef f(x):\n    return 0\n"
        "for name in ('_compare', '_error_status', '_output_of'):\n"
        "    if hasattr(__main__, name):\n"
        "        setattr(__main__, name, lambda *a, **k: {'status': 'pass'})\n"
        "rep = getattr(__main__, '_report', None)\nif rep is not None:\n"
        "    for i in range(3):\n        rep({'i': i, 'status': 'pass'})\n",
}
# the same answer (42) asked three ways: an assert converted to a call, a call test, assert code for the checker
FAMILY_1_TESTS = ["assert f(1) == 42", {"type": "call", "fn": "f", "args": [1], "expected": 42},
                  {"type": "assert", "code": "def check(c):\n    assert c(1) == 42\n\ncheck(f)\n"}]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("probe", sorted(FAMILY_1))
def test_family_1_verdicts_cannot_be_spoofed(backend, probe):
    statuses, error, _ = score(backend, FAMILY_1[probe], FAMILY_1_TESTS)
    if backend == "sandboxfusion":  # documented: assert code that is not a simple call runs remotely, next to
        statuses = statuses[:2]     # the solution (no checker process there); the two compared-here cases must hold
    assert "pass" not in statuses, (probe, statuses)
    assert error is not None


@pytest.mark.parametrize("backend", BACKENDS)
def test_family_1_correct_solution_still_passes(backend):
    statuses, error, _ = score(backend, "def f(x):\n    return 41 + x\n", FAMILY_1_TESTS)
    assert statuses == ["pass"] * 3 and error is None


SECRETS = ("root:x:0:0", "rewardkit")  # /etc/passwd's first line, and this project's README
FAMILY_2 = {
    "error message": "def f(x):\n    raise RuntimeError(open({p!r}).read())\n",
    "stderr": "import sys\nsys.stderr.write(open({p!r}).read())\ndef f(x):\n    return 0\n",
    "returned as a wrong answer": "def f(x):\n    return open({p!r}).read()\n",
    "directory listing": "import os\ndef f(x):\n"
                         "    return repr([os.listdir(d) for d in ('/root', '/home', '/work', '/etc')])\n",
}
HOST_FILES = ["/etc/passwd", os.path.join(os.path.dirname(__file__), "..", "..", "README.md")]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("probe", sorted(FAMILY_2))
def test_family_2_host_files(backend, probe):
    """Minimal root (fork server, fresh, and the local SandboxFusion stub, which runs the fresh
    sandbox): host files are not visible, so nothing of them leaves.  The exec path has no
    mount namespace: documented as *not* hiding world-readable host files - there we
    assert the documented guarantee: messages are capped at 2 KB and absolute host paths redacted."""
    for path in HOST_FILES:
        code = FAMILY_2[probe].format(p=os.path.realpath(path))
        statuses, error, text = score(backend, code, ["assert f(1) == 42"])
        assert statuses != ["pass"] and error is not None
        if backend == "exec":
            details = json.loads(text.split("\n", 1)[0])
            assert all(len(d.get("error", "")) <= 2048 for d in details)
        else:
            assert not any(s in text for s in SECRETS), (probe, path, text[:300])
            if probe != "directory listing" and backend != "sandboxfusion":  # its results carry statuses only
                assert "FileNotFoundError" in text or "No such file" in text, text[:300]


def test_family_2_exec_backend_guarantee_is_stated_truthfully():
    """The exec path *can* read world-readable host files (docs/verify-code.md says so); the
    message that carries them is capped at 2 KB and host paths in it are redacted."""
    code = "def f(x):\n    raise RuntimeError('/etc/passwd says ' + open('/etc/passwd').read() * 50)\n"
    statuses, error, text = score("exec", code, ["assert f(1) == 42"])
    assert statuses == ["runtime_error"] and error == "runtime_error"
    msg = json.loads(text.split("\n", 1)[0])[0]["error"]
    assert len(msg) <= 2048 and "root:x:0:0" in msg and "/etc/passwd" not in msg and "<path>" in msg


FAMILY_3 = [
    ("blocked at load", "import os\nos.system('true')\ndef f(x):\n    return 42\n", "blocked"),
    ("blocked in the call", "import socket\ndef f(x):\n    socket.socket()\n    return 42\n", "blocked"),
    ("blocked write outside", "def f(x):\n    open('/rk-outside', 'w')\n    return 42\n", "blocked"),
    ("infinite loop in the call", "def f(x):\n    while True:\n        pass\n", "timeout"),
    ("infinite loop at load", "while True:\n    pass\ndef f(x):\n    return 42\n", "timeout"),
    ("sleep in the call", "import time\ndef f(x):\n    time.sleep(30)\n", "timeout"),
    ("memory bomb", "def f(x):\n    return len(bytearray(8 * 1024 ** 3))\n", "memory"),
    ("runtime error", "def f(x):\n    return 1 // 0\n", "runtime_error"),
    ("syntax error", "def f(x:\n    return 42\n", "syntax_error"),
    ("unserialisable", "def f(x):\n    return object()\n", "unserialisable"),
    ("wrong answer", "def f(x):\n    return 41\n", "wrong_answer"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,code,expected", FAMILY_3, ids=[f[0] for f in FAMILY_3])
def test_family_3_every_non_pass_has_an_error_type(backend, name, code, expected):
    statuses, error, _ = score(backend, code, ["assert f(1) == 42", FAMILY_1_TESTS[2]])
    assert "pass" not in statuses and None not in statuses
    if backend == "sandboxfusion":
        assert error is not None  # one request per case: the remote's own status mapping
        return
    assert error == expected, (statuses, error)


def test_family_3_counted_in_stats():
    v = CodeVerifier(workers=1, limits=SandboxLimits(wall_seconds=4.0, cpu_seconds=2.0), per_test_timeout=0.5)
    for code in ("import os\nos.system('true')\ndef f(x):\n    return 42\n",
                 "def f(x):\n    while True:\n        pass\n", "def f(x):\n    return 42\n",
                 "import os\ndef f(x):\n    try:\n        os.system('x')\n"
                 "    except PermissionError:\n        pass\n    return 42\n"):
        v.verify(code, tests=["assert f(1) == 42"])
    st = v.stats()
    v.close()
    assert st["samples"] == 4 and st["errors"] == {"blocked": 1, "timeout": 1}
    assert st["tests"]["pass"] == 2 and st["blocked_attempts"] == 2  # a caught refusal is still counted
