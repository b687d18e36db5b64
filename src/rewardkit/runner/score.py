"""Batch scoring of datasets: ``rewardkit score`` (rows in, the same rows plus their reward out).

Two layers, one idea each:

* :func:`score_rows` - **pure**: a reward and a list of rows (mappings) in, one mapping of
  score fields per row out, in order.  A row maps to one :class:`~rewardkit.core.SampleBatch`
  item through a :class:`ColumnMap` (``prompt``, ``completion``; every other field is a
  reference column such as ``answer``, ``tests`` or ``db_path`` under its own name or a
  mapped one).  Each row is scored on its own, so its latency is its own and a row that
  cannot be scored costs only itself.  ``rewardkit eval`` reuses it to re-score saved outputs.
* :func:`score_file` - a JSONL or Parquet file in, a Parquet file out: chunked and
  streamed (at most ``2 x workers`` chunks in memory), scored by ``workers`` fresh-interpreter
  processes (:class:`~rewardkit.core.interpreter.ChildInterpreter`, each building the
  reward once) or by Ray actors (``backend="ray"``), resumable and written atomically.

Output fields (per row, beside every input column):

=====================  =====================================================================
``rk_total``           the weighted total ``R = sum_k w_k r_k`` (the fail value on an error)
``rk_term_<name>``     each top-level term's value ``r_k`` (null where the term does not apply
                       or the row could not be scored)
``rk_error``           null, or the error type: ``malformed_row`` (not a JSON object),
                       ``missing_column``, ``bad_type``, the exception's class name, or the
                       verifier codes ``<term>:<code>`` joined by ``,`` (e.g. ``correct:no_answer``)
``rk_error_detail``    a one-line explanation (null when ``rk_error`` is null)
``rk_latency_ms``      wall time spent scoring the row, in milliseconds
=====================  =====================================================================

The **fail value** (``fail_value``, default ``0.0``) is the total a row gets when it
cannot be scored (malformed, missing or ill-typed completion, or a term raised).

Resume: chunk ``i`` holds input rows ``[i C, (i+1) C)`` (``C = chunk_rows``).  Each
finished chunk is written atomically to ``<output>.parts/chunk-<i>.parquet`` next to a
``manifest.json`` fingerprinting the job (input size and mtime, reward, column map,
fail value, chunk size); a rerun of the same job skips the chunks already there, so a
killed run loses at most its in-flight chunks.  When every chunk is there, the parts are
merged one at a time into ``<output>`` (a temporary file, then ``os.replace``) and the
parts folder is removed.  The parts folder holds an exclusive
:class:`~rewardkit.runner.files.OutputLock`: a second job on the same output stops at once.

Example:
    >>> from rewardkit.core import build_reward
    >>> reward = build_reward({"terms": [{"type": "think_answer_format", "name": "format"}]})
    >>> rows = [{"prompt": "q", "completion": "<think>a</think><answer>1</answer>"},
    ...         {"prompt": "q", "completion": None}, "not a row"]
    >>> [(s["rk_total"], s["rk_term_format"], s["rk_error"]) for s in score_rows(reward, rows, fail_value=-1.0)]
    [(1.0, 1.0, None), (-1.0, None, 'bad_type'), (-1.0, None, 'malformed_row')]
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardkit.core.errors import ConfigError, OutputError

from .files import OutputLock, atomic_write

__all__ = ["DEFAULT_CHUNK_ROWS", "DETAIL", "ERROR", "LATENCY", "TERM_PREFIX", "TOTAL", "ColumnMap",
           "MalformedRow", "ScoreSummary", "iter_jsonl", "parts_dir", "score_columns", "score_file", "score_rows"]

TOTAL = "rk_total"
TERM_PREFIX = "rk_term_"
ERROR = "rk_error"
DETAIL = "rk_error_detail"
LATENCY = "rk_latency_ms"
DEFAULT_CHUNK_ROWS = 256
_SAMPLE_FIELDS = ("prompt", "completion")


@dataclass(frozen=True)
class MalformedRow:
    """An input record that is not a mapping (e.g. a JSONL line that is not a JSON object); scored as an error."""

    reason: str


@dataclass(frozen=True)
class ColumnMap:
    """Which input column fills which :class:`~rewardkit.core.SampleBatch` field.

    ``prompt`` and ``completion`` name the input columns of the prompt and the completion;
    ``renames`` maps a reference-column name the reward reads (e.g. ``answer``) to the input
    column holding it (e.g. ``gold``).  Every other input column is passed as a reference
    column under its own name.  A row without a prompt column gets the empty prompt.

    Example:
        >>> m = ColumnMap.parse(["completion=response", "answer=gold"])
        >>> m.sample({"prompt": "2+2?", "response": "4", "gold": "4", "id": 7})
        ('2+2?', '4', {'id': 7, 'answer': '4'})
    """

    prompt: str = "prompt"
    completion: str = "completion"
    renames: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, items: Iterable[str] | Mapping[str, str] | None) -> ColumnMap:
        """From ``FIELD=COLUMN`` strings (``--map completion=response``) or a mapping."""
        pairs: dict[str, str] = {}
        for item in (items.items() if isinstance(items, Mapping) else (items or ())):
            if isinstance(item, str):
                field_name, sep, column = item.partition("=")
                if not sep:
                    raise ConfigError("--map", f"got {item!r}", "FIELD=COLUMN, e.g. completion=response")
            else:
                field_name, column = item
            field_name, column = str(field_name).strip(), str(column).strip()
            if not field_name or not column:
                raise ConfigError("--map", f"got {field_name!r}={column!r}", "FIELD=COLUMN with both names non-empty")
            if field_name in pairs:
                raise ConfigError(f"--map {field_name}", "given twice", "each field mapped once")
            pairs[field_name] = column
        prompt = pairs.pop("prompt", "prompt")
        completion = pairs.pop("completion", "completion")
        return cls(prompt, completion, tuple(sorted(pairs.items())))

    def sample(self, row: Mapping[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
        """``(prompt, completion, reference columns)`` of one row, or a :class:`_RowError`."""
        if self.completion not in row:
            raise _RowError("missing_column", f"{self.completion}: missing (have: {sorted(row)[:8]}); expected the "
                                              "completion column (--map completion=COLUMN)")
        completion = row[self.completion]
        prompt = row.get(self.prompt, "")
        for name, v in (("completion", completion), ("prompt", prompt)):
            if not _is_text(v):
                raise _RowError("bad_type", f"{name}: is {type(v).__name__}; expected a string or a list of "
                                            "chat messages")
        renamed = dict(self.renames)
        used = {self.prompt, self.completion, *renamed.values()}
        cols = {k: v for k, v in row.items() if k not in used}
        for name, column in renamed.items():
            if column not in row:
                raise _RowError("missing_column", f"{column}: missing; expected the column mapped to {name}")
            cols[name] = row[column]
        return prompt, completion, cols


class _RowError(Exception):
    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind, self.detail = kind, detail


def _is_text(v: Any) -> bool:
    if isinstance(v, str):
        return True
    return isinstance(v, (list, tuple)) and bool(v) and all(isinstance(m, Mapping) for m in v)


def _composed(reward: Any) -> Any:
    from rewardkit.integrations.trl import _as_composed

    return _as_composed(reward)


def score_columns(reward: Any) -> list[str]:
    """The output fields :func:`score_rows` writes for ``reward``, in order.

    Example:
        >>> from rewardkit.core import Constant
        >>> score_columns(Constant(1.0, "bonus"))
        ['rk_total', 'rk_term_bonus', 'rk_error', 'rk_error_detail', 'rk_latency_ms']
    """
    return [TOTAL, *(TERM_PREFIX + n for n in _composed(reward).terms), ERROR, DETAIL, LATENCY]


def _finite(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def score_rows(reward: Any, rows: Sequence[Any], *, columns: ColumnMap | None = None,
               fail_value: float = 0.0) -> list[dict[str, Any]]:
    """Score each row on its own; return one dict of :func:`score_columns` fields per row, in order.

    ``reward`` is a :class:`~rewardkit.core.ComposedReward` or a term; ``rows`` are mappings
    (a non-mapping row, e.g. :class:`MalformedRow`, is an error row).  Never raises for a
    bad row: it gets ``rk_total = fail_value``, null terms and an ``rk_error`` type.
    Non-finite term values are written as null.  See the module docs for the fields.
    """
    from rewardkit.integrations.trl import score_samples

    composed = _composed(reward)
    names = list(composed.terms)
    cmap = columns or ColumnMap()
    out: list[dict[str, Any]] = []
    for row in rows:
        t0 = time.perf_counter()
        rec: dict[str, Any] = {TOTAL: float(fail_value), **{TERM_PREFIX + n: None for n in names},
                               ERROR: None, DETAIL: None}
        try:
            if not isinstance(row, Mapping):
                reason = row.reason if isinstance(row, MalformedRow) else f"a {type(row).__name__}"
                raise _RowError("malformed_row", f"row: {reason}; expected a JSON object")
            prompt, completion, cols = cmap.sample(row)
            scored = score_samples(composed, [prompt], [completion], {k: [v] for k, v in cols.items()})
            rec[TOTAL] = _finite(scored.result.total[0])
            for n in names:
                rec[TERM_PREFIX + n] = _finite(scored.term_values(n)[0])
            codes = [f"{n}:{errs[0]}" for n, errs in scored.errors.items() if errs and errs[0]]
            if codes:
                rec[ERROR] = ",".join(codes)
                rec[DETAIL] = "verifier error codes (the terms scored the row with their fail values)"
        except _RowError as e:
            rec[ERROR], rec[DETAIL] = e.kind, e.detail
        except Exception as e:  # a term raised on this row: the row gets the fail value, the job goes on
            rec[TOTAL] = float(fail_value)
            for n in names:
                rec[TERM_PREFIX + n] = None
            rec[ERROR], rec[DETAIL] = type(e).__name__, " ".join(str(e).split())[:300]
        rec[LATENCY] = (time.perf_counter() - t0) * 1e3
        out.append(rec)
    return out


# ---------------------------------------------------------------------------------------------- files


def iter_jsonl(path: str | os.PathLike, max_line_bytes: int | None = None) -> Iterator[tuple[int, Any]]:
    """``(line number, row)`` for each non-blank line of a JSONL file, never raising for a bad line.

    ``row`` is the line's JSON object, or a :class:`MalformedRow` saying why it is not one (not
    UTF-8 JSON, another JSON type, or longer than ``max_line_bytes``, which is then not parsed).
    The one JSONL row reader of ``rewardkit score`` and ``rewardkit audit --samples``.

    Example:
        >>> import os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "r.jsonl")
        >>> _ = open(p, "w").write('{"a": 1}\\n\\n[1]\\n{"a": 22222}\\n')
        >>> for n, row in iter_jsonl(p, max_line_bytes=10):
        ...     print(n, row)
        1 {'a': 1}
        3 MalformedRow(reason='line 3: a JSON list')
        4 MalformedRow(reason='line 4: longer than 10 bytes')
    """
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line:
                continue
            if max_line_bytes is not None and len(raw) > max_line_bytes:
                yield lineno, MalformedRow(f"line {lineno}: longer than {max_line_bytes} bytes")
                continue
            try:
                obj = json.loads(line)
            except (ValueError, UnicodeDecodeError) as e:
                yield lineno, MalformedRow(f"line {lineno}: not valid JSON ({str(e)[:80]})")
                continue
            yield lineno, obj if isinstance(obj, dict) else MalformedRow(f"line {lineno}: a JSON {type(obj).__name__}")


def _count_jsonl(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        for raw in f:
            n += bool(raw.strip())
    return n


def _input_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise ConfigError("--input", f"{path.name}: unknown format {suffix or '(no suffix)'!r}",
                      "a .jsonl or .parquet file")


def _chunks(path: Path, chunk_rows: int) -> Iterator[tuple[int, Any, list[Any]]]:
    """``(index, input arrow table, rows)`` for consecutive chunks of ``chunk_rows`` rows."""
    import pyarrow as pa

    if _input_kind(path) == "jsonl":
        buf: list[Any] = []
        i = 0
        for _, row in iter_jsonl(path):
            buf.append(row)
            if len(buf) == chunk_rows:
                yield i, _table_from_rows(buf), buf
                i, buf = i + 1, []
        if buf:
            yield i, _table_from_rows(buf), buf
        return
    import pyarrow.parquet as pq

    pending: list[Any] = []
    have = 0
    i = 0
    with pq.ParquetFile(path) as pf:
        for batch in pf.iter_batches(batch_size=chunk_rows):
            pending.append(batch)
            have += batch.num_rows
            while have >= chunk_rows:
                table = pa.Table.from_batches(pending)
                head, rest = table.slice(0, chunk_rows), table.slice(chunk_rows)
                yield i, head, head.to_pylist()
                i += 1
                pending, have = rest.to_batches(), rest.num_rows
        if have:
            table = pa.Table.from_batches(pending)
            yield i, table, table.to_pylist()


def _table_from_rows(rows: list[Any]) -> Any:
    """Input rows as an arrow table (a malformed row is all-null; a column of mixed types becomes JSON text)."""
    import pyarrow as pa

    dicts = [r if isinstance(r, dict) else {} for r in rows]
    try:
        return pa.Table.from_pylist(dicts)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    names: dict[str, None] = {}
    for d in dicts:
        names.update(dict.fromkeys(d))
    arrays = {}
    for name in names:
        values = [d.get(name) for d in dicts]
        try:
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays[name] = pa.array([None if v is None else json.dumps(v) for v in values], pa.string())
    return pa.table(arrays)


def _score_table(names: list[str], scores: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    cols = {c: pa.array([s[c] for s in scores], pa.float64()) for c in [TOTAL, *(TERM_PREFIX + n for n in names)]}
    cols[ERROR] = pa.array([s[ERROR] for s in scores], pa.string())
    cols[DETAIL] = pa.array([s[DETAIL] for s in scores], pa.string())
    cols[LATENCY] = pa.array([s[LATENCY] for s in scores], pa.float64())
    return pa.table(cols)


def _join(inputs: Any, names: list[str], scores: list[dict[str, Any]]) -> Any:
    table = inputs
    new = _score_table(names, scores)
    for name, col in zip(new.column_names, new.columns, strict=True):
        if name in table.column_names:
            table = table.drop_columns([name])  # re-scoring a scored file replaces its score columns
        table = table.append_column(name, col)
    return table


def _table_bytes(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue())


# --------------------------------------------------------------------------------------------- backends


def _source(reward: Any) -> tuple[str, Any]:
    """What a worker builds the reward from: ``("config", path | mapping)`` or ``("pickle", bytes)``."""
    if isinstance(reward, (str, os.PathLike)):
        return "config", os.fspath(reward)
    if isinstance(reward, Mapping):
        return "config", dict(reward)
    try:
        return "pickle", pickle.dumps(_composed(reward))
    except Exception as e:
        raise ConfigError("reward", f"cannot be sent to worker processes ({type(e).__name__})",
                          "a config path or mapping, or a picklable reward") from None


def _build(source: tuple[str, Any]) -> Any:
    from rewardkit.integrations.serve_worker import build_from_source

    return build_from_source(source)


def _worker(conn: Any) -> None:
    """Child entry: build the reward once, then score ``(index, rows)`` jobs until ``None``."""
    from rewardkit.core.interpreter import serve_jobs

    def setup(message: Any) -> tuple[Any, Any, float]:
        source, cmap, fail_value = message
        return _build(source), cmap, fail_value

    def handle(state: tuple[Any, Any, float], job: Any) -> Any:
        reward, cmap, fail_value = state
        index, rows = job
        return index, score_rows(reward, rows, columns=cmap, fail_value=fail_value)

    serve_jobs(conn, setup, handle)


class _InProcess:
    """``workers=0``: score in this process (for tests and rewards that cannot be rebuilt elsewhere)."""

    def __init__(self, source: tuple[str, Any], cmap: ColumnMap, fail_value: float, reward: Any = None):
        self.reward = reward if reward is not None else _build(source)
        self.cmap, self.fail_value = cmap, fail_value
        self.size = 1
        self.done: list[tuple[int, list[dict[str, Any]]]] = []

    def submit(self, index: int, rows: list[Any]) -> None:
        self.done.append((index, score_rows(self.reward, rows, columns=self.cmap, fail_value=self.fail_value)))

    def next_done(self) -> tuple[int, list[dict[str, Any]]]:
        return self.done.pop(0)

    def close(self) -> None:
        pass


class _LocalPool:
    """``size`` fresh-interpreter workers; a chunk whose worker died is retried once on a new worker."""

    def __init__(self, source: tuple[str, Any], cmap: ColumnMap, fail_value: float, size: int,
                 startup_timeout: float = 120.0):
        self.payload = (source, cmap, fail_value)
        self.size = size
        self.startup_timeout = startup_timeout
        self.idle: list[Any] = []
        self.busy: dict[Any, tuple[Any, int, list[Any], int]] = {}  # conn -> (worker, index, rows, attempt)
        self._all: set[Any] = set()
        try:
            started = [self._start() for _ in range(size)]
            for w in started:
                self._ready(w)
                self.idle.append(w)
        except BaseException:
            self.close()
            raise

    def _start(self) -> Any:
        from rewardkit.core.interpreter import ChildInterpreter

        w = ChildInterpreter("rewardkit.runner.score:_worker", name="scoring worker")
        w.conn.send(self.payload)
        self._all.add(w)
        return w

    def _ready(self, w: Any) -> None:
        from rewardkit.core.interpreter import WorkerStartError

        try:
            w.wait_ready(self.startup_timeout)
        except WorkerStartError as e:
            raise ConfigError("reward", f"a scoring worker could not build it ({e})",
                              "a reward that builds in a fresh interpreter") from None

    def submit(self, index: int, rows: list[Any], attempt: int = 0) -> None:
        w = self.idle.pop()
        w.conn.send((index, rows))
        self.busy[w.conn] = (w, index, rows, attempt)

    def next_done(self) -> tuple[int, list[dict[str, Any]]]:
        from multiprocessing.connection import wait

        while True:
            for conn in wait(list(self.busy)):
                w, index, rows, attempt = self.busy.pop(conn)
                try:
                    got_index, scores = conn.recv()
                except (EOFError, OSError):
                    w.kill()
                    self._all.discard(w)
                    if attempt >= 1:
                        raise OutputError(f"chunk {index}", "its scoring worker died twice",
                                          "a reward that does not crash the interpreter") from None
                    fresh = self._start()
                    self._ready(fresh)
                    self.idle.append(fresh)
                    self.submit(index, rows, attempt + 1)
                    continue
                self.idle.append(w)
                return got_index, scores

    def close(self) -> None:
        for w in list(self._all):
            w.stop()
        self.idle, self.busy = [], {}


class _RayPool:
    """``size`` Ray actors, each building the reward once; chunks are actor tasks (see :mod:`.ray_backend`)."""

    def __init__(self, source: tuple[str, Any], cmap: ColumnMap, fail_value: float, size: int | None):
        import ray

        from .ray_backend import score_actor_class

        actor = score_actor_class()
        if size is None:
            size = max(1, int(ray.available_resources().get("CPU", 1)))
        self.size = size
        self.actors = [actor.remote(source, cmap, fail_value, list(sys.path)) for _ in range(size)]
        ray.get([a.ready.remote() for a in self.actors])
        self.idle = list(self.actors)
        self.busy: dict[Any, tuple[Any, int]] = {}
        self.started = False

    def submit(self, index: int, rows: list[Any]) -> None:
        a = self.idle.pop()
        self.busy[a.score.remote(rows)] = (a, index)

    def next_done(self) -> tuple[int, list[dict[str, Any]]]:
        import ray

        [ref], _ = ray.wait(list(self.busy), num_returns=1)
        a, index = self.busy.pop(ref)
        self.idle.append(a)
        return index, ray.get(ref)

    def close(self) -> None:
        import ray

        for a in self.actors:
            ray.kill(a)
        self.actors, self.idle, self.busy = [], [], {}
        if self.started:  # this job started the local cluster: stop it
            ray.shutdown()


# ------------------------------------------------------------------------------------------ the job


@dataclass
class ScoreSummary:
    """What :func:`score_file` did: rows and chunks scored now, chunks resumed, error rows, rows/s.

    ``extra`` holds ``startup_s`` (starting the workers or actors, each building the reward) and
    ``resumed_rows``.
    """

    output: Path
    rows: int = 0
    chunks: int = 0
    scored_chunks: int = 0
    resumed_chunks: int = 0
    error_rows: int = 0
    wall_s: float = 0.0
    backend: str = "local"
    workers: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        """Rows scored in this call per second of wall time (resumed chunks excluded)."""
        scored = self.rows - self.extra.get("resumed_rows", 0)
        return scored / self.wall_s if self.wall_s > 0 else 0.0


def _fingerprint(source: tuple[str, Any], path: Path, cmap: ColumnMap, fail_value: float, chunk_rows: int) -> str:
    st = path.stat()
    kind, value = source
    if kind == "config" and not isinstance(value, dict):
        value = Path(value).read_bytes().hex()
    ident = {"input": [str(path.resolve()), st.st_size, st.st_mtime_ns], "chunk_rows": chunk_rows,
             "reward": hashlib.sha256(pickle.dumps((kind, value))).hexdigest() if kind == "pickle"
             else hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest(),
             "columns": [cmap.prompt, cmap.completion, list(cmap.renames)], "fail_value": fail_value}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


def parts_dir(output: str | os.PathLike) -> Path:
    """The folder of finished chunks of ``output`` (``<output>.parts``)."""
    p = Path(output)
    return p.with_name(p.name + ".parts")


def _chunk_path(parts: Path, index: int) -> Path:
    return parts / f"chunk-{index:07d}.parquet"


def score_file(reward: Any, input: str | os.PathLike, output: str | os.PathLike, *,
               backend: str = "local", workers: int | None = None, address: str | None = None,
               columns: ColumnMap | None = None, fail_value: float = 0.0, chunk_rows: int = DEFAULT_CHUNK_ROWS,
               progress: bool | Callable[[int, int], None] = False) -> ScoreSummary:
    """Score every row of ``input`` (JSONL/Parquet) into the Parquet file ``output``; resumable.

    ``reward``: a config path or mapping (each worker builds it), or a picklable reward.
    ``backend``: ``"local"`` (``workers`` processes; ``0`` = in this process; default: CPUs)
    or ``"ray"`` (``workers`` actors on the cluster at ``address``, or a local one started here).
    ``progress``: a rich progress bar on stderr when True, or a callback ``(rows done, total)``.

    Example:
        >>> import json, tempfile, pathlib, pyarrow.parquet as pq
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "in.jsonl").write_text(json.dumps({"prompt": "p", "completion": "abc"}) + "\\nnot json\\n")
        >>> cfg = {"terms": [{"type": "think_answer_format", "name": "format"}]}
        >>> s = score_file(cfg, d / "in.jsonl", d / "out.parquet", workers=0)
        >>> t = pq.read_table(d / "out.parquet")
        >>> s.rows, t.column("rk_error").to_pylist(), t.column("completion").to_pylist()
        (2, ['format:missing_tag', 'malformed_row'], ['abc', None])
    """
    t0 = time.perf_counter()
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ConfigError("--output", "Parquet needs pyarrow, which is not installed", "pip install 'rewardkit[score]'"
                          ) from None
    src, out = Path(input), Path(output)
    if not src.is_file():
        raise ConfigError("--input", f"{src}: not a file", "a .jsonl or .parquet file")
    _input_kind(src)
    if backend not in ("local", "ray"):
        raise ConfigError("--backend", f"got {backend!r}", "local or ray")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or not 0 <= workers <= 256):
        raise ConfigError("--workers", f"got {workers!r}", "an integer in [0, 256] (0 = in-process, local only)")
    if not isinstance(chunk_rows, int) or not 1 <= chunk_rows <= 1_000_000:
        raise ConfigError("--chunk-rows", f"got {chunk_rows!r}", "an integer in [1, 1000000]")
    if out.suffix.lower() not in (".parquet", ".pq"):
        raise ConfigError("--output", f"{out.name}: not a .parquet file", "a path ending in .parquet")
    cmap = columns or ColumnMap()
    source = _source(reward)
    built = _build(source)  # here first: a bad config is one line before any worker starts
    names = list(_composed(built).terms)
    parts = parts_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = ScoreSummary(out, backend=backend)
    with OutputLock(parts):
        stamp = _fingerprint(source, src, cmap, fail_value, chunk_rows)
        manifest = parts / "manifest.json"
        if manifest.exists():
            old = json.loads(manifest.read_text()).get("job")
            if old != stamp:
                raise OutputError(str(parts), "holds chunks of a different job (input, reward, --map, "
                                  "--fail-value or --chunk-rows changed)", "the same job, or remove that folder")
        else:
            atomic_write(manifest, json.dumps({"job": stamp, "input": str(src), "chunk_rows": chunk_rows}))
        total = _total_rows(src)
        t_pool = time.perf_counter()
        pool = _open_pool(backend, source, cmap, fail_value, workers, address, built)
        summary.workers = pool.size
        summary.extra["startup_s"] = time.perf_counter() - t_pool
        try:
            with _Bar(progress, total) as bar:
                _drive(pool, _chunks(src, chunk_rows), parts, names, summary, bar)
        finally:
            pool.close()
        _merge(parts, out, summary.chunks)
    shutil.rmtree(parts, ignore_errors=True)
    summary.wall_s = time.perf_counter() - t0
    return summary


def _total_rows(path: Path) -> int:
    if _input_kind(path) == "jsonl":
        return _count_jsonl(path)
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        return int(pf.metadata.num_rows)


def _open_pool(backend: str, source: tuple[str, Any], cmap: ColumnMap, fail_value: float, workers: int | None,
               address: str | None, built: Any) -> Any:
    if backend == "ray":
        from rewardkit.integrations.ray_cluster import ensure_ray

        if workers == 0:
            raise ConfigError("--workers", "got 0 with --backend ray", "at least 1 actor")
        started = ensure_ray(address, num_cpus=workers)
        pool = _RayPool(source, cmap, fail_value, workers)
        pool.started = started
        return pool
    if workers == 0:
        return _InProcess(source, cmap, fail_value, built)
    if workers is None:
        from rewardkit.integrations.serve_pool import default_workers

        workers = default_workers()
    return _LocalPool(source, cmap, fail_value, workers)


def _drive(pool: Any, chunks: Iterator[tuple[int, Any, list[Any]]], parts: Path, names: list[str],
           summary: ScoreSummary, bar: _Bar) -> None:
    """Keep every worker busy with at most ``2 x size`` chunks held; write each finished chunk atomically."""
    inputs: dict[int, Any] = {}
    in_flight = 0
    limit = pool.size
    resumed_rows = 0

    def finish() -> None:
        nonlocal in_flight
        index, scores = pool.next_done()
        in_flight -= 1
        table = _join(inputs.pop(index), names, scores)
        atomic_write(_chunk_path(parts, index), _table_bytes(table))
        summary.scored_chunks += 1
        summary.error_rows += sum(s[ERROR] is not None for s in scores)
        bar.advance(len(scores))

    for index, table, rows in chunks:
        summary.chunks = index + 1
        summary.rows += len(rows)
        if _chunk_path(parts, index).exists():
            summary.resumed_chunks += 1
            resumed_rows += len(rows)
            bar.advance(len(rows))
            continue
        while in_flight >= limit:
            finish()
        inputs[index] = table
        pool.submit(index, rows)
        in_flight += 1
    while in_flight:
        finish()
    summary.extra["resumed_rows"] = resumed_rows


def _merge(parts: Path, out: Path, n_chunks: int) -> None:
    """Concatenate the chunk files, in order and one at a time, into ``out`` (replaced atomically)."""
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = [_chunk_path(parts, i) for i in range(n_chunks)]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise OutputError(str(parts), f"chunks missing after scoring: {missing[:3]}", "every chunk written")
    if not paths:
        schema = pa.schema([])
    else:
        try:
            schema = pa.unify_schemas([pq.read_schema(p) for p in paths], promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise OutputError("--input", f"a column changes type between chunks ({str(e).splitlines()[0][:160]})",
                              "one type per column") from None
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            for p in paths:
                table = pq.read_table(p)
                writer.write_table(table.select(schema.names).cast(schema) if table.schema != schema else table)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Bar:
    """A rich progress bar over rows (``progress=True``), a callback, or nothing; never passes its total."""

    def __init__(self, progress: bool | Callable[[int, int], None], total: int):
        self.total, self.done = total, 0
        self.callback = progress if callable(progress) else None
        self.bar: Any = None
        if progress is True:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self.bar = Progress(TextColumn("scoring rows"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                TimeRemainingColumn(), console=Console(stderr=True))
            self.task = self.bar.add_task("rows", total=total)

    def __enter__(self) -> _Bar:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()

    def advance(self, n: int) -> None:
        self.done = min(self.done + n, self.total)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)
        if self.callback is not None:
            self.callback(self.done, self.total)

