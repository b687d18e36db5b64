"""Optional MLflow tracking of an experiment, beside TensorBoard: one MLflow run per (variant, seed).

Turned on by the experiment file or the command line::

    tracking:
      mlflow: {uri: "sqlite:///mlflow.db", experiment: doorkey}   # or `mlflow: true`

    rewardkit run exp.yaml --mlflow                 # the defaults below
    rewardkit run exp.yaml --mlflow sqlite:///m.db  # another tracking URI

Defaults: the tracking store is a local SQLite file, ``<out>/mlflow.db`` (no server; MLflow's
plain-folder store is in maintenance mode and MLflow 3 refuses it unless ``MLFLOW_ALLOW_FILE_STORE``
is set, which this module does for a ``file:`` URI you name), artifacts of a new MLflow experiment
on a local store go to ``<out>/mlartifacts`` (a tracking server keeps its own), and the MLflow
experiment is named after the rewardkit experiment.

Each finished run gets:

* params: ``variant``, ``seed``, ``run_key``, ``config_hash``, ``env``, ``learner``, ``budget`` and, per
  reward term, ``term.<name>.type``, ``term.<name>.weight`` and ``term.<name>.scale`` (a schedule as JSON);
* metrics: at every evaluation step, the TensorBoard scalars (:func:`rewardkit.runner.tb.scalars`,
  the same function and names: ``eval/return``, ``eval/success_rate``, ``term/<name>``, ...),
  replayed from the results database (:meth:`~rewardkit.runner.store.ResultStore.points`), which is
  the run's committed metric stream;
* tags ``rewardkit.run_key`` and ``rewardkit.variant``; artifacts ``report.html`` and ``summary.md``.

Runs are logged by the driver after the report is written, so one process writes the tracking
store whatever the number of workers.  Logging is idempotent: a run whose key is already logged
(tag ``rewardkit.complete``) only gets the new report; a run left half-logged by a crash is
deleted and logged again, so a resumed experiment never duplicates a run.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rewardkit.core import ConfigError

from .spec import ExperimentSpec
from .store import ResultStore
from .tb import scalars

__all__ = ["DB_NAME", "MLflowTracker", "default_uri", "open_tracker"]

#: the default tracking store, inside the output folder
DB_NAME = "mlflow.db"
_KEY_TAG = "rewardkit.run_key"
_DONE_TAG = "rewardkit.complete"
_BAD_KEY = re.compile(r"[^A-Za-z0-9_\-. /]")


def default_uri(out_dir: str | os.PathLike) -> str:
    """``sqlite:///<absolute out>/mlflow.db``.

    >>> default_uri("/tmp/run").endswith("/tmp/run/mlflow.db")
    True
    """
    return "sqlite:///" + str((Path(out_dir) / DB_NAME).resolve())


@contextmanager
def _quiet() -> Iterator[None]:
    """MLflow's INFO lines about creating its tables go nowhere."""
    log = logging.getLogger("mlflow")
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)


