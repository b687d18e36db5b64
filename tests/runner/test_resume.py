"""Resumability: kill `rewardkit run` (SIGKILL) after the first run completed, rerun, nothing is redone."""

from __future__ import annotations

import copy
import os
import signal
import sqlite3
import subprocess
import sys
import time

from rewardkit.cli.main import main

from _runner_helpers import CHAIN, write_spec
from _runner_helpers import query as _q


def _slow_spec(parallel: int) -> dict:
    spec = copy.deepcopy(CHAIN)
    spec["name"] = f"resume{parallel}"
    spec["budget"] = {"episodes": 1000}  # ~20k env steps per run: about a second, so the kill lands mid-experiment
    spec["eval"] = {"every": 250, "episodes": 3}
    spec["seeds"] = 3
    spec["parallel"] = parallel
    spec["variants"] = {"env": spec["variants"]["env"]}
    return spec


def _kill_after_first_done(tmp_path, parallel: int):
    f = write_spec(tmp_path / "exp.yaml", _slow_spec(parallel))
    out = tmp_path / "out"
    db = out / "results.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "rewardkit.cli.main", "run", str(f), "--out", str(out),
                             "--no-progress", "--no-tensorboard"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 150
    done = 0
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                done = _q(db, "SELECT COUNT(*) FROM runs WHERE status = 'done'")[0][0]
            except sqlite3.OperationalError:  # tables not created yet
                done = 0
            if done >= 1:
                break
        time.sleep(0.02)
    assert proc.poll() is None, f"experiment ended before it could be killed: {proc.stderr.read()!r}"
    os.kill(proc.pid, signal.SIGKILL)  # only the parent: its workers must die with it
    proc.wait(timeout=30)
    return f, out, db


def _check_resume(f, out, db, capsys, parallel_flag):
    time.sleep(1.0)
    before = _q(db, "SELECT run_key, status, attempts, finished FROM runs ORDER BY run_key")
    evals_before = _q(db, "SELECT run_key, step, created FROM evals ORDER BY run_key, step")
    time.sleep(1.0)  # no orphan worker keeps writing after the parent died
    assert _q(db, "SELECT run_key, step, created FROM evals ORDER BY run_key, step") == evals_before
    done_before = {k: (a, fin) for k, st, a, fin in before if st == "done"}
    interrupted = {k for k, st, *_ in before if st == "running"}
    assert 1 <= len(done_before) < 3
    assert main(["run", str(f), "--out", str(out), "--no-progress", "--no-tensorboard", *parallel_flag]) == 0
    assert f"{len(done_before)} already done" in capsys.readouterr().out
    after = {k: (st, a, fin) for k, st, a, fin in _q(db, "SELECT run_key, status, attempts, finished FROM runs")}
    assert len(after) == 3 and all(st == "done" for st, _, _ in after.values())
    for k, (a, fin) in done_before.items():  # completed runs untouched
        assert after[k][1:] == (a, fin)
        assert _q(db, "SELECT run_key, step, created FROM evals WHERE run_key = ? ORDER BY step", k) == \
            [e for e in evals_before if e[0] == k]
    for k in interrupted:  # restarted from step 0, partial rows replaced
        assert after[k][1] == 2
    for k in after:  # every run complete: steps 0, 250, ..., 1000
        assert [s for (s,) in _q(db, "SELECT step FROM evals WHERE run_key = ? ORDER BY step", k)] == \
            list(range(0, 1001, 250))


def test_kill_and_resume_sequential(tmp_path, capsys):
    f, out, db = _kill_after_first_done(tmp_path, parallel=1)
    _check_resume(f, out, db, capsys, [])


def test_kill_and_resume_worker_pool(tmp_path, capsys):
    f, out, db = _kill_after_first_done(tmp_path, parallel=2)
    _check_resume(f, out, db, capsys, ["--parallel", "1"])
