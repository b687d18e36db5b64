"""Run an experiment: every (reward variant x seed), resumable, in parallel, with progress.

:func:`run_experiment` validates nothing itself (a spec from
:func:`~rewardkit.runner.spec.load_spec` is already valid), opens the results
database ``<out>/results.sqlite``, skips runs whose key is already ``done``,
executes the rest (in ``spec.parallel`` worker processes, one torch thread each)
and writes the HTML report.

Each run is executed by :func:`execute_run`, which writes its own rows: the
database is the only channel results travel through, so a run killed at any
moment loses nothing already committed (see :mod:`rewardkit.runner.store` for the
restart rule).  Workers are started with ``spawn`` and die with their parent
(``PR_SET_PDEATHSIG`` on Linux), so a killed ``rewardkit run`` leaves no orphan
writing rows behind.

The output folder has one writer: :func:`run_experiment` holds an exclusive lock on
it (:class:`~rewardkit.runner.files.OutputLock`) from before it reads which runs are
done until the report is written, so a second ``rewardkit run`` on the same folder
stops with a one-line error instead of training the same runs again.  Every path it
writes is checked to stay inside the folder, and the report files are replaced
atomically.

``backend="ray"`` (``rewardkit run --backend ray [--address auto]``) runs each
(variant, seed) as a Ray task instead (:func:`stream_run`, a generator task): the task
writes nothing, it *streams* its messages - including every evaluation point with its
values - back to the driver, and the driver is the one writer of the results database
(and of TensorBoard).  Resume is the same rule as locally (``done`` runs are skipped,
others restart from step 0).  A task lost with its node (or its worker process) is
submitted again, at most :data:`RAY_RERUNS` times: only the in-flight runs of a killed
node are rerun, because every finished run is already committed by the driver.

Workers talk to the parent with typed, frozen messages: :class:`Started`,
:class:`Progressed`, :class:`Evaluated` and :class:`Finished` (also the return value
of :func:`execute_run`); a run is described by a frozen :class:`RunTask`.
"""

from __future__ import annotations

import os
import queue as queue_mod
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import OutputLock, inside
from .spec import ExperimentSpec, RunSpec
from .store import ResultStore

__all__ = ["BACKENDS", "DB_NAME", "RAY_RERUNS", "Evaluated", "Finished", "Message", "Progressed", "RunSummary",
           "RunTask", "Started", "execute_run", "run_experiment", "stream_run"]

DB_NAME = "results.sqlite"
#: where runs execute: worker processes on this machine, or Ray tasks on a cluster
BACKENDS = ("local", "ray")
#: how many times a Ray run lost with its node or worker is submitted again
RAY_RERUNS = 3

_QUEUE: Any = None  # progress queue of a worker process


