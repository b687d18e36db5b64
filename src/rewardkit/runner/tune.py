"""``rewardkit tune``: Optuna search over reward weights and scales, with the runner as the objective.

A search parameter is a field path (the ``--set`` syntax of :mod:`rewardkit.runner.overrides`) and
a distribution::

    variants.pbrs.reward.terms[1].scale=float(0.1, 2.0)        # uniform
    variants.pbrs.reward.terms[1].weight=float(0.01, 1, log)   # log-uniform
    learner.params.n_epochs=int(2, 10)
    variants.count.reward.terms[1].params.mode=choice(global, product)

**Objective.**  A trial writes its sampled values into the experiment mapping, validates it like a
file (:func:`~rewardkit.runner.spec.parse_spec`), runs the tuned variant on the experiment's seeds
with the runner (:func:`~rewardkit.runner.runner.run_experiment`'s code path, results in the same
database) and reads a metric of :data:`METRICS` from the database: the mean over seeds of the
final success rate, the mean success over evaluations (area under the curve), the final return,
or the steps to reach the success threshold (a seed that never reaches it counts as
``budget + eval.every``).  The tuned variant is the one the parameter paths name (``--variant``
otherwise); the other variants do not run.

**Storage.**  Optuna's RDB storage on the runner's own SQLite file, ``<out>/results.sqlite``:
Optuna's tables (``studies``, ``trials``, ``trial_params``, ``trial_values``, ...) sit beside the
runner's (``experiments``, ``runs``, ``evals``, ...) without a shared name, so one file holds the
search and every run it trained, and a trial's runs are found by the keys stored in its user
attribute ``run_keys``.  Because runs are keyed by the hash of their config, a trial that samples
a configuration already trained costs nothing.

**Resume.**  The study is named after the experiment, the variant, the metric and a hash of the
search space (``--study`` to choose), and loaded if it exists: rerunning the command continues
until ``--trials`` trials are complete in total.  A trial left running by a killed process is
marked failed first (the output folder's lock guarantees no other process owns it).  The sampler
is Optuna's TPE with ``seed + number of trials so far``, so a run of the command is deterministic.

Example:
    >>> p = parse_param("variants.pbrs.reward.terms[1].scale=float(0.1, 2.0, log)")
    >>> p.path, p.kind, p.low, p.high, p.log
    ('variants.pbrs.reward.terms[1].scale', 'float', 0.1, 2.0, True)
    >>> parse_param("budget.steps=int(5, 1)")
    Traceback (most recent call last):
    ...
    rewardkit.core.errors.ConfigError: --param budget.steps: low 5 > high 1; expected low <= high
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rewardkit.core import ConfigError, read_mapping
from rewardkit.core.safe_load import parse_document

from .files import OutputLock, inside
from .overrides import _fmt, apply_overrides, expand_sweep, get_path, parse_path, set_path
from .spec import ExperimentSpec, parse_spec

__all__ = ["METRICS", "Param", "TuneResult", "metric_value", "parse_param", "tune"]

#: metric name -> its default direction
METRICS = {"final_success": "maximize", "success_auc": "maximize", "final_return": "maximize",
           "steps_to_threshold": "minimize"}

_DIST = re.compile(r"^\s*(float|int|choice)\s*\((.*)\)\s*$", re.S)
_HINT = "PATH=float(low, high[, log]), PATH=int(low, high[, log]) or PATH=choice(a, b, ...)"


@dataclass(frozen=True)
class Param:
    """One search dimension: a field ``path`` (its tokens) and a distribution."""

    path: str
    tokens: tuple[str | int, ...]
    create: bool
    kind: str  # "float" | "int" | "choice"
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    def distribution(self) -> Any:
        import optuna.distributions as d

        if self.kind == "float":
            return d.FloatDistribution(float(self.low), float(self.high), log=self.log)  # type: ignore[arg-type]
        if self.kind == "int":
            return d.IntDistribution(int(self.low), int(self.high), log=self.log)  # type: ignore[arg-type]
        return d.CategoricalDistribution(list(self.choices))

    def extremes(self) -> list[Any]:
        """The values validated before the search starts (both ends, or every choice)."""
        return list(self.choices) if self.kind == "choice" else [self.low, self.high]


def parse_param(text: str, field: str = "--param") -> Param:
    """``[+]PATH=float(lo, hi[, log]) | int(lo, hi[, log]) | choice(a, b, ...)`` -> :class:`Param`;
    a malformed spec is one :class:`ConfigError` naming ``--param PATH``."""
    if not isinstance(text, str) or "=" not in text:
        raise ConfigError(field, f"got {text!r}", _HINT)
    path, _, dist = text.partition("=")
    path = path.strip()
    create = path.startswith("+")
    if create:
        path = path[1:]
    f = f"{field} {path}"
    tokens = tuple(parse_path(path, f))
    m = _DIST.match(dist)
    if not m:
        raise ConfigError(f, f"bad distribution {dist.strip()!r}", _HINT)
    kind, body = m.group(1), m.group(2)
    args = parse_document(f"[{body}]", "yaml", field=f)
    if not isinstance(args, list):  # pragma: no cover - a flow sequence always parses to a list
        raise ConfigError(f, f"bad arguments {body!r}", _HINT)
    if kind == "choice":
        if not args or len({json.dumps(a, sort_keys=True) for a in args}) != len(args):
            raise ConfigError(f, f"got choice({body})", "at least one distinct value")
        if not all(a is None or isinstance(a, (bool, int, float, str)) for a in args):
            raise ConfigError(f, f"got choice({body})", "scalar choices (numbers, strings, booleans)")
        return Param(_fmt(tokens), tokens, create, kind, choices=tuple(args))
    log = len(args) == 3 and args[2] == "log"
    if len(args) != 2 + log:
        raise ConfigError(f, f"got {kind}({body})", f"{kind}(low, high) or {kind}(low, high, log)")
    lo, hi = args[0], args[1]
    for v in (lo, hi):
        ok = isinstance(v, int) if kind == "int" else isinstance(v, (int, float)) and math.isfinite(v)
        if isinstance(v, bool) or not ok:
            raise ConfigError(f, f"bound {v!r} of {kind}({body})", "an integer" if kind == "int" else "a finite number")
    if lo > hi:
        raise ConfigError(f, f"low {lo} > high {hi}", "low <= high")
    if log and lo <= 0:
        raise ConfigError(f, f"log scale with low {lo}", "low > 0 on a log scale")
    if kind == "float":
        lo, hi = float(lo), float(hi)
    return Param(_fmt(tokens), tokens, create, kind, lo, hi, log)


def _variant_of(params: Sequence[Param], variant: str | None, names: Sequence[str]) -> str:
    named = sorted({str(p.tokens[1]) for p in params if len(p.tokens) > 1 and p.tokens[0] == "variants"})
    if variant is not None:
        if variant not in names:
            raise ConfigError("--variant", f"unknown variant {variant!r}", "one of: " + ", ".join(names))
        if any(n != variant for n in named):
            raise ConfigError("--variant", f"{variant!r} but a --param changes variant {named[0]!r}",
                              "parameters of the tuned variant (or of the shared sections)")
        return variant
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ConfigError("--param", f"changes {len(named)} variants ({', '.join(named)})",
                          "parameters of one variant (the objective is that variant's metric)")
    if len(names) == 1:
        return names[0]
    raise ConfigError("--variant", "missing", "the variant to tune (the parameters name none): one of "
                      + ", ".join(names))


def _with_values(data: Mapping[str, Any], params: Sequence[Param], values: Mapping[str, Any],
                 variant: str) -> dict[str, Any]:
    """The experiment mapping with ``values`` written at each param's path, reduced to ``variant``."""
    out = copy.deepcopy(dict(data))
    for p in params:
        set_path(out, list(p.tokens), copy.deepcopy(values[p.path]), field=f"--param {p.path}", create=p.create)
    out["variants"] = {variant: out["variants"][variant]}
    out.pop("sweep", None)
    return out


