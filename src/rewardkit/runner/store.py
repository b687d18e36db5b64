"""The results database: one SQLite file (stdlib ``sqlite3``, WAL journal).

Tables:

* ``experiments(config_hash, name, spec_json, created)`` – each experiment spec seen;
* ``runs(run_key, config_hash, variant, seed, seed_index, status, ...)`` – one row per
  run; ``run_key`` is the hash of the canonical run config
  (:meth:`~rewardkit.runner.spec.ExperimentSpec.run_config`), ``status`` is
  ``running`` | ``done`` | ``failed``;
* ``evals(run_key, step, ...)`` – one row per evaluation point: mean/std of the
  episode return under the **original** env reward, success rate, mean episode
  length, the mean training-episode env return and shaped return since the previous
  point, wall time since the run started;
* ``term_returns(run_key, step, term, value)`` – mean per-term training-episode
  return since the previous point (one row per reward term);
* ``samples(run_key, step, sample, ...)`` – one row per scored model output of
  ``rewardkit eval`` (step = prompt index): the completion, the total reward, per-term
  values and verifier errors (JSON), the generation error and latency;
* view ``eval_points`` – ``evals`` joined with the run's ``config_hash``, ``variant``
  and ``seed`` (one row per evaluation point, ready for analysis).

Durability and resume.  Every evaluation point is committed in its own
transaction, so killing a run loses at most the point being computed.  A run is
``done`` only after its last point is committed.  On restart, ``done`` runs are
skipped; a run left ``running`` or ``failed`` is *restarted from step 0*: its
partial rows are deleted first (:meth:`ResultStore.start_run`), because the learner
is not checkpointed mid-run and continuing from a fresh learner would splice two
different training histories into one curve.

Example:
    >>> import tempfile, os
    >>> db = ResultStore(os.path.join(tempfile.mkdtemp(), "r.sqlite"))
    >>> db.start_run("k1", "cfg", "sparse", 0, 0, {"seed": 0})
    >>> db.add_eval("k1", 1000, {"return_mean": 0.5, "success_rate": 1.0}, {"task": 0.5})
    >>> db.finish_run("k1", steps=1000)
    >>> db.status("k1"), len(db.evals("k1")), db.term_returns("k1")[0]["term"]
    ('done', 1, 'task')
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Mapping

__all__ = ["EVAL_COLUMNS", "ResultStore"]

#: numeric columns of ``evals`` besides run_key/step/created
EVAL_COLUMNS = ("episodes", "return_mean", "return_std", "success_rate", "length_mean",
                "train_env_return", "train_return", "train_episodes", "wall_s")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    config_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_key TEXT PRIMARY KEY,
    config_hash TEXT,
    variant TEXT NOT NULL,
    seed INTEGER NOT NULL,
    seed_index INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    started REAL,
    finished REAL,
    wall_s REAL,
    steps INTEGER,
    error TEXT,
    pid INTEGER,
    config_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS evals (
    run_key TEXT NOT NULL REFERENCES runs(run_key),
    step INTEGER NOT NULL,
    episodes INTEGER,
    return_mean REAL,
    return_std REAL,
    success_rate REAL,
    length_mean REAL,
    train_env_return REAL,
    train_return REAL,
    train_episodes INTEGER,
    wall_s REAL,
    created REAL NOT NULL,
    PRIMARY KEY (run_key, step)
);
CREATE VIEW IF NOT EXISTS eval_points AS
    SELECT r.config_hash, r.variant, r.seed, e.* FROM evals e JOIN runs r USING (run_key);
CREATE TABLE IF NOT EXISTS coverage (
    run_key TEXT NOT NULL REFERENCES runs(run_key),
    step INTEGER NOT NULL,
    unique_cells INTEGER NOT NULL,
    visits_json TEXT NOT NULL,
    PRIMARY KEY (run_key, step)
);
CREATE TABLE IF NOT EXISTS samples (
    run_key TEXT NOT NULL REFERENCES runs(run_key),
    step INTEGER NOT NULL,
    sample INTEGER NOT NULL,
    completion TEXT,
    total REAL,
    terms_json TEXT NOT NULL,
    error TEXT,
    latency REAL,
    PRIMARY KEY (run_key, step, sample)
);
CREATE TABLE IF NOT EXISTS term_returns (
    run_key TEXT NOT NULL REFERENCES runs(run_key),
    step INTEGER NOT NULL,
    term TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_key, step, term)
);
"""


