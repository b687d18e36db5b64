"""A pool of reward-scoring worker processes for the asyncio reward server, with per-request deadlines.

Why processes: a verifier can hold the CPU (and the GIL) for seconds on one hostile
sample (a ``\\boxed{9^{9^{9^{9}}}}`` power tower), and a lock around one in-process
reward made every other client wait for it.  Here each of ``size`` workers is a fresh
interpreter (``subprocess``, no fork of the threaded server, no re-import of the
caller's ``__main__``) that builds the reward **once** from its source (a config path
or mapping, or a pickled reward) and then scores whole requests
(:class:`~rewardkit.integrations.serve_worker.RequestScorer`).

:meth:`ScoringPool.submit` (a coroutine) takes an idle worker, sends it the raw body
and awaits the reply on the event loop (``loop.add_reader``, no thread).  A request
waits at most ``queue_timeout`` seconds for an idle worker (then ``503``), and its
scoring may take at most ``deadline`` seconds: a worker that runs over is killed with
its whole process group (``SIGKILL``) and replaced in the background, and the request
gets ``504`` ``{"type": "timeout"}``.  So a slow sample delays only its own request,
and it holds one worker for at most ``deadline`` seconds.

Stateful terms (running normalisation) keep one state per worker: use ``size=1`` if
the state must be global.

Example:
    >>> import asyncio
    >>> pool = ScoringPool(("config", {"terms": [{"type": "constant", "params": {"value": 1.0}}]}), size=1)
    >>> asyncio.run(pool.submit("get_reward", b'{"query": ["x"]}', deadline=30))[0]
    200
    >>> pool.close()
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import sys
import time
import weakref
from typing import Any

from rewardkit.core import ConfigError
from rewardkit.core.interpreter import ChildInterpreter, WorkerStartError

from .serve_worker import ServeOptions

__all__ = ["ScoringPool", "default_workers"]

_POOLS: weakref.WeakSet = weakref.WeakSet()


def default_workers() -> int:
    """``min(8, max(2, CPUs available to this process))``: two workers even on one core, so a
    stuck request never leaves the server with nobody to score.

    Example:
        >>> 2 <= default_workers() <= 8
        True
    """
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return min(8, max(2, n))


class _Worker(ChildInterpreter):
    """A scoring worker: a fresh interpreter that builds the reward once (see :mod:`rewardkit.core.interpreter`)."""

    def __init__(self, payload: tuple[Any, ServeOptions]):
        super().__init__("rewardkit.integrations.serve_worker:_serve", name="scoring worker")
        self.conn.send(payload)

    def read_ready(self, timeout: float) -> None:
        """Block until the worker says it built the reward (``ConfigError`` with its message otherwise)."""
        try:
            self.wait_ready(timeout)
        except WorkerStartError as e:
            raise ConfigError("reward", f"a worker could not build it ({e})",
                              "a reward that builds in a fresh interpreter in time (raise startup_timeout)") from None

async def _readable(fd: int, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    def wake() -> None:
        if not fut.done():
            fut.set_result(True)

    loop.add_reader(fd, wake)
    try:
        return await asyncio.wait_for(fut, timeout)
    except asyncio.TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)


class ScoringPool:
    """``size`` worker processes scoring requests for :func:`~rewardkit.integrations.server.create_app`.

    Args:
        source: ``("config", path | mapping)`` or ``("pickle", bytes)``; each worker builds the reward from it once.
        options: :class:`~rewardkit.integrations.serve_worker.ServeOptions` (label column, item cap, ...).
        size: number of worker processes (:func:`default_workers` if ``None``).
        startup_timeout: seconds a worker may take to import and build the reward.

    Counters ``requests``, ``timeouts`` and ``restarts`` are kept for logging.
    All workers are started (and their start-up errors raised) in the constructor.
    """

    def __init__(self, source: tuple[str, Any], options: ServeOptions | None = None, size: int | None = None,
                 startup_timeout: float = 120.0):
        self.size = default_workers() if size is None else int(size)
        if self.size < 1:
            raise ConfigError("workers", f"got {self.size}", "an integer >= 1")
        self._payload = (source, options or ServeOptions())
        self.startup_timeout = float(startup_timeout)
        self.requests = self.timeouts = self.restarts = 0
        self._closed = False
        self._queue: asyncio.Queue | None = None
        self._all: set[_Worker] = set()
        self._ready: list[_Worker] = []
        self._tasks: set[asyncio.Task] = set()
        started = [self._start() for _ in range(self.size)]
        try:
            for w in started:
                w.read_ready(self.startup_timeout)
        except BaseException:
            self.close()
            raise
        self._ready = started
        _POOLS.add(self)

    def _start(self) -> _Worker:
        w = _Worker(self._payload)
        self._all.add(w)
        return w

    def _idle(self) -> asyncio.Queue:
        if self._queue is None:  # created on the serving loop, at the first request
            self._queue = asyncio.Queue()
            for w in self._ready:
                self._queue.put_nowait(w)
            self._ready = []
        return self._queue

    async def submit(self, endpoint: str, body: bytes, deadline: float = 60.0,
                     queue_timeout: float | None = None) -> tuple[int, bytes]:
        """Score one request body on an idle worker: ``(status, JSON bytes)`` (504 past ``deadline``)."""
        if self._closed:
            return 503, json.dumps({"error": "server: shutting down", "type": "unavailable"}).encode()
        t0 = time.monotonic()
        wait = deadline if queue_timeout is None else queue_timeout
        try:
            worker = await asyncio.wait_for(self._idle().get(), wait)
        except asyncio.TimeoutError:
            return 503, json.dumps({"error": f"workers: all {self.size} busy for {wait:g}s; expected a retry later",
                                    "type": "busy"}).encode()
        self.requests += 1
        try:
            worker.conn.send((endpoint, body))
            if await _readable(worker.conn.fileno(), deadline):
                status, payload = worker.conn.recv()
                self._idle().put_nowait(worker)
                return status, payload
        except asyncio.CancelledError:  # the client went away mid-request: the worker is mid-job, replace it
            self._replace(worker)
            raise
        except (EOFError, OSError) as e:
            self._replace(worker)
            return 500, json.dumps({"error": f"worker: died while scoring ({type(e).__name__}); "
                                             "expected a reward that does not crash the interpreter",
                                    "type": "worker_died"}).encode()
        self.timeouts += 1
        self._replace(worker)
        return 504, json.dumps({"error": f"time: scoring took longer than {deadline:g}s "
                                         f"(stopped after {time.monotonic() - t0:.1f}s); expected a faster "
                                         "request (fewer or shorter samples) or a larger --max-seconds",
                                "type": "timeout"}).encode()

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._all.discard(worker)
        if self._closed:
            return
        self.restarts += 1
        task = asyncio.get_running_loop().create_task(self._start_replacement())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_replacement(self) -> None:
        for attempt in range(3):
            w = self._start()
            ok = await _readable(w.conn.fileno(), self.startup_timeout)
            try:
                if ok and w.conn.recv()[0] == "ready" and not self._closed:
                    self._idle().put_nowait(w)
                    return
            except (EOFError, OSError):
                pass
            w.kill()
            self._all.discard(w)
            await asyncio.sleep(0.5 * (attempt + 1))
        print("rewardkit serve: a replacement worker failed to start 3 times", file=sys.stderr, flush=True)

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (a replaced worker gets a new one).

        Example:
            >>> pool = ScoringPool(("config", {"terms": [{"type": "constant", "params": {"value": 1.0}}]}), size=1)
            >>> len(pool.worker_pids()); pool.close()
            1
        """
        return sorted(w.proc.pid for w in self._all)

    def close(self) -> None:
        """Stop every worker (idempotent)."""
        self._closed = True
        for w in list(self._all):
            w.stop()
        self._all.clear()


@atexit.register
def _close_all() -> None:  # pragma: no cover - interpreter exit
    for p in list(_POOLS):
        p.close()