def metric_value(spec: ExperimentSpec, db_path: str | os.PathLike, metric: str) -> float | None:
    """``metric`` (:data:`METRICS`) of ``spec``'s only variant, the mean over its finished seeds (None
    when a run is not finished).

    ``steps_to_threshold`` counts a seed that never reaches the threshold as ``budget + eval.every``.
    """
    from .report import collect, run_scores, steps_to_threshold

    data = collect(spec, db_path)
    (name, v), = data["variants"].items()
    if any(st != "done" for st in v["status"]):
        return None
    if metric == "steps_to_threshold":
        steps = [steps_to_threshold([e["step"] for e in c], [e["success_rate"] for e in c], spec.success_threshold)
                 for c in v["curves"]]
        return float(np.mean([spec.budget + spec.eval_every if s is None else s for s in steps]))
    scores = run_scores(data)[metric].get(name)
    return None if scores is None else float(np.mean(scores))


@dataclass
class TuneResult:
    """What :func:`tune` did: the study name, every complete trial ``(number, params, value)``, the best."""

    study: str
    db_path: Path
    trials: list[tuple[int, dict[str, Any], float]] = field(default_factory=list)
    best: tuple[int, dict[str, Any], float] | None = None
    #: the best trial as ``rewardkit run --set`` arguments (``+PATH=VALUE`` where the file lacks the field)
    best_overrides: list[str] = field(default_factory=list)
    new_trials: int = 0
    failed: int = 0


