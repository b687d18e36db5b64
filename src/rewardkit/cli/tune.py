"""``rewardkit tune EXPERIMENT --param PATH=DIST --trials N``: Optuna search over reward weights and scales."""

from __future__ import annotations

import argparse

HELP = "search reward weights/scales with Optuna; the runner is the objective, its database the trial storage"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from rewardkit.runner.tune import METRICS

    p.add_argument("experiment", help="path to an experiment .yaml/.yml/.toml/.json file (see docs/runner.md)")
    p.add_argument("--param", dest="params", action="append", default=[], metavar="PATH=DIST",
                   help="a search dimension (repeatable): PATH=float(low, high[, log]), PATH=int(low, high[, log]) "
                        "or PATH=choice(a, b, ...), e.g. 'variants.pbrs.reward.terms[1].scale=float(0.1, 2.0)'")
    p.add_argument("--trials", type=int, required=True, help="complete trials wanted in total (a rerun continues)")
    p.add_argument("--metric", default="final_success", choices=list(METRICS),
                   help="the objective, mean over seeds (default: final_success)")
    p.add_argument("--direction", choices=["maximize", "minimize"], default=None,
                   help="default: minimize for steps_to_threshold, maximize otherwise")
    p.add_argument("--variant", default=None, help="the variant to tune (default: the one the --param paths name)")
    p.add_argument("--out", default=None, help="output directory (default: runs/<experiment name>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a field of the experiment first (repeatable, as in rewardkit run)")
    p.add_argument("--seeds", default=None, help="override the seeds: a count (3) or a list (0,1,2)")
    p.add_argument("--study", default=None, help="Optuna study name (default: from the experiment and search space)")
    p.add_argument("--seed", type=int, default=0, help="the sampler's seed (default 0)")
    p.add_argument("--progress", action="store_true", help="show the runner's progress bars")


def run(args: argparse.Namespace) -> int:
    from rewardkit.cli.run import parse_seeds
    from rewardkit.runner.tune import tune

    r = tune(args.experiment, args.params, trials=args.trials, metric=args.metric, direction=args.direction,
             variant=args.variant, out_dir=args.out, overrides=args.overrides, seeds=parse_seeds(args.seeds),
             study=args.study, seed=args.seed, progress=args.progress)
    print(f"study {r.study} in {r.db_path}: {len(r.trials)} complete trials ({r.new_trials} run now, "
          f"{r.failed} failed)")
    print("| trial | " + " | ".join(r.trials[0][1]) + f" | {args.metric} |" if r.trials else "no complete trial")
    if r.trials:
        print("|---" * (len(r.trials[0][1]) + 2) + "|")
        for n, params, value in r.trials:
            print(f"| {n} | " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in params.values())
                  + f" | {value:.4g} |")
    if r.best is not None:
        n, params, value = r.best
        sets = " ".join(f"--set '{o}'" for o in r.best_overrides)
        print(f"best: trial {n}, {args.metric} = {value:.4g}; reproduce with: rewardkit run {args.experiment} {sets}")
    return 0
