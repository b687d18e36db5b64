"""The program that runs *inside* the sandbox child (executed with ``python -I -S -c``).

It is kept as a real module so it can be read and linted, but it is never imported
by the parent: :mod:`rewardkit.verify.code.sandbox` passes its source to the child.
It (1) reads and deletes the job file, (2) installs a ``sys.addaudithook`` guard
(Python-level defence in depth; the OS limits are the real boundary), (3) runs the
untrusted program or test cases and (4) reports per-test results on a private pipe,
one ``repr``-ed dict per line (parsed with ``ast.literal_eval``), tagged with a per-run
nonce.

Uses only built-in/frozen modules (``marshal``, ``_signal``, ``io``, ``os``, ``time``):
every import here is paid once per solution, so ``json``, ``signal`` (enum),
``traceback`` (linecache, tokenize, re) are avoided.  Must work with ``-I -S``.
"""

import _signal
import io
import marshal
import os
import sys
import time

_CWD = os.path.realpath(os.getcwd())
_BLOCKED = frozenset({
    "os.system", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.exec", "subprocess.Popen",
    "os.kill", "os.killpg", "signal.pthread_kill", "socket.__new__", "socket.connect", "socket.bind",
    "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto", "socket.sendmsg", "ctypes.dlopen",
    "ctypes.dlsym", "ctypes.call_function", "ctypes.cdata", "os.setuid", "os.setgid", "os.chroot",
    "os.putenv", "os.unsetenv", "pty.spawn", "sys.remote_exec", "os.startfile", "webbrowser.open",
    "gc.get_objects", "gc.get_referrers", "gc.get_referents",
})
_PATH_EVENTS = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 1, "os.rename": 2, "os.symlink": 2, "os.link": 2,
                "os.truncate": 1, "os.chmod": 1, "os.chown": 1, "os.utime": 1, "shutil.rmtree": 1,
                "shutil.copyfile": 2, "shutil.move": 2, "os.chdir": 1, "os.mkfifo": 1, "os.mknod": 1}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_in_hook = [False]


def _inside(path):
    if isinstance(path, int):
        return True
    try:
        p = os.fsdecode(path)
    except TypeError:
        return False
    real = os.path.realpath(os.path.join(_CWD, p))
    return real == _CWD or real.startswith(_CWD + os.sep)


def _guard(event, args):
    if _in_hook[0]:
        return
    if event in _BLOCKED:
        raise PermissionError("sandbox: %s is not allowed" % event)
    if event == "open":
        path, mode, flags = (tuple(args) + (None, None, 0))[:3]
        writing = bool((flags or 0) & _WRITE_FLAGS) or (isinstance(mode, str) and any(c in mode for c in "wax+"))
        if writing:
            _in_hook[0] = True
            try:
                ok = _inside(path)
            finally:
                _in_hook[0] = False
            if not ok:
                raise PermissionError("sandbox: writing outside the working directory is not allowed")
    elif event in _PATH_EVENTS:
        _in_hook[0] = True
        try:
            ok = all(_inside(a) for a in tuple(args)[:_PATH_EVENTS[event]] if isinstance(a, (str, bytes, os.PathLike)))
        finally:
            _in_hook[0] = False
        if not ok:
            raise PermissionError("sandbox: %s outside the working directory is not allowed" % event)


def _make_reporter(fd, nonce):
    def report(record):
        if fd < 0:
            return
        record["nonce"] = nonce
        data = (repr(record).replace("\n", " ") + "\n").encode()
        try:
            while data:
                data = data[os.write(fd, data):]
        except OSError:
            pass
    return report


_report = _make_reporter(-1, "")


class _TestTimeout(BaseException):
    pass


def _on_alarm(signum, frame):
    raise _TestTimeout()