def _study_name(spec: ExperimentSpec, variant: str, metric: str, direction: str, params: Sequence[Param]) -> str:
    space = json.dumps([spec.config_hash, [(p.path, p.kind, p.low, p.high, p.log, list(p.choices)) for p in params]],
                       default=str)
    return f"{spec.name}.{variant}.{metric}.{direction[:3]}.{hashlib.sha256(space.encode()).hexdigest()[:8]}"


def tune(experiment: str | os.PathLike, params: Sequence[str], *, trials: int, metric: str = "final_success",
         direction: str | None = None, variant: str | None = None, out_dir: str | os.PathLike | None = None,
         overrides: Sequence[str] = (), seeds: list[int] | None = None, study: str | None = None, seed: int = 0,
         progress: bool = False, console: Any = None, max_failures: int = 3) -> TuneResult:
    """Search ``params`` for ``trials`` complete trials in total (see the module docs).

    Every parameter and the experiment are validated before anything runs; errors are one
    :class:`ConfigError` line.
    """
    if metric not in METRICS:
        raise ConfigError("--metric", f"got {metric!r}", "one of: " + ", ".join(METRICS))
    direction = direction or METRICS[metric]
    if direction not in ("maximize", "minimize"):
        raise ConfigError("--direction", f"got {direction!r}", "maximize or minimize")
    if isinstance(trials, bool) or not isinstance(trials, int) or not 1 <= trials <= 100_000:
        raise ConfigError("--trials", f"got {trials!r}", "an integer in [1, 100000]")
    if not params:
        raise ConfigError("--param", "missing", "at least one " + _HINT)
    ps = [parse_param(t) for t in params]
    if len({p.path for p in ps}) != len(ps):
        raise ConfigError("--param", "the same path twice", "one distribution per path")
    data = read_mapping(experiment)
    data.setdefault("name", Path(experiment).stem)
    data = apply_overrides(data, overrides)
    base = parse_spec(data, check_env=True)
    if seeds is not None:
        data["seeds"] = seeds
    name = _variant_of(ps, variant, list(base.variants))
    data = expand_sweep(data)
    for p in ps:  # the path exists (or may be created) and every extreme value validates like a config
        if not p.create:
            get_path(data, list(p.tokens), f"--param {p.path}")
        for v in p.extremes():
            others = {q.path: q.extremes()[0] for q in ps}
            parse_spec(_with_values(data, ps, dict(others, **{p.path: v}), name))
    spec0 = parse_spec(_with_values(data, ps, {q.path: q.extremes()[0] for q in ps}, name))
    out = Path(out_dir or f"runs/{base.name}")
    with OutputLock(out):
        return _search(data, ps, name, metric, direction, trials, out, study or _study_name(
            spec0, name, metric, direction, ps), seed, progress, console, max_failures)


