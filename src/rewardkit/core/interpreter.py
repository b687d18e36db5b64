"""A child Python interpreter on a socket pair: the one way rewardkit starts worker processes.

The math verifier's symbolic pool and the reward server's scoring pool both need
workers that

* start as a **fresh interpreter** (``subprocess``; no ``fork`` of a threaded parent,
  and - unlike ``multiprocessing``'s ``spawn`` - no re-import of the caller's ``__main__``);
* talk over a :class:`multiprocessing.connection.Connection` (pickled messages);
* announce ``("ready", info)`` once set up, and can be killed **with everything below
  them** when they overrun a deadline (a verifier may start helper processes of its own,
  in their own sessions: killing only the worker's process group leaves them running).

The child runs ``entry(conn, *args)`` where ``entry`` is ``"package.module:function"``
and ``args`` are strings.

Example:
    >>> worker = ChildInterpreter("rewardkit.core.interpreter:echo_entry", ["hello"])
    >>> worker.wait_ready(60.0)
    'hello'
    >>> worker.wait_ready(0.0)   # already ready: no second message is awaited
    'hello'
    >>> worker.conn.send([1, 2]); worker.conn.recv()
    [1, 2]
    >>> worker.stop()
    >>> worker.is_alive()
    False
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from .errors import RewardkitError

__all__ = ["ChildInterpreter", "WorkerStartError", "descendants", "echo_entry", "serve_jobs"]

_BOOT = ("import importlib, sys; from multiprocessing.connection import Connection; "
         "m, f = sys.argv[1].split(':'); "
         "getattr(importlib.import_module(m), f)(Connection(int(sys.argv[2])), *sys.argv[3:])")


class WorkerStartError(RewardkitError, RuntimeError):
    """A worker process did not report ready: it died, timed out or said why it could not start."""


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, read from Linux ``/proc`` (empty elsewhere).

    Example:
        >>> descendants(os.getpid()) == [] or all(isinstance(p, int) for p in descendants(os.getpid()))
        True
    """
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:  # pragma: no cover - not Linux
        return []
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


class ChildInterpreter:
    """A fresh interpreter running ``entry(conn, *args)``, in its own session (see module docs).

    ``conn`` is the parent's end of the pair; ``proc`` the :class:`subprocess.Popen`.
    """

    def __init__(self, entry: str, args: Sequence[str] = (), name: str = "worker"):
        if ":" not in entry:
            raise ValueError(f"entry: got {entry!r}; expected 'package.module:function'")
        self.name = name
        parent_sock, child_sock = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        cmd = [sys.executable, "-c", _BOOT, entry, str(child_sock.fileno()), *map(str, args)]
        try:
            self.proc = subprocess.Popen(cmd, pass_fds=(child_sock.fileno(),), env=env, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        finally:
            child_sock.close()
        self.conn = Connection(parent_sock.detach())
        self.ready = False
        self.ready_info: Any = None

    def is_alive(self) -> bool:
        """True while the process runs."""
        return self.proc.poll() is None

    def wait_ready(self, timeout: float) -> Any:
        """Block until the child sends ``("ready", info)``; return ``info``.

        Anything else - a timeout, a dead child, another message - kills it and raises
        :class:`WorkerStartError` naming the cause.  Once ready, it returns at once (``info`` is kept).
        """
        if self.ready:
            return self.ready_info
        try:
            if not self.conn.poll(timeout):
                raise WorkerStartError(f"{self.name} did not start within {timeout:.0f}s")
            tag, info = self.conn.recv()
        except (EOFError, OSError) as e:
            self.kill()
            raise WorkerStartError(f"{self.name} died while starting: {type(e).__name__}") from None
        except WorkerStartError:
            self.kill()
            raise
        if tag != "ready":
            self.kill()
            raise WorkerStartError(f"{self.name} failed to start: {info}")
        self.ready, self.ready_info = True, info
        return info

    def kill(self) -> None:
        """SIGKILL the child, its process group and every process below it; reap it; close the pipe."""
        below = descendants(self.proc.pid) if self.proc.poll() is None else []
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in below:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        with contextlib.suppress(OSError):
            self.conn.close()

    def stop(self, grace: float = 2.0) -> None:
        """Ask the child to exit (send ``None``), wait ``grace`` seconds, then :meth:`kill` what is left."""
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=grace)
        self.kill()


def serve_jobs(conn: Connection, setup: Any, handle: Any) -> None:
    """The child side of the worker protocol of ``rewardkit score``'s and the reward server's pools (the math
    pool's worker streams one reply per request of a batch and keeps its own loop).

    ``state = setup(first_message)`` builds the worker (an exception is sent as
    ``("fatal", "<Type>: message")`` instead of leaving the parent waiting); then
    ``("ready", pid)`` is sent and every later message ``job`` is answered with
    ``handle(state, job)``, until ``None``, end of file or a closed pipe.

    Example:
        >>> import threading
        >>> from multiprocessing import Pipe
        >>> parent, child = Pipe()
        >>> t = threading.Thread(target=serve_jobs, args=(child, lambda k: k, lambda k, x: k * x)); t.start()
        >>> parent.send(3); parent.recv()[0]
        'ready'
        >>> parent.send(5); parent.recv()
        15
        >>> parent.send(None); t.join()
    """
    try:
        state = setup(conn.recv())
    except BaseException as e:  # report a bad setup instead of hanging the parent
        conn.send(("fatal", f"{type(e).__name__}: {str(e)[:300]}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            conn.send(handle(state, job))
        except OSError:  # a closed pipe (BrokenPipeError), or an OSError out of handle: the worker ends
            return


def echo_entry(conn: Connection, greeting: str) -> None:
    """A child entry for tests and the example: report ready with ``greeting``, then echo until ``None``."""
    conn.send(("ready", greeting))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        conn.send(msg)
