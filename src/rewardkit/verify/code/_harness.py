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


def _take_work(job):
    """Arm SIGALRM and the audit guard; return the work ``(mode, source, tests, per_test_timeout)``.

    Callers ``del job`` right after, so the untrusted program never finds the job in a frame.
    """
    _signal.signal(_signal.SIGALRM, _on_alarm)
    if job.get("guard", True):
        sys.addaudithook(_guard)
    return job.get("mode", "script"), job.get("source", ""), job.get("tests", []), job.get("per_test_timeout", 0)


def _run_work(mode, source, tests, timeout):
    """Run the untrusted program: its test cases, or the script as ``__main__``."""
    if mode == "tests":
        _run_tests(source, tests, timeout)
    else:
        main = {"__name__": "__main__", "__builtins__": __builtins__}
        exec(compile(source, "solution.py", "exec"), main)


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
    work = _take_work(job)
    del job
    _run_work(*work)


# -- fork-server mode ----------------------------------------------------------------------
# ``python -c <this> --serve <preload>`` runs as root and PID 1 of fresh network and PID
# namespaces.  Per job it forks a child that sets its rlimits, drops to the sandbox uid,
# enters a private directory and runs the job exactly like ``_main``; afterwards every
# other process in the namespace is killed (``kill(-1)`` from PID 1 reaches only the
# namespace).  Interpreter start-up and namespace creation are paid once per server.
def _read_exact(fd, n):
    buf = b""
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def _send_msg(fd, obj):
    data = marshal.dumps(obj)
    data = len(data).to_bytes(4, "big") + data
    while data:
        data = data[os.write(fd, data):]


def _kill_namespace():
    if os.getpid() != 1:  # never kill(-1) outside a private PID namespace
        return
    try:
        os.kill(-1, 9)
    except OSError:
        pass
    while True:
        try:
            pid, _st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue


def _remove_tree(path):
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            try:
                os.unlink(os.path.join(root, name))
            except OSError:
                pass
        for name in dirs:
            p = os.path.join(root, name)
            try:
                os.rmdir(p) if not os.path.islink(p) else os.unlink(p)
            except OSError:
                pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def _child(job, chan_fd):
    global _report, _CWD
    _CWD = os.path.realpath(os.getcwd())
    _report = _make_reporter(chan_fd, job.pop("nonce", ""))
    sys.argv = ["solution.py"] + list(job.get("argv", []))
    code = 0
    work = _take_work(job)
    del job
    try:
        _run_work(*work)
    except SystemExit as e:
        c = e.code
        code = c if isinstance(c, int) else (0 if c is None else 1)
        if c is not None and not isinstance(c, int):
            try:
                sys.stderr.write(str(c) + "\n")
            except BaseException:  # noqa: B902
                pass
    except BaseException:  # noqa: B902 - report like the interpreter would
        try:
            sys.excepthook(*sys.exc_info())
        except BaseException:  # noqa: B902
            pass
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: B902
            pass
    os._exit(code & 0xFF)