def _search(data: dict[str, Any], ps: list[Param], variant: str, metric: str, direction: str, trials: int, out: Path,
            study_name: str, seed: int, progress: bool, console: Any, max_failures: int) -> TuneResult:
    import optuna
    from optuna.trial import TrialState
    from rich.console import Console

    from .runner import DB_NAME, _run_locked  # the tune holds the folder's lock: run inside it

    console = console or Console(stderr=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    db = inside(out, DB_NAME)
    from .store import ResultStore

    ResultStore(db).close()  # the runner's tables first, so the file is a results database
    storage = optuna.storages.RDBStorage(f"sqlite:///{db.resolve()}", engine_kwargs={"connect_args": {"timeout": 60}})
    existing = study_name in optuna.get_all_study_names(storage)
    study = optuna.create_study(study_name=study_name, storage=storage, direction=direction, load_if_exists=True,
                                sampler=optuna.samplers.TPESampler(seed=seed))
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        storage.set_trial_state_values(t._trial_id, TrialState.FAIL)  # left by a killed tune
    n_before = len(study.trials)
    study.sampler = optuna.samplers.TPESampler(seed=seed + n_before)
    if existing:
        console.print(f"resuming study {study_name}: {_complete(study)} of {trials} trials complete")
    dists = {p.path: p.distribution() for p in ps}
    result = TuneResult(study_name, db)
    failures = 0
    while _complete(study) < trials:
        trial = study.ask(dists)
        try:  # the ends of every range validated; a value inside one can still be refused (e.g. by a factory)
            spec = parse_spec(_with_values(data, ps, trial.params, variant))
        except ConfigError:
            study.tell(trial, state=TrialState.FAIL)
            raise
        trial.set_user_attr("run_keys", [r.key for r in spec.runs()])
        trial.set_user_attr("config_hash", spec.config_hash)
        summary = _run_locked(spec, out, progress=progress, tensorboard=False, report=False, console=console)
        value = None if summary.failed else metric_value(spec, db, metric)
        result.new_trials += 1
        if value is None or not math.isfinite(value):
            study.tell(trial, state=TrialState.FAIL)
            result.failed += 1
            failures += 1
            console.print(f"trial {trial.number}: {_fmt_params(trial.params)} failed "
                          f"({next(iter(summary.failed.values()), 'no value')})", soft_wrap=True)
            if failures >= max_failures:
                raise ConfigError("tune", f"{failures} trials in a row failed", "a search space whose runs finish")
            continue
        failures = 0
        study.tell(trial, value)
        console.print(f"trial {trial.number}: {_fmt_params(trial.params)} -> {metric} {value:.4g} "
                      f"(best {study.best_value:.4g} at trial {study.best_trial.number})", soft_wrap=True)
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    result.trials = [(t.number, dict(t.params), float(t.value)) for t in done]  # type: ignore[arg-type]
    if done:
        b = study.best_trial
        result.best = (b.number, dict(b.params), float(b.value))  # type: ignore[arg-type]
        result.best_overrides = [f"{'+' if p.create else ''}{p.path}={json.dumps(b.params[p.path])}" for p in ps]
        best_spec = parse_spec(_with_values(data, ps, b.params, variant))
        from .report import write_report

        write_report(best_spec, db, out)
    return result


def _complete(study: Any) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def _fmt_params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