@dataclass
class RunSummary:
    """What :func:`run_experiment` did."""

    out_dir: Path
    db_path: Path
    total: int
    skipped: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    wall_s: float = 0.0
    report: Path | None = None
    #: the overall progress bar at the end: units counted and its total (equal when every run finished)
    progress: tuple[int, int] = (0, 0)
    #: runs submitted again after their Ray node or worker was lost (one entry per rerun)
    rerun: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs to train one run (picklable, so it crosses to ``spawn`` workers).

    ``db`` is the results database and ``tb`` the run's TensorBoard folder (None: no TensorBoard).
    """

    key: str
    config: dict[str, Any]
    variant: str
    seed: int
    seed_index: int
    config_hash: str
    db: str
    tb: str | None = None


@dataclass(frozen=True)
class Started:
    """A worker began run ``key``."""

    key: str


@dataclass(frozen=True)
class Progressed:
    """Run ``key`` reached ``step`` (budget units)."""

    key: str
    step: int


@dataclass(frozen=True)
class Evaluated:
    """Run ``key`` committed an evaluation point at ``step``."""

    key: str
    step: int
    success_rate: float | None
    return_mean: float | None


@dataclass(frozen=True)
class Finished:
    """Run ``key`` ended with ``status`` ``"done"`` or ``"failed"`` (then ``error`` says why).

    ``steps`` is the number of budget units the run really executed (None: unknown, e.g. failed).
    """

    key: str
    status: str
    error: str | None = None
    steps: int | None = None


#: a message from a run to the progress display
Message = Started | Progressed | Evaluated | Finished


def _set_threads() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this worker when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # pragma: no cover - best effort
        pass


def _init_worker(q: Any, parent_pid: int) -> None:
    global _QUEUE
    _die_with_parent()
    if os.getppid() != parent_pid:  # parent already gone before prctl took effect
        os._exit(1)
    _QUEUE = q
    _set_threads()


def _send(msg: Message) -> None:
    if _QUEUE is not None:
        try:
            _QUEUE.put_nowait(msg)
        except Exception:  # pragma: no cover - a full/broken queue must not stop training
            pass


def execute_run(task: RunTask, progress: Callable[[Message], None] | None = None) -> Finished:
    """Train one run and commit its evaluation points; return its :class:`Finished` message.

    Messages go to the worker's queue (in a pool) and to ``progress`` (in-process runs).
    """
    from .learners import train
    from .tb import TensorBoardLogger

    key = task.key

    def emit(msg: Message) -> None:
        _send(msg)
        if progress is not None:
            progress(msg)

    store = ResultStore(task.db)
    tb = TensorBoardLogger(task.tb, fresh=True) if task.tb else None
    store.start_run(key, task.config_hash, task.variant, task.seed, task.seed_index, task.config)
    _send(Started(key))
    t0 = time.perf_counter()

    def on_eval(step: int, values: dict[str, Any], terms: dict[str, float]) -> None:
        store.add_eval(key, step, values, terms)
        if tb is not None:
            tb.log_eval(step, values, terms)
        emit(Evaluated(key, int(step), values.get("success_rate"), values.get("return_mean")))

    def on_progress(step: int) -> None:
        emit(Progressed(key, int(step)))

    try:
        steps = train(task.config, on_eval, on_progress)
    except Exception as e:
        msg = f"{type(e).__name__}: {' '.join(str(e).split())}"
        store.fail_run(key, msg + "\n" + traceback.format_exc(limit=8))
        store.close()
        if tb is not None:
            tb.close()
        done = Finished(key, "failed", msg)
        _send(done)
        return done
    store.finish_run(key, steps, time.perf_counter() - t0)
    store.close()
    if tb is not None:
        tb.close()
    done = Finished(key, "done", steps=int(steps))
    _send(done)
    return done


def stream_run(task: RunTask) -> Any:
    """Train one run and *yield* its messages instead of writing them (the Ray task; see module docs).

    Yields ``("started",)``, ``("progress", step)`` (at most every 0.25 s), ``("eval", step, values,
    term_returns)`` and finally ``("done", steps, wall_s)`` or ``("failed", message, traceback)``.
    Training runs in a thread of this process; the generator hands its messages on as they come.

    Example (one tiny tabular run):
        >>> from rewardkit.runner.spec import parse_spec
        >>> spec = parse_spec({"name": "doc", "env": {"id": "rewardkit/Chain-v0"},
        ...     "learner": {"type": "q_learning", "params": {"tie_break": "random"}},
        ...     "budget": {"episodes": 10}, "eval": {"every": 5, "episodes": 1},
        ...     "variants": {"env": {"reward": {"terms": [{"type": "env_reward"}]}}}})
        >>> r = spec.runs()[0]
        >>> msgs = list(stream_run(RunTask(r.key, r.config, r.variant, r.seed, 0, spec.config_hash, "")))
        >>> [m[0] for m in msgs if m[0] != "progress"], msgs[-1][1]
        (['started', 'eval', 'eval', 'eval', 'done'], 10)
    """
    import queue
    import threading

    from .learners import train

    _set_threads()
    q: queue.Queue = queue.Queue()
    end = object()

    def work() -> None:
        t0 = time.perf_counter()
        try:
            steps = train(task.config, lambda step, values, terms: q.put(("eval", int(step), dict(values), dict(terms))),
                          lambda step: q.put(("progress", int(step))))
            q.put(("done", int(steps), time.perf_counter() - t0))
        except Exception as e:
            q.put(("failed", f"{type(e).__name__}: {' '.join(str(e).split())}", traceback.format_exc(limit=8)))
        q.put(end)

    yield ("started",)
    worker = threading.Thread(target=work, name=f"run {task.key}", daemon=True)
    worker.start()
    while (msg := q.get()) is not end:
        yield msg
    worker.join()


def _tasks(spec: ExperimentSpec, runs: list[RunSpec], db: Path, out: Path, tensorboard: bool) -> list[RunTask]:
    return [RunTask(r.key, r.config, r.variant, r.seed, r.seed_index, spec.config_hash, str(db),
                    str(inside(out, "tb", r.variant, f"seed{r.seed}")) if tensorboard else None) for r in runs]


def run_experiment(spec: ExperimentSpec, out_dir: str | os.PathLike, *, progress: bool = True,
                   tensorboard: bool = True, report: bool = True, console: Any = None, backend: str = "local",
                   address: str | None = None) -> RunSummary:
    """Run every not-yet-completed run of ``spec`` and (re)write the report.

    ``backend="ray"`` runs each (variant, seed) as a Ray task on the cluster at ``address``
    (``"auto"``, ``host:port``; ``None`` starts a local cluster of ``spec.parallel`` CPUs);
    the results database is written by this process only (see the module docs).

    Example (a 2-variant tabular experiment, a few hundred steps):
        >>> import tempfile
        >>> from rewardkit.runner.spec import parse_spec
        >>> spec = parse_spec({"name": "doc", "env": {"id": "rewardkit/Chain-v0"},
        ...     "learner": {"type": "q_learning", "params": {"tie_break": "random", "alpha": 0.5}},
        ...     "budget": {"episodes": 20}, "eval": {"every": 10, "episodes": 2},
        ...     "variants": {"env": {"reward": {"terms": [{"type": "env_reward"}]}}}})
        >>> out = tempfile.mkdtemp()
        >>> s = run_experiment(spec, out, progress=False, tensorboard=False, report=False)
        >>> len(s.completed), len(run_experiment(spec, out, progress=False, report=False).skipped)
        (1, 1)
    """
    from rich.console import Console

    from rewardkit.core.errors import ConfigError

    if backend not in BACKENDS:
        raise ConfigError("--backend", f"got {backend!r}", " or ".join(BACKENDS))
    console = console or Console(stderr=True)
    with OutputLock(out_dir):  # one writer per folder: raises OutputError if another run holds it
        return _run_locked(spec, Path(out_dir), progress, tensorboard, report, console, backend, address)


def _run_locked(spec: ExperimentSpec, out: Path, progress: bool, tensorboard: bool, report: bool,
                console: Any, backend: str = "local", address: str | None = None) -> RunSummary:
    t0 = time.perf_counter()
    db_path = inside(out, DB_NAME)
    store = ResultStore(db_path)
    store.add_experiment(spec.config_hash, spec.name, spec.raw)
    tracker = _open_tracker(spec, out)  # before anything trains: a missing mlflow stops the run here
    runs = spec.runs()
    status = store.statuses(r.key for r in runs)
    todo = [r for r in runs if status.get(r.key) != "done"]
    summary = RunSummary(out, db_path, len(runs), skipped=[r.key for r in runs if status.get(r.key) == "done"])
    store.close()
    if summary.skipped:
        console.print(f"resuming: {len(summary.skipped)} of {len(runs)} runs already done in {db_path}")
    if todo:
        tasks = _tasks(spec, todo, db_path, out, tensorboard)
        labels = {r.key: r.label for r in todo}
        with _Progress(spec, todo, labels, console, enabled=progress) as bar:
            if backend == "ray":
                _run_ray(tasks, spec.parallel, address, bar, summary)
            elif spec.parallel <= 1 or len(todo) == 1:
                _set_threads()
                for t in tasks:
                    done = execute_run(t, bar.handle)
                    bar.handle(done)
                    _record(summary, done)
            else:
                _run_pool(tasks, min(spec.parallel, len(tasks)), bar, summary)
        summary.progress = (bar.completed, bar.total_units)
    summary.wall_s = time.perf_counter() - t0
    if report:
        from .report import write_report

        summary.report = write_report(spec, db_path, out)
    if tracker is not None:
        tracker.log_experiment(spec, db_path, [p for p in (summary.report, out / "summary.md") if p is not None])
    return summary


def _open_tracker(spec: ExperimentSpec, out: Path) -> Any:
    if not spec.tracking:
        return None
    from .tracking import open_tracker

    return open_tracker(spec, out)


def _record(summary: RunSummary, done: Finished) -> None:
    if done.status == "done":
        summary.completed.append(done.key)
    else:
        summary.failed[done.key] = done.error or done.status


def _run_pool(tasks: list[RunTask], workers: int, bar: _Progress, summary: RunSummary) -> None:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    pending: dict[Any, RunTask] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(q, os.getpid())) as pool:
        for t in tasks:
            pending[pool.submit(execute_run, t)] = t
        try:
            while pending:
                try:
                    bar.handle(q.get(timeout=0.2))
                    continue
                except queue_mod.Empty:
                    pass
                for fut in [f for f in pending if f.done()]:
                    t = pending.pop(fut)
                    try:
                        done = fut.result()
                    except Exception as e:  # worker crashed (e.g. killed): the run stays 'running'
                        done = Finished(t.key, "failed", f"{type(e).__name__}: {e}")
                    bar.handle(done)
                    _record(summary, done)
            while True:  # drain late messages
                try:
                    bar.handle(q.get_nowait())
                except queue_mod.Empty:
                    break
        except BaseException:
            for f in pending:
                f.cancel()
            raise


def _run_ray(tasks: list[RunTask], parallel: int, address: str | None, bar: _Progress,
             summary: RunSummary) -> None:
    """Every task as a Ray generator task; this process writes each streamed message to the store."""
    from rewardkit.integrations.ray_cluster import ensure_ray

    started = ensure_ray(address, num_cpus=parallel)
    driver = _RayDriver(tasks[0].db, bar, summary)
    try:
        driver.run(tasks)
    finally:
        driver.close()
        if started:
            import ray

            ray.shutdown()


class _RayDriver:
    """The one writer: submits runs, reads their streamed messages, reruns runs lost with a node."""

    def __init__(self, db: str, bar: _Progress, summary: RunSummary):
        from .ray_backend import run_task

        self.remote = run_task()
        self.store = ResultStore(db)
        self.bar, self.summary = bar, summary
        self.live: dict[Any, RunTask] = {}
        self.tbs: dict[str, Any] = {}
        self.reruns: dict[str, int] = {}

    def submit(self, t: RunTask) -> None:
        self.store.start_run(t.key, t.config_hash, t.variant, t.seed, t.seed_index, t.config)
        self.live[self.remote.options(name=f"rewardkit run {t.key}").remote(t)] = t

    def run(self, tasks: list[RunTask]) -> None:
        import ray
        from ray.exceptions import RayError, RayTaskError

        for t in tasks:
            self.submit(t)
        while self.live:
            ready, _ = ray.wait(list(self.live), num_returns=1, timeout=1.0)
            for gen in ready:
                t = self.live[gen]
                try:
                    msg = ray.get(next(gen))
                except StopIteration:
                    del self.live[gen]
                except RayTaskError as e:  # the task raised outside training: a failed run
                    del self.live[gen]
                    self._fail(t, f"{type(e).__name__}: {' '.join(str(e).split())[:300]}")
                except RayError as e:  # its node or worker was lost: run it again from step 0
                    del self.live[gen]
                    self._lost(t, e)
                else:
                    self.handle(t, msg)

    def _lost(self, t: RunTask, e: Exception) -> None:
        self._close_tb(t.key)
        n = self.reruns[t.key] = self.reruns.get(t.key, 0) + 1
        if n > RAY_RERUNS:
            self._fail(t, f"lost {n} times on Ray ({type(e).__name__})")
            return
        self.summary.rerun.append(t.key)
        self.submit(t)

    def _fail(self, t: RunTask, message: str, detail: str = "") -> None:
        self.store.fail_run(t.key, message + ("\n" + detail if detail else ""))
        self._end(t, Finished(t.key, "failed", message))

    def _end(self, t: RunTask, done: Finished) -> None:
        self._close_tb(t.key)
        self.bar.handle(done)
        _record(self.summary, done)

    def _close_tb(self, key: str) -> None:
        tb = self.tbs.pop(key, None)
        if tb is not None:
            tb.close()

    def handle(self, t: RunTask, msg: tuple) -> None:
        """Write one streamed message of run ``t`` (see :func:`stream_run`)."""
        from .tb import TensorBoardLogger

        kind = msg[0]
        if kind == "started":
            if t.tb:
                self._close_tb(t.key)
                self.tbs[t.key] = TensorBoardLogger(t.tb, fresh=True)
            self.bar.handle(Started(t.key))
        elif kind == "progress":
            self.bar.handle(Progressed(t.key, msg[1]))
        elif kind == "eval":
            _, step, values, terms = msg
            self.store.add_eval(t.key, step, values, terms)
            if t.key in self.tbs:
                self.tbs[t.key].log_eval(step, values, terms)
            self.bar.handle(Evaluated(t.key, step, values.get("success_rate"), values.get("return_mean")))
        elif kind == "done":
            self.store.finish_run(t.key, msg[1], msg[2])
            self._end(t, Finished(t.key, "done", steps=int(msg[1])))
        else:
            self._fail(t, msg[1], msg[2])

    def close(self) -> None:
        import ray

        for gen in self.live:
            ray.cancel(gen, force=True)
        for key in list(self.tbs):
            self._close_tb(key)
        self.store.close()


class _Progress:
    """Rich progress: one bar over all units of all runs plus one bar per active run.

    Each run counts to what it really executes, :func:`~rewardkit.runner.learners.planned_units`
    (PPO rounds the budget up to whole rollouts), not to the nominal budget, and its
    reported progress is clamped to that total.  When a run ends, its :class:`Finished`
    message carries the units it ran: the overall total is corrected to that number
    and the run counts exactly that much, so the final count always equals the total
    (a failed run counts as its planned units).  Messages that arrive for a run after
    its :class:`Finished` (a worker's queue can lag behind its future) are ignored.

    ``completed`` and ``total_units`` are kept whether or not a bar is drawn.
    """

    def __init__(self, spec: ExperimentSpec, runs: list[RunSpec], labels: dict[str, str], console: Any,
                 enabled: bool = True):
        from .learners import planned_units

        self.spec = spec
        self.labels = labels
        self.enabled = enabled
        self.unit = spec.budget_unit
        self.n_runs = len(runs)
        self.planned = {r.key: planned_units(r.config) for r in runs}
        self.total_units = sum(self.planned.values())
        self.completed = 0
        self.done: set[str] = set()
        self.steps: dict[str, int] = {}
        self.tasks: dict[str, Any] = {}
        self.console = console
        self.progress = None
        if enabled:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False)
            self.total = self.progress.add_task(self._total_desc(), total=self.total_units)

    def _total_desc(self) -> str:
        return f"{self.spec.name}: runs {len(self.done)}/{self.n_runs} ({self.unit})"

    def __enter__(self) -> _Progress:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.stop()

    def _planned(self, key: str) -> int:
        return self.planned.get(key, self.spec.budget)

    def handle(self, msg: Message) -> None:
        key = msg.key
        if key in self.done:  # a late message of a finished run
            return
        if isinstance(msg, Started):
            self._start(key)
        elif isinstance(msg, (Progressed, Evaluated)):
            self._advance(key, msg.step)
            if self.progress is not None and isinstance(msg, Evaluated) and msg.success_rate is not None:
                self.progress.update(self.tasks[key], description=f"  {self.labels.get(key, key)} "
                                     f"success {msg.success_rate:.2f}")
        elif isinstance(msg, Finished):
            self._finish(msg)

    def _start(self, key: str) -> None:
        if key in self.steps:
            return
        self.steps[key] = 0
        if self.progress is not None:
            self.tasks[key] = self.progress.add_task(f"  {self.labels.get(key, key)}", total=self._planned(key))

    def _advance(self, key: str, step: int) -> None:
        self._start(key)
        prev = self.steps[key]
        step = min(int(step), self._planned(key))
        if step <= prev:
            return
        self.steps[key] = step
        self.completed += step - prev
        if self.progress is not None:
            self.progress.update(self.total, advance=step - prev)
            self.progress.update(self.tasks[key], completed=step)

    def _finish(self, msg: Finished) -> None:
        key = msg.key
        self.done.add(key)
        planned = self._planned(key)
        ran = planned if msg.steps is None else int(msg.steps)
        self.total_units += ran - planned
        self.completed += ran - self.steps.get(key, 0)
        self.steps[key] = ran
        if self.progress is None:
            return
        self.progress.update(self.total, total=self.total_units, completed=self.completed,
                             description=self._total_desc())
        if key in self.tasks:
            self.progress.remove_task(self.tasks.pop(key))
        if msg.status != "done":
            self.console.print(f"[red]run {self.labels.get(key, key)} failed:[/red] {msg.error}")
