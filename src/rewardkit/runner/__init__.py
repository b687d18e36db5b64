"""rewardkit.runner: experiments over reward variants x seeds, stored in SQLite, reported in HTML.

* :mod:`~rewardkit.runner.spec` – the experiment file (YAML/TOML), validated up front;
* :mod:`~rewardkit.runner.overrides` – ``--set PATH=VALUE`` overrides and ``sweep:`` grids of variants;
* :mod:`~rewardkit.runner.envs` – env ids, factories and named observation wrappers;
* :mod:`~rewardkit.runner.learners` – SB3 PPO and tabular Q-learning, common random numbers;
* :mod:`~rewardkit.runner.store` – the resumable SQLite results database;
* :mod:`~rewardkit.runner.runner` – parallel, resumable execution with a progress bar;
* :mod:`~rewardkit.runner.report` – the self-contained HTML report;
* :mod:`~rewardkit.runner.stats` – rliable aggregates across seeds (IQM, profiles, P(improvement));
* :mod:`~rewardkit.runner.tb` – TensorBoard scalars per reward term (the one metric stream);
* :mod:`~rewardkit.runner.tracking` – optional MLflow tracking;
* :mod:`~rewardkit.runner.tune` – ``rewardkit tune``, Optuna over reward weights and scales;
* :mod:`~rewardkit.runner.schema` – ``rewardkit schema``, a JSON Schema of experiment files.

See ``docs/runner.md``.
"""

from .spec import ExperimentSpec, RunSpec, load_spec, parse_spec
from .store import ResultStore
from .envs import make_env, register_env

__all__ = [
    "ExperimentSpec",
    "ResultStore",
    "RunSpec",
    "load_spec",
    "make_env",
    "parse_spec",
    "register_env",
    "run_experiment",
    "write_report",
]


def run_experiment(*args, **kwargs):  # lazy: keeps `import rewardkit.runner` light
    """See :func:`rewardkit.runner.runner.run_experiment`."""
    from .runner import run_experiment as _run

    return _run(*args, **kwargs)


def write_report(*args, **kwargs):
    """See :func:`rewardkit.runner.report.write_report`."""
    from .report import write_report as _write

    return _write(*args, **kwargs)
