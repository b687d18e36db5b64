"""`rewardkit run --backend ray` on a multi-node loopback cluster: one writer, resume, a killed node."""

import copy
import threading
import time

import pytest
from _runner_helpers import CHAIN, query, write_spec

from rewardkit.runner.report import collect, markdown_table, summarize
from rewardkit.runner.runner import run_experiment
from rewardkit.runner.spec import load_spec, parse_spec

pytestmark = pytest.mark.ray


def _spec(episodes=600, seeds=3):
    s = copy.deepcopy(CHAIN)
    s["budget"] = {"episodes": episodes}
    s["eval"]["every"] = episodes // 6
    s["seeds"] = seeds
    return parse_spec(s)


def _table(spec, db):
    return markdown_table(spec, summarize(spec, collect(spec, db)))


def _evals(db):
    return query(db, "SELECT run_key, step, success_rate, return_mean FROM evals ORDER BY run_key, step")


def test_a_killed_node_loses_only_its_in_flight_runs_and_the_table_equals_local(tmp_path, ray_cluster):
    cluster, workers = ray_cluster
    spec = _spec(episodes=3000)     # long enough that a run is still computing while its first points are written
    local = run_experiment(spec, tmp_path / "local", progress=False, tensorboard=False, report=False)
    assert len(local.completed) == 6

    out = tmp_path / "ray"
    db = out / "results.sqlite"
    killed: dict = {}

    def kill_a_node_mid_sweep():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                status = dict(query(db, "SELECT run_key, status FROM runs"))
            except Exception:                           # not created yet
                status = {}
            running = [k for k, v in status.items() if v == "running"]
            done = [k for k, v in status.items() if v == "done"]
            points = dict(query(db, "SELECT run_key, COUNT(*) FROM evals GROUP BY run_key")) if status else {}
            early = [k for k in running if 1 <= points.get(k, 0) <= 2]   # started, most of the run still ahead
            if done and len(early) >= 2:  # two runs in flight on the two nodes, each far from its end
                killed["done"], killed["running"] = set(done), set(running)
                cluster.remove_node(workers[0], allow_graceful=False)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_node_mid_sweep)
    killer.start()
    s = run_experiment(spec, out, progress=False, tensorboard=True, report=False, backend="ray")
    killer.join(timeout=30)
    assert killed, "the sweep ended before a node could be killed mid-sweep"
    assert sorted(s.completed) == sorted(local.completed) and not s.failed
    assert 1 <= len(s.rerun) <= 2 and set(s.rerun) <= killed["running"]   # only in-flight runs were rerun
    assert not set(s.rerun) & killed["done"]
    attempts = dict(query(db, "SELECT run_key, attempts FROM runs"))
    assert {k for k, a in attempts.items() if a > 1} == set(s.rerun)
    assert _evals(db) == _evals(local.db_path)                          # every point, not only the table
    assert _table(spec, db) == _table(spec, local.db_path)
    assert (out / "tb").is_dir()                                        # TensorBoard written by the driver

    again = run_experiment(spec, out, progress=False, tensorboard=False, report=False, backend="ray")
    assert len(again.skipped) == 6 and not again.completed              # resume: nothing to do


def test_resume_after_a_partial_local_run_and_the_cli_flag(tmp_path, ray_local):
    import subprocess
    import sys

    spec = _spec(episodes=120, seeds=2)
    out = tmp_path / "mixed"
    first = run_experiment(parse_spec({**spec.raw, "variants": {"env": spec.raw["variants"]["env"]}}), out,
                           progress=False, tensorboard=False, report=False)
    assert len(first.completed) == 2
    s = run_experiment(spec, out, progress=False, tensorboard=False, report=False, backend="ray")
    assert len(s.skipped) == 2 and len(s.completed) == 2                 # the local runs are kept
    assert _table(spec, out / "results.sqlite") == _table(spec, run_experiment(
        spec, tmp_path / "ref", progress=False, tensorboard=False, report=False).db_path)

    exp = write_spec(tmp_path / "exp.yaml", {**spec.raw, "name": "cli"})
    r = subprocess.run([sys.executable, "-m", "rewardkit.cli.main", "run", str(exp), "--out", str(tmp_path / "cli"),
                        "--backend", "ray", "--address", "bogus:1", "--no-progress"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error: --address: cannot reach 'bogus:1'"), r.stderr
    assert load_spec(exp).name == "cli"
