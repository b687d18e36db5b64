"""A persistent worker-process pool with per-task deadlines that work in any thread.

Why not ``signal.alarm``?  math-verify bounds its sympy work with ``signal.alarm``,
which only works in the main thread: called from a worker thread (OpenRLHF runs
reward functions with ``asyncio.to_thread``; TRL's async rewards run on a
background loop) it raises ``ValueError`` unless the timeout is disabled – and then a
pathological answer such as ``9^{9^{9^9}}`` hangs the trainer.  Why not a fork per
call (verl's ``timeout_limit``)?  It costs milliseconds per call, more than the
work itself.

Design: ``size`` long-lived processes (fresh interpreters started with
``subprocess``: no fork of a threaded parent, no re-import of ``__main__``) each run
a request loop.  A caller thread checks out an idle
worker, streams a list of requests to it over a pipe, and waits for each reply with
``Connection.poll(deadline)``.  If a reply is late, the worker is killed
(``SIGKILL``), a fresh one is started, the late request is reported as
``"timeout"`` and the remaining requests continue on the new worker.  Deadlines
therefore hold from any thread, and the cost of a healthy call is one pipe round
trip (tens of microseconds).

Example:
    >>> pool = WorkerPool("rewardkit.verify.math.pool:echo", size=1)
    >>> pool.run([1, "a"], deadline=30.0)
    [('ok', 1), ('ok', 'a')]
    >>> pool.close()
"""

from __future__ import annotations

import atexit
import importlib
import os
import queue
import sys
import threading
import time
from typing import Any
from collections.abc import Callable, Sequence

from rewardkit.core.interpreter import ChildInterpreter

__all__ = ["WorkerPool", "echo", "get_pool", "sleep_then_echo"]


def echo(x: Any) -> Any:
    """Worker handler used in examples and tests: returns its input."""
    return x


def sleep_then_echo(x: Any) -> Any:
    """Worker handler for tests: ``(seconds, value)`` → sleeps, then returns value."""
    time.sleep(float(x[0]))
    return x[1]


def _resolve(target: str) -> Callable[[Any], Any]:
    mod, _, fn = target.partition(":")
    return getattr(importlib.import_module(mod), fn)


def _worker_main(conn: Any, target: str, memory_limit_mb: int | None) -> None:
    """Request loop run inside each worker process."""
    if memory_limit_mb:
        try:
            import resource

            lim = int(memory_limit_mb) * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        except (ImportError, ValueError, OSError):
            pass
    try:
        fn = _resolve(target)
    except BaseException as e:  # report a bad target instead of hanging the parent
        conn.send(("fatal", f"{type(e).__name__}: {e}"))
        return
    warm = getattr(sys.modules.get(getattr(fn, "__module__", "") or ""), "warm_up", None)
    if callable(warm):  # pay imports and first-call costs before taking work, not inside a deadline
        try:
            warm()
        except Exception:
            pass
    conn.send(("ready", os.getpid()))
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        for req in batch:
            try:
                out = ("ok", fn(req))
            except MemoryError:
                out = ("error", "MemoryError")
            except BaseException as e:
                out = ("error", f"{type(e).__name__}: {str(e)[:300]}")
            try:
                conn.send(out)
            except (BrokenPipeError, OSError):
                return


def _worker_entry(conn: Any, target: str, memory_mb: str) -> None:
    """Entry point of a worker process (started by :class:`~rewardkit.core.interpreter.ChildInterpreter`)."""
    _worker_main(conn, target, int(memory_mb) or None)


class _Worker(ChildInterpreter):
    """One worker process: a fresh interpreter on a socket pair (see :mod:`rewardkit.core.interpreter`)."""

    def __init__(self, target: str, memory_limit_mb: int | None):
        super().__init__("rewardkit.verify.math.pool:_worker_entry", [target, str(int(memory_limit_mb or 0))],
                         name="verification worker")