class MLflowTracker:
    """Logs the finished runs of an experiment to one MLflow experiment (see the module docs)."""

    def __init__(self, uri: str, experiment: str, artifacts: str | None = None):
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise ConfigError("tracking.mlflow", "mlflow is not installed",
                              "pip install 'rewardkit[tracking]' (mlflow-skinny), or no tracking") from None
        if uri.startswith("file:") or "://" not in uri:
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self.uri = uri
        with _quiet():
            self.client = MlflowClient(tracking_uri=uri)
            exp = self.client.get_experiment_by_name(experiment)
            self.experiment_id = exp.experiment_id if exp is not None else self.client.create_experiment(
                experiment, artifact_location=None if artifacts is None else Path(artifacts).resolve().as_uri())

    def run_ids(self) -> dict[str, str]:
        """rewardkit run key -> MLflow run id, for the runs completely logged."""
        out: dict[str, str] = {}
        with _quiet():
            for r in self.client.search_runs([self.experiment_id], filter_string=f"tags.`{_DONE_TAG}` = 'true'",
                                             max_results=50000):
                out[r.data.tags[_KEY_TAG]] = r.info.run_id
        return out

    def _half_logged(self, key: str) -> list[str]:
        runs = self.client.search_runs([self.experiment_id], filter_string=f"tags.`{_KEY_TAG}` = '{key}'")
        return [r.info.run_id for r in runs if r.data.tags.get(_DONE_TAG) != "true"]

    def log_experiment(self, spec: ExperimentSpec, db_path: str | os.PathLike,
                       artifacts: list[Path] | None = None) -> dict[str, str]:
        """Log every finished run of ``spec`` not yet logged, attach ``artifacts`` to every run; return
        run key -> MLflow run id."""
        from mlflow.entities import Metric, Param, RunTag

        done = self.run_ids()
        store = ResultStore(db_path)
        try:
            with _quiet():
                for r in spec.runs():
                    row = store.run(r.key)
                    if row is None or row["status"] != "done":
                        continue
                    if r.key not in done:
                        for stale in self._half_logged(r.key):
                            self.client.delete_run(stale)
                        run = self.client.create_run(self.experiment_id, run_name=r.label, tags={
                            _KEY_TAG: r.key, "rewardkit.variant": r.variant, "rewardkit.seed": str(r.seed)})
                        rid = run.info.run_id
                        params = [Param(k, v) for k, v in _params(spec, r.variant, r.seed, r.key).items()]
                        now = int(time.time() * 1000)
                        metrics = [Metric(tag, v, now, step) for step, values, terms in store.points(r.key)
                                   for tag, v in scalars(values, terms).items()]
                        for i in range(0, len(params), 100):
                            self.client.log_batch(rid, params=params[i:i + 100])
                        for i in range(0, len(metrics), 1000):
                            self.client.log_batch(rid, metrics=metrics[i:i + 1000])
                        self.client.log_batch(rid, tags=[RunTag(_DONE_TAG, "true")])
                        self.client.set_terminated(rid)
                        done[r.key] = rid
                    for a in artifacts or []:
                        if Path(a).is_file():
                            self.client.log_artifact(done[r.key], str(a))
        finally:
            store.close()
        return {k: v for k, v in done.items() if k in {r.key for r in spec.runs()}}


def _params(spec: ExperimentSpec, variant: str, seed: int, key: str) -> dict[str, str]:
    out = {"variant": variant, "seed": str(seed), "run_key": key, "config_hash": spec.config_hash,
           "experiment": spec.name, "env": spec.env["id"], "learner": spec.learner["type"],
           "budget": f"{spec.budget} {spec.budget_unit}"}
    for i, t in enumerate(spec.variants[variant]["reward"]["terms"]):
        name = _BAD_KEY.sub("_", str(t.get("name") or t.get("type") or i))
        out[f"term.{name}.type"] = str(t.get("type"))
        for k in ("weight", "scale"):
            v = t.get(k, 1.0)
            out[f"term.{name}.{k}"] = json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else str(v)
    return {k: v[:6000] for k, v in out.items()}


def open_tracker(spec: ExperimentSpec, out_dir: str | os.PathLike) -> MLflowTracker | None:
    """The tracker ``spec.tracking`` asks for (None: no tracking), opened before anything trains so a
    missing package or a bad URI stops the run at once."""
    cfg = (spec.tracking or {}).get("mlflow")
    if cfg is None:
        return None
    uri = cfg.get("uri") or default_uri(out_dir)
    # a local store keeps artifacts in the output folder (MLflow's default is ./mlruns of the working
    # directory); a tracking server decides where its artifacts go
    remote = uri.split(":", 1)[0] in ("http", "https", "databricks")
    artifacts = None if remote else str(Path(out_dir) / "mlartifacts")
    try:
        return MLflowTracker(uri, cfg.get("experiment") or spec.name, artifacts)
    except ConfigError:
        raise
    except Exception as e:  # an unreachable server, a malformed URI
        raise ConfigError("tracking.mlflow.uri", f"cannot open {uri!r}: {' '.join(str(e).split())[:200]}",
                          "a reachable MLflow tracking URI, e.g. sqlite:///mlflow.db") from None
