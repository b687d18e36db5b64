"""Optional MLflow tracking (issue #12, section 5): one MLflow run per (variant, seed), read back with
MLflow's own client; the metric stream is the TensorBoard one; a rerun logs nothing twice."""

from __future__ import annotations

import copy

import pytest
from _runner_helpers import CHAIN, query, write_spec

from rewardkit.cli.main import main
from rewardkit.core import ConfigError
from rewardkit.runner.spec import parse_spec
from rewardkit.runner.tb import scalars

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402


def _spec(**extra):
    s = copy.deepcopy(CHAIN)
    s.update(budget={"episodes": 100}, **extra)
    s["variants"]["bonus"]["reward"]["terms"][1]["weight"] = 0.5
    return s


def test_mlflow_runs_read_back_with_mlflows_client(tmp_path, capsys):
    f = write_spec(tmp_path / "exp.yaml", _spec())
    out = tmp_path / "out"
    assert main(["run", str(f), "--out", str(out), "--no-progress", "--no-tensorboard", "--mlflow"]) == 0
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("chain")
    runs = client.search_runs([exp.experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["bonus/seed0", "bonus/seed1", "env/seed0", "env/seed1"]
    db = out / "results.sqlite"
    for r in runs:
        p = r.data.params
        assert r.info.run_name == f"{p['variant']}/seed{p['seed']}" and r.info.status == "FINISHED"
        if p["variant"] == "bonus":
            assert p["term.count.weight"] == "0.5" and p["term.count.type"] == "count_bonus"
            assert p["term.task.weight"] == "1.0"
        key = p["run_key"]
        # per-step metrics: the same values as the results database, under TensorBoard's tags
        evals = query(db, "SELECT step, success_rate, return_mean FROM evals WHERE run_key = ? ORDER BY step", key)
        hist = sorted((m.step, m.value) for m in client.get_metric_history(r.info.run_id, "eval/success_rate"))
        assert hist == [(s, sr) for s, sr, _ in evals] and len(hist) == 3
        ret = sorted((m.step, m.value) for m in client.get_metric_history(r.info.run_id, "eval/return"))
        assert ret == [(s, rm) for s, _, rm in evals]
        terms = query(db, "SELECT DISTINCT term FROM term_returns WHERE run_key = ?", key)
        assert {f"term/{t}" for (t,) in terms} <= set(r.data.metrics)
        assert {a.path for a in client.list_artifacts(r.info.run_id)} == {"report.html", "summary.md"}
    local = client.download_artifacts(runs[0].info.run_id, "report.html", str(tmp_path))
    assert 'id="robust"' in open(local, encoding="utf-8").read()

    # a rerun (everything already done) logs no run twice
    assert main(["run", str(f), "--out", str(out), "--no-progress", "--no-tensorboard", "--mlflow"]) == 0
    assert len(client.search_runs([exp.experiment_id])) == 4
    capsys.readouterr()


def test_tracking_section_names_the_store_and_experiment(tmp_path):
    uri = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    spec = _spec(seeds=1, tracking={"mlflow": {"uri": uri, "experiment": "my-exp"}})
    spec["variants"].pop("bonus")
    f = write_spec(tmp_path / "exp.yaml", spec)
    assert main(["run", str(f), "--out", str(tmp_path / "out"), "--no-progress", "--no-tensorboard"]) == 0
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("my-exp").experiment_id])
    assert [r.info.run_name for r in runs] == ["env/seed0"]
    assert not (tmp_path / "out" / "mlflow.db").exists()
    # artifacts of a local store stay in the output folder, not in the working directory's ./mlruns
    assert {a.path for a in client.list_artifacts(runs[0].info.run_id)} == {"report.html", "summary.md"}
    assert list((tmp_path / "out" / "mlartifacts").rglob("report.html"))


def test_same_scalars_as_tensorboard():
    assert scalars({"return_mean": 1.0, "success_rate": 0.5, "coverage": {"unique": 3}}, {"task": 2.0}) == {
        "eval/return": 1.0, "eval/success_rate": 0.5, "term/task": 2.0, "explore/unique_cells": 3.0}


@pytest.mark.parametrize("tracking, field", [
    ({"wandb": {}}, "tracking.wandb"),
    ({"mlflow": {"url": "x"}}, "tracking.mlflow.url"),
    ({"mlflow": {"uri": 3}}, "tracking.mlflow.uri"),
    ({"mlflow": "yes"}, "tracking.mlflow"),
])
def test_bad_tracking_sections_are_one_line_errors(tracking, field):
    with pytest.raises(ConfigError, match=rf"^{field}: "):
        parse_spec(_spec(tracking=tracking))


def test_tracking_is_not_part_of_the_run_keys():
    a, b = parse_spec(_spec()), parse_spec(_spec(tracking={"mlflow": True}))
    assert b.tracking == {"mlflow": {"uri": None, "experiment": None}}
    assert [r.key for r in a.runs()] == [r.key for r in b.runs()]
