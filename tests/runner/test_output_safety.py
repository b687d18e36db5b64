"""The output folder: one writer at a time, nothing written outside it, reports replaced atomically."""

from __future__ import annotations

import copy
import errno
import os
import pickle
import sqlite3
import subprocess
import sys
import time
from dataclasses import FrozenInstanceError

import pytest

from rewardkit.cli.main import main
from rewardkit.core.errors import OutputError
from rewardkit.runner.files import OutputLock, atomic_write, inside
from rewardkit.runner.report import write_report
from rewardkit.runner.runner import Finished, RunTask, run_experiment
from rewardkit.runner.spec import load_spec, parse_spec

from _runner_helpers import CHAIN, write_spec
from _runner_helpers import query as _q


def test_two_processes_on_one_folder_never_train_a_run_twice(tmp_path):
    spec = copy.deepcopy(CHAIN)
    spec.update(name="lock", budget={"episodes": 1000}, eval={"every": 250, "episodes": 3}, seeds=3, parallel=1)
    spec["variants"] = {"env": spec["variants"]["env"]}
    f = write_spec(tmp_path / "exp.yaml", spec)
    out = tmp_path / "out"
    db = out / "results.sqlite"
    cmd = [sys.executable, "-m", "rewardkit.cli.main", "run", str(f), "--out", str(out), "--no-progress",
           "--no-tensorboard"]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and first.poll() is None:  # wait until the first one is training
        try:
            if _q(db, "SELECT COUNT(*) FROM runs WHERE status = 'running'")[0][0]:
                break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.02)
    assert first.poll() is None, "the first run ended before the second could start"
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        f"error: {out}: in use by another rewardkit run (pid {first.pid}); "
        "expected a different --out, or wait until that run ends"]
    attempts = _q(db, "SELECT status, attempts FROM runs")
    assert attempts == [("done", 1)] * 3  # every run trained exactly once
    # the lock died with its holder: a third run may use the folder (and has nothing to do)
    third = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0 and "0 completed, 3 already done" in third.stdout, third.stderr


def test_lock_in_process(tmp_path):
    with OutputLock(tmp_path / "o"):
        with pytest.raises(OutputError, match=rf"in use by another rewardkit run \(pid {os.getpid()}\)"):
            OutputLock(tmp_path / "o").acquire()
    with OutputLock(tmp_path / "o"):  # released on exit
        pass


def test_names_cannot_leave_the_output_folder(tmp_path):
    for bad in ("..", ".", ".hidden", "a/b", "../x", ""):
        with pytest.raises(Exception, match=r"^name: got"):
            parse_spec(dict(CHAIN, name=bad))
        with pytest.raises(Exception, match=r"bad variant name"):
            parse_spec(dict(CHAIN, variants={bad: CHAIN["variants"]["env"]}))
    assert parse_spec(dict(CHAIN, name="a..b_c-1.0")).name == "a..b_c-1.0"
    with pytest.raises(OutputError, match="leaves the output folder"):
        inside(tmp_path, "tb", "..", "..", "x")
    (tmp_path / "link").symlink_to(tmp_path.parent)
    with pytest.raises(OutputError, match="leaves the output folder"):
        inside(tmp_path, "link", "y")
    assert inside(tmp_path, "tb", "v", "seed0") == tmp_path / "tb" / "v" / "seed0"


def test_full_disk_keeps_the_previous_report(tmp_path, monkeypatch):
    spec = parse_spec(CHAIN)
    out = tmp_path / "out"
    s = run_experiment(spec, out, progress=False, tensorboard=False)
    summary = (out / "summary.md").read_bytes()
    report = s.report.read_bytes()
    assert summary and report

    real_write = os.write

    def full(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(out)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError) as e:
        write_report(spec, s.db_path, out)
    assert e.value.errno == errno.ENOSPC and e.value.filename.startswith(str(out))
    monkeypatch.undo()
    assert (out / "summary.md").read_bytes() == summary  # the old file, not a truncated one
    assert s.report.read_bytes() == report
    assert not [p for p in out.rglob("*.tmp")]


def test_atomic_write_replaces(tmp_path):
    p = tmp_path / "a.md"
    atomic_write(p, "one")
    atomic_write(p, b"two")
    assert p.read_text() == "two" and sorted(x.name for x in tmp_path.iterdir()) == ["a.md"]
    assert oct(p.stat().st_mode & 0o777) == "0o644"


def test_malformed_config_keeps_the_results(tmp_path, capsys):
    f = write_spec(tmp_path / "exp.yaml", CHAIN)
    out = tmp_path / "out"
    args = ["run", str(f), "--out", str(out), "--no-progress", "--no-tensorboard"]
    assert main(args) == 0
    db = out / "results.sqlite"
    rows = _q(db, "SELECT run_key, status, attempts, finished FROM runs ORDER BY run_key")
    evals = _q(db, "SELECT * FROM evals ORDER BY run_key, step")
    summary = (out / "summary.md").read_bytes()
    capsys.readouterr()
    for broken in ("variants: {env: {reward: {terms: [{type: nope}]}}}\n" + f.read_text().split("variants:")[0],
                   f.read_text() + "\nname: [unclosed\n", "a: &a [*a]\n"):
        (tmp_path / "broken.yaml").write_text(broken)
        assert main([args[0], str(tmp_path / "broken.yaml"), *args[2:]]) == 2
        assert capsys.readouterr().err.count("\n") == 1
        assert _q(db, "SELECT run_key, status, attempts, finished FROM runs ORDER BY run_key") == rows
        assert _q(db, "SELECT * FROM evals ORDER BY run_key, step") == evals
        assert (out / "summary.md").read_bytes() == summary
    assert main(args) == 0
    assert f"0 completed, {len(rows)} already done" in capsys.readouterr().out


def test_run_task_and_messages_are_frozen_and_picklable(tmp_path):
    spec = load_spec(write_spec(tmp_path / "e.yaml", CHAIN))
    r = spec.runs()[0]
    task = RunTask(r.key, r.config, r.variant, r.seed, r.seed_index, spec.config_hash, str(tmp_path / "db"))
    assert pickle.loads(pickle.dumps(task)) == task
    with pytest.raises(FrozenInstanceError):
        task.seed = 3  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        spec.name = "x"  # type: ignore[misc]
    assert spec.with_overrides(name="y").name == "y" and spec.name == "chain"
    done = Finished(r.key, "failed", "boom")
    assert pickle.loads(pickle.dumps(done)) == done