def _normalize_output(s):
    lines = [ln.rstrip() for ln in s.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _plain(x):
    """Tuples as lists, dict keys as strings: how JSON test data sees a return value."""
    if isinstance(x, (tuple, list)):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    return x


def _short_error(e):
    if isinstance(e, _TestTimeout):
        return "timeout", "TimeoutError: test exceeded its time limit"
    try:
        text = str(e)
    except BaseException:  # noqa: B902 - a hostile __str__
        text = "?"
    msg = type(e).__name__ + (": " + text if text else "")
    return "error" if not isinstance(e, AssertionError) else "fail", msg[-500:]


def _run_with_timeout(fn, seconds):
    if seconds and seconds > 0:
        _signal.setitimer(_signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        _signal.setitimer(_signal.ITIMER_REAL, 0)


def _run_tests(source, tests, per_test_timeout):
    ns = {"__name__": "__solution__", "__builtins__": __builtins__}
    t0 = time.perf_counter()
    try:
        _run_with_timeout(lambda: exec(compile(source, "solution.py", "exec"), ns), per_test_timeout)
        _report({"setup": "ok", "time": time.perf_counter() - t0})
        setup_error = None
    except BaseException as e:  # noqa: B902 - untrusted code may raise anything
        status, msg = _short_error(e)
        if isinstance(e, SyntaxError):
            status = "syntax_error"
        setup_error = (status if status != "fail" else "error", msg)
        _report({"setup": setup_error[0], "error": msg, "time": time.perf_counter() - t0})
    for i, test in enumerate(tests):
        t0 = time.perf_counter()
        if setup_error is not None and test.get("type") != "stdio":
            _report({"i": i, "status": setup_error[0], "error": "solution failed to load: " + setup_error[1][-200:],
                     "time": 0.0})
            continue
        timeout = float(test.get("timeout") or per_test_timeout or 0)
        try:
            kind = test.get("type", "assert")
            if kind == "assert":
                _run_with_timeout(lambda: exec(compile(test["code"], "test_%d.py" % i, "exec"), ns), timeout)
                status, msg = "pass", None
            elif kind == "call":
                fn = ns[test["fn"]]
                args = test.get("args", [])
                kwargs = test.get("kwargs", {})
                out = _run_with_timeout(lambda: fn(*args, **kwargs), timeout)
                ok = _plain(out) == _plain(test.get("expected"))
                status, msg = ("pass", None) if ok else ("fail", "got %r" % (out,))
            elif kind == "stdio":
                fresh = {"__name__": "__main__", "__builtins__": __builtins__}
                old_in, old_out = sys.stdin, sys.stdout
                sys.stdin, buf = io.StringIO(test.get("stdin", "")), io.StringIO()
                sys.stdout = buf
                try:
                    _run_with_timeout(lambda: exec(compile(source, "solution.py", "exec"), fresh), timeout)
                except SystemExit:
                    pass
                finally:
                    sys.stdin, sys.stdout = old_in, old_out
                got = _normalize_output(buf.getvalue())
                ok = got == _normalize_output(test.get("stdout", ""))
                status, msg = ("pass", None) if ok else ("fail", "stdout mismatch: %r" % got[-200:])
            else:
                status, msg = "error", "unknown test type %r" % kind
        except SystemExit as e:
            status, msg = "error", "SystemExit(%r) during test" % (e.code,)
        except BaseException as e:  # noqa: B902
            status, msg = _short_error(e)
        rec = {"i": i, "status": status, "time": time.perf_counter() - t0}
        if msg:
            rec["error"] = msg
        _report(rec)
    _report({"done": True})


def _init(job):
    """We are PID 1 of a fresh PID namespace.  PID 1 ignores default-action signals
    (SIGXCPU from RLIMIT_CPU, ...), so run the program in a child and only reap here;
    when we exit, the kernel kills everything left in the namespace."""
    child = os.fork()
    if child == 0:
        return
    status = 0
    while True:
        try:
            pid, st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            status = st
            break
    if os.WIFSIGNALED(status):
        _report({"signal": os.WTERMSIG(status)})
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _main():
    global _report
    result_fd = int(sys.argv[1]) if len(sys.argv) > 1 else -1
    with open("_rk_job.bin", "rb") as f:
        job = marshal.loads(f.read())
    os.remove("_rk_job.bin")
    sys.argv = ["solution.py"] + list(job.get("argv", []))
    _report = _make_reporter(result_fd, job.pop("nonce", ""))
    if os.getpid() == 1:
        _init(job)
    _signal.signal(_signal.SIGALRM, _on_alarm)
    if job.get("guard", True):
        sys.addaudithook(_guard)
    mode, source = job.get("mode", "script"), job.get("source", "")
    if mode == "tests":
        tests, timeout = job.get("tests", []), job.get("per_test_timeout", 0)
        del job
        _run_tests(source, tests, timeout)
    else:
        del job
        main = {"__name__": "__main__", "__builtins__": __builtins__}
        exec(compile(source, "solution.py", "exec"), main)


if __name__ == "__main__":
    _main()
