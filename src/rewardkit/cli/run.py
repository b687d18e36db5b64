"""``rewardkit run EXPERIMENT``: run an experiment file (reward variants x seeds), resumable."""

from __future__ import annotations

import argparse
import sys

HELP = "run an experiment (YAML/TOML): reward variants x seeds -> SQLite results + HTML report"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("experiment", help="path to an experiment .yaml/.yml/.toml/.json file (see docs/runner.md)")
    p.add_argument("--out", default=None, help="output directory (default: runs/<experiment name>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override one field before validation, e.g. budget.steps=20000 or "
                        "variants.pbrs.reward.terms[1].scale=0.5 (repeatable; +PATH=VALUE adds a key)")
    p.add_argument("--seeds", default=None, help="override the seeds: a count (3) or a list (0,1,2)")
    p.add_argument("--parallel", type=int, default=None, help="worker processes (default: the spec's 'parallel')")
    p.add_argument("--backend", default="local", choices=["local", "ray"],
                   help="worker processes on this machine (default) or one Ray task per (variant, seed)")
    p.add_argument("--address", default=None,
                   help="Ray cluster to join ('auto', host:port; default: start a local one of --parallel CPUs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard scalars")
    p.add_argument("--mlflow", nargs="?", const="", default=None, metavar="URI",
                   help="also log every run to MLflow (default store: sqlite:///<out>/mlflow.db; or a tracking URI)")
    p.add_argument("--check", action="store_true", help="validate the experiment and list its runs, run nothing")


def parse_seeds(text: str | None) -> list[int] | None:
    """``"3"`` -> [0, 1, 2]; ``"0,4,5"`` -> [0, 4, 5] (a ConfigError names ``--seeds`` otherwise).

    >>> parse_seeds("3"), parse_seeds("0, 4,5")
    ([0, 1, 2], [0, 4, 5])
    >>> parse_seeds("1000000000")
    Traceback (most recent call last):
    ...
    rewardkit.core.errors.ConfigError: --seeds: 1000000000 seeds; expected at most 10000 seeds
    """
    from rewardkit.core import ConfigError
    from rewardkit.runner.spec import check_seeds

    if text is None:
        return None
    t = text.strip()
    try:
        value: int | list[int] = int(t) if t.isdigit() else [int(x) for x in t.replace(",", " ").split()]
    except ValueError:
        raise ConfigError("--seeds", f"got {text!r}",
                          "a positive count (3) or a comma-separated list (0,1,2)") from None
    return check_seeds(value, "--seeds")


def execute(spec, out: str, args: argparse.Namespace) -> int:
    """Run ``spec`` into ``out``; print the summary table and the report path."""
    from rewardkit.runner.report import markdown_table, collect, summarize
    from rewardkit.runner.runner import run_experiment

    s = run_experiment(spec, out, progress=not args.no_progress, tensorboard=not args.no_tensorboard,
                       backend=getattr(args, "backend", "local"), address=getattr(args, "address", None))
    print(markdown_table(spec, summarize(spec, collect(spec, s.db_path))))
    print(f"runs: {len(s.completed)} completed, {len(s.skipped)} already done, {len(s.failed)} failed "
          f"({s.wall_s:.1f} s wall)")
    for key, err in s.failed.items():
        print(f"failed run {key}: {err.splitlines()[0] if err else ''}", file=sys.stderr)
    print(f"results: {s.db_path}")
    print(f"report: {s.report}")
    return 1 if s.failed else 0


def run(args: argparse.Namespace) -> int:
    from rewardkit.runner.spec import MAX_PARALLEL, load_spec

    spec = load_spec(args.experiment, overrides=args.overrides)  # ConfigError -> one line, exit 2 (cli.main)
    seeds = parse_seeds(args.seeds)
    if seeds is not None or args.parallel is not None:
        if args.parallel is not None and not 1 <= args.parallel <= MAX_PARALLEL:
            from rewardkit.core import ConfigError

            raise ConfigError("--parallel", f"got {args.parallel}", f"an integer in [1, {MAX_PARALLEL}]")
        spec = spec.with_overrides(seeds=seeds, parallel=args.parallel)
    if args.mlflow is not None:  # --mlflow [URI] turns tracking on (the file's experiment name, if any, is kept)
        import dataclasses

        mlflow = dict(spec.tracking.get("mlflow") or {"experiment": None})
        mlflow["uri"] = args.mlflow or mlflow.get("uri")
        spec = dataclasses.replace(spec, tracking=dict(spec.tracking, mlflow=mlflow))
    if args.check:
        for r in spec.runs():
            print(f"{r.key}  {r.variant:<20} seed {r.seed}")
        print(f"ok: {len(spec.runs())} runs ({len(spec.variants)} variants x {len(spec.seeds)} seeds), "
              f"config hash {spec.config_hash}")
        return 0
    out = args.out or f"runs/{spec.name}"
    return execute(spec, out, args)