class WorkerPool:
    """``size`` persistent worker processes running ``target`` (``"module:function"``).

    Thread-safe: any number of threads may call :meth:`run` concurrently; each call
    holds one worker for its duration.  Workers are started lazily.  If the target's module
    defines ``warm_up()``, each worker calls it once after start-up and before it reports
    ready, so imports and first-call costs are never timed by a request's deadline (a
    request waits for a starting worker for up to ``startup_timeout`` instead).

    Args:
        target: importable ``"package.module:function"`` mapping one request to a
            picklable reply.
        size: number of worker processes.
        startup_timeout: seconds a new worker may take to import ``target``.
        memory_limit_mb: ``RLIMIT_AS`` of each worker (protects the host from a sympy
            blow-up); ``None`` for no limit.

    Statistics (``timeouts``, ``restarts``, ``requests``) are kept for logging.
    """

    def __init__(self, target: str, size: int = 1,
                 startup_timeout: float = 120.0, memory_limit_mb: int | None = 4096):
        if size < 1:
            from rewardkit.core.errors import ConfigError

            raise ConfigError("size", f"got {size!r}", "a positive number of worker processes")
        self.target = target
        self.size = int(size)
        self.startup_timeout = float(startup_timeout)
        self.memory_limit_mb = memory_limit_mb
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._all: list[_Worker] = []
        self._closed = False
        self.timeouts = 0
        self.restarts = 0
        self.requests = 0

    # -- worker bookkeeping -------------------------------------------------
    def _spawn(self) -> _Worker:
        w = _Worker(self.target, self.memory_limit_mb)
        with self._lock:
            self._all.append(w)
        return w

    def _acquire(self) -> _Worker:
        if self._closed:
            raise RuntimeError("WorkerPool is closed")
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            can_spawn = len(self._all) < self.size
            if can_spawn:
                self._all.append(None)  # type: ignore[arg-type]  # reserve a slot
        if can_spawn:
            w = _Worker(self.target, self.memory_limit_mb)
            with self._lock:
                self._all.remove(None)  # type: ignore[arg-type]
                self._all.append(w)
            return w
        return self._idle.get()

    def _release(self, w: _Worker) -> None:
        if self._closed:
            w.stop()
        else:
            self._idle.put(w)

    def _replace(self, w: _Worker) -> _Worker:
        w.kill()
        with self._lock:
            if w in self._all:
                self._all.remove(w)
        self.restarts += 1
        return self._spawn()

    def warm_up(self) -> None:
        """Start all workers now and wait until they are ready."""
        ws = [self._acquire() for _ in range(self.size)]
        for w in ws:
            w.wait_ready(self.startup_timeout)
        for w in ws:
            self._release(w)

    # -- the API --------------------------------------------------------------
    def run(self, requests: Sequence[Any], deadline: float) -> list[tuple[str, Any]]:
        """Run ``requests`` in order on one worker; each gets ``deadline`` seconds.

        Returns one ``(status, value)`` per request, status ``"ok"``, ``"error"``
        (the handler raised; value is the message), ``"timeout"`` (killed after
        ``deadline`` s) or ``"crashed"`` (the worker died, e.g. out of memory).
        """
        results: list[tuple[str, Any]] = []
        pending = list(requests)
        if not pending:
            return results
        w = self._acquire()
        try:
            while pending:
                w.wait_ready(self.startup_timeout)
                w.conn.send(pending)
                n_sent = len(pending)
                done = 0
                failed = False
                for _ in range(n_sent):
                    self.requests += 1
                    try:
                        got = w.conn.poll(deadline)
                    except (OSError, EOFError):
                        got = None
                    if got:
                        try:
                            results.append(w.conn.recv())
                            done += 1
                            continue
                        except (EOFError, OSError):
                            results.append(("crashed", None))
                    else:
                        alive = w.is_alive()
                        if alive:
                            self.timeouts += 1
                        results.append(("timeout", deadline) if alive else ("crashed", None))
                    done += 1
                    failed = True
                    break
                pending = pending[done:]
                if failed:
                    w = self._replace(w)
        except BaseException:
            w = self._replace(w)
            raise
        finally:
            self._release(w)
        return results

    def close(self) -> None:
        """Stop all workers."""
        self._closed = True
        with self._lock:
            ws = [w for w in self._all if w is not None]
            self._all.clear()
        for w in ws:
            w.stop()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


_POOLS: dict[tuple[str, int], WorkerPool] = {}
_POOLS_LOCK = threading.Lock()


def get_pool(target: str, size: int = 1) -> WorkerPool:
    """The process-wide shared pool for ``(target, size)``, created on first use."""
    key = (target, int(size))
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None or pool._closed:
            pool = _POOLS[key] = WorkerPool(target, size=size)
        return pool


@atexit.register
def _close_pools() -> None:
    for p in list(_POOLS.values()):
        try:
            p.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