class ResultStore:
    """A connection to the results database (create it if missing).

    One instance per process; SQLite's WAL mode lets several worker processes
    write their own runs while the parent reads progress.
    """

    def __init__(self, path: str | os.PathLike, timeout: float = 60.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        with self._tx():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)

    # ----------------------------------------------------------------- basics
    def _tx(self):
        return _Transaction(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------ experiments
    def add_experiment(self, config_hash: str, name: str, spec: Mapping[str, Any]) -> None:
        with self._tx():
            self.conn.execute("INSERT OR REPLACE INTO experiments VALUES (?, ?, ?, ?)",
                              (config_hash, name, json.dumps(spec, sort_keys=True, default=str), time.time()))

    # ------------------------------------------------------------------- runs
    def status(self, run_key: str) -> str | None:
        row = self.conn.execute("SELECT status FROM runs WHERE run_key = ?", (run_key,)).fetchone()
        return None if row is None else row["status"]

    def statuses(self, run_keys: Iterable[str]) -> dict[str, str]:
        keys = list(run_keys)
        if not keys:
            return {}
        q = f"SELECT run_key, status FROM runs WHERE run_key IN ({','.join('?' * len(keys))})"
        return {r["run_key"]: r["status"] for r in self.conn.execute(q, keys)}

    def start_run(self, run_key: str, config_hash: str, variant: str, seed: int, seed_index: int,
                  config: Mapping[str, Any]) -> None:
        """Mark a run ``running`` and delete any partial rows of an earlier attempt."""
        with self._tx():
            self.conn.execute("DELETE FROM evals WHERE run_key = ?", (run_key,))
            self.conn.execute("DELETE FROM term_returns WHERE run_key = ?", (run_key,))
            self.conn.execute("DELETE FROM samples WHERE run_key = ?", (run_key,))
            prev = self.conn.execute("SELECT attempts FROM runs WHERE run_key = ?", (run_key,)).fetchone()
            attempts = (prev["attempts"] if prev else 0) + 1
            self.conn.execute(
                "INSERT OR REPLACE INTO runs (run_key, config_hash, variant, seed, seed_index, status, attempts, "
                "started, finished, wall_s, steps, error, pid, config_json) "
                "VALUES (?, ?, ?, ?, ?, 'running', ?, ?, NULL, NULL, 0, NULL, ?, ?)",
                (run_key, config_hash, variant, int(seed), int(seed_index), attempts, time.time(), os.getpid(),
                 json.dumps(config, sort_keys=True, default=str)))

    def add_eval(self, run_key: str, step: int, values: Mapping[str, Any],
                 term_returns: Mapping[str, float] | None = None,
                 samples: Iterable[Mapping[str, Any]] | None = None) -> None:
        """Commit one evaluation point (and its per-term returns and scored samples) atomically.

        A sample is ``{"sample", "completion", "total", "terms": {...}, "errors": {...}, "error", "latency"}``.
        """
        cols = [c for c in EVAL_COLUMNS if c in values]
        with self._tx():
            self.conn.execute(
                f"INSERT OR REPLACE INTO evals (run_key, step, created{''.join(', ' + c for c in cols)}) "
                f"VALUES (?, ?, ?{', ?' * len(cols)})",
                (run_key, int(step), time.time(), *[_num(values[c]) for c in cols]))
            for term, v in (term_returns or {}).items():
                self.conn.execute("INSERT OR REPLACE INTO term_returns VALUES (?, ?, ?, ?)",
                                  (run_key, int(step), term, _num(v)))
            for smp in samples or ():
                self.conn.execute(
                    "INSERT OR REPLACE INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_key, int(step), int(smp["sample"]), smp.get("completion"), _num(smp.get("total")),
                     json.dumps({"terms": smp.get("terms", {}), "errors": smp.get("errors", {})}, default=str),
                     smp.get("error"), _num(smp.get("latency"))))
            cov = values.get("coverage")
            if cov is not None:  # {"unique": int, "cells": [[x, y, visits], ...], "shape": [w, h] or None}
                visits = {"cells": [[int(c) for c in cell] for cell in cov["cells"]],
                          "shape": None if cov.get("shape") is None else [int(x) for x in cov["shape"]]}
                self.conn.execute("INSERT OR REPLACE INTO coverage VALUES (?, ?, ?, ?)",
                                  (run_key, int(step), int(cov["unique"]), json.dumps(visits)))
            self.conn.execute("UPDATE runs SET steps = ? WHERE run_key = ?", (int(step), run_key))

    def finish_run(self, run_key: str, steps: int, wall_s: float | None = None) -> None:
        with self._tx():
            row = self.conn.execute("SELECT started FROM runs WHERE run_key = ?", (run_key,)).fetchone()
            now = time.time()
            wall = wall_s if wall_s is not None else (now - row["started"] if row and row["started"] else None)
            self.conn.execute("UPDATE runs SET status = 'done', finished = ?, wall_s = ?, steps = ?, error = NULL "
                              "WHERE run_key = ?", (now, wall, int(steps), run_key))

    def fail_run(self, run_key: str, error: str) -> None:
        with self._tx():
            self.conn.execute("UPDATE runs SET status = 'failed', finished = ?, error = ? WHERE run_key = ?",
                              (time.time(), error[:2000], run_key))

    # ---------------------------------------------------------------- queries
    def run(self, run_key: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM runs WHERE run_key = ?", (run_key,)).fetchone()
        return None if row is None else dict(row)

    def runs(self, run_keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
        if run_keys is None:
            return [dict(r) for r in self.conn.execute("SELECT * FROM runs ORDER BY variant, seed")]
        keys = list(run_keys)
        if not keys:
            return []
        q = f"SELECT * FROM runs WHERE run_key IN ({','.join('?' * len(keys))}) ORDER BY variant, seed"
        return [dict(r) for r in self.conn.execute(q, keys)]

    def evals(self, run_key: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM evals WHERE run_key = ? ORDER BY step", (run_key,))]

    def coverage(self, run_key: str) -> list[dict[str, Any]]:
        """Training coverage points: ``step``, ``unique_cells``, ``visits`` (``[[x, y, n], ...]``) and
        the grid ``shape`` (``[width, height]`` or None)."""
        rows = self.conn.execute("SELECT step, unique_cells, visits_json FROM coverage WHERE run_key = ? "
                                 "ORDER BY step", (run_key,))
        out = []
        for r in rows:
            v = json.loads(r["visits_json"])
            out.append({"step": r["step"], "unique_cells": r["unique_cells"], "visits": v["cells"],
                        "shape": v.get("shape")})
        return out

    def points(self, run_key: str) -> list[tuple[int, dict[str, Any], dict[str, float]]]:
        """The run's evaluation points as they were committed: ``(step, values, term_returns)``, the
        arguments :meth:`add_eval` received (``values["coverage"]`` holds ``{"unique": n}`` when stored).

        Replaying them gives the same scalars as the live stream (see :func:`rewardkit.runner.tb.scalars`).
        """
        terms: dict[int, dict[str, float]] = {}
        for r in self.term_returns(run_key):
            terms.setdefault(int(r["step"]), {})[r["term"]] = r["value"]
        cov = {int(c["step"]): c["unique_cells"] for c in self.conn.execute(
            "SELECT step, unique_cells FROM coverage WHERE run_key = ?", (run_key,))}
        out = []
        for e in self.evals(run_key):
            step = int(e["step"])
            values = {c: e[c] for c in EVAL_COLUMNS if e.get(c) is not None}
            if step in cov:
                values["coverage"] = {"unique": cov[step]}
            out.append((step, values, terms.get(step, {})))
        return out

    def samples(self, run_key: str) -> list[dict[str, Any]]:
        """Scored samples of an eval run, by prompt then sample: the columns plus ``terms`` and ``errors``."""
        out = []
        for r in self.conn.execute("SELECT * FROM samples WHERE run_key = ? ORDER BY step, sample", (run_key,)):
            d = dict(r)
            d.update(json.loads(d.pop("terms_json")))
            out.append(d)
        return out

    def term_returns(self, run_key: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(
            "SELECT * FROM term_returns WHERE run_key = ? ORDER BY step, term", (run_key,))]


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rollback on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")


def _num(v: Any) -> Any:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f else None  # NaN -> NULL