def _serve_one(job, resource, select):
    lim = job.pop("limits")
    uid = lim["uid"]
    d = "/tmp/rk-sbx-" + os.urandom(8).hex()
    os.mkdir(d, 0o700)
    for name, content in (job.pop("files", None) or {}).items():
        path = os.path.join(d, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)
    for root, dirs, files in os.walk(d):
        for n in [root] + [os.path.join(root, x) for x in dirs + files]:
            os.chown(n, uid, uid)
    stdin_data = job.pop("stdin", b"")
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    ch_r, ch_w = os.pipe()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(in_r, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            for fd in (in_r, in_w, out_r, out_w, err_r, err_w, ch_r, _PROTO[0], _PROTO[1]):
                if fd > 2:
                    os.close(fd)
            os.setsid()
            cpu = lim["cpu"]
            for res, val in ((resource.RLIMIT_CPU, (cpu, cpu + 1)), (resource.RLIMIT_AS, (lim["mem"],) * 2),
                             (resource.RLIMIT_NPROC, (lim["nproc"],) * 2), (resource.RLIMIT_FSIZE, (lim["fsize"],) * 2),
                             (resource.RLIMIT_CORE, (0, 0)), (resource.RLIMIT_NOFILE, (lim["nofile"],) * 2)):
                resource.setrlimit(res, val)
            os.chdir(d)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            _child(job, ch_w)
        except BaseException:  # noqa: B902
            pass
        os._exit(70)
    for fd in (in_r, out_w, err_w, ch_w):
        os.close(fd)
    cap = lim["out_cap"]
    bufs = {out_r: bytearray(), err_r: bytearray(), ch_r: bytearray()}
    caps = {out_r: cap, err_r: cap, ch_r: 8 * cap}
    readers = [out_r, err_r, ch_r]
    writers = [in_w] if stdin_data else []
    if not stdin_data:
        os.close(in_w)
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    deadline = t0 + lim["wall"]
    status = None
    timed_out = flooded = False
    while True:
        if status is None:
            p, st = os.waitpid(pid, os.WNOHANG)
            if p:
                status = st
        if status is not None and not readers:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = status is None
            break
        watch = readers + ([pidfd] if pidfd is not None and status is None else [])
        wait = min(remaining, 0.5 if pidfd is not None else 0.005)
        if status is not None:
            wait = 0
        r, w, _x = select.select(watch, writers, [], wait)
        if status is not None and not r and not w:
            break  # child gone, pipes drained (stragglers are killed below)
        for fd in w:
            try:
                n = os.write(fd, stdin_data[:65536])
                stdin_data = stdin_data[n:]
            except OSError:
                stdin_data = b""
            if not stdin_data:
                writers.remove(fd)
                os.close(fd)
        for fd in r:
            if fd == pidfd:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                readers.remove(fd)
                continue
            b = bufs[fd]
            room = caps[fd] - len(b)
            if room > 0:
                b += chunk[:room]
            if len(chunk) > room:
                flooded = True
        if flooded:
            break
    _kill_namespace()
    if status is None:
        try:
            _p, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = 9
    wall = time.monotonic() - t0
    for fd in readers + writers + ([pidfd] if pidfd is not None else []):
        try:
            os.close(fd)
        except OSError:
            pass
    for fd in (out_r, err_r, ch_r):
        try:
            os.close(fd)
        except OSError:
            pass
    _remove_tree(d)
    if _FS_ISOLATED[0]:  # private tmpfs: wipe what the job left, so the next job starts clean
        for base in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
            try:
                names = os.listdir(base)
            except OSError:
                continue
            for name in names:
                p = os.path.join(base, name)
                if os.path.isdir(p) and not os.path.islink(p):
                    _remove_tree(p)
                else:
                    try:
                        os.unlink(p)
                    except OSError:
                        pass
    rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return {"returncode": rc, "stdout": bytes(bufs[out_r]), "stderr": bytes(bufs[err_r]),
            "chan": bytes(bufs[ch_r]), "timed_out": timed_out, "flooded": flooded, "wall": wall,
            "fs_isolated": _FS_ISOLATED[0]}


_PROTO = (-1, -1)
_FS_ISOLATED = [False]


def _isolate_filesystem():
    """In our private mount namespace: make ``/`` read-only and put fresh tmpfs on the
    world-writable directories, so jobs cannot write anywhere on the host (only into
    their own directory on a private, size-limited ``/tmp``).  Never raises."""
    try:
        import ctypes
    except ImportError:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18

    def mount(src, target, fstype, flags, data):
        return libc.mount(src and src.encode(), target.encode(), fstype and fstype.encode(), flags,
                          data and data.encode()) == 0

    if not mount(None, "/", None, MS_REC | MS_PRIVATE, None):  # nothing propagates to the host
        return False
    if not (mount("/", "/", None, MS_BIND | MS_REC, None)
            and mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY, None)):
        return False
    ok = True
    for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
        if os.path.isdir(d):
            ok = mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777") and ok
    return ok


def _serve():
    global _PROTO
    import resource
    import select

    if os.getpid() == 1 and len(sys.argv) > 3 and sys.argv[3] == "--isolate-fs":
        _FS_ISOLATED[0] = _isolate_filesystem()

    proto_in, proto_out = os.dup(0), os.dup(1)
    _PROTO = (proto_in, proto_out)
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    for name in (sys.argv[2].split(",") if len(sys.argv) > 2 and sys.argv[2] else []):
        try:
            __import__(name)
        except BaseException:  # noqa: B902
            pass
    while True:
        try:
            n = int.from_bytes(_read_exact(proto_in, 4), "big")
            job = marshal.loads(_read_exact(proto_in, n))
        except (EOFError, OSError, ValueError):
            os._exit(0)
        try:
            reply = _serve_one(job, resource, select)
        except BaseException as e:  # noqa: B902 - report, keep serving
            _kill_namespace()
            reply = {"error": "%s: %s" % (type(e).__name__, e)}
        _send_msg(proto_out, reply)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        _serve()
    else:
        _main()
