"""``rewardkit demo``: the built-in experiment - MiniGrid DoorKey, sparse vs shaped vs count bonus, SB3 PPO."""

from __future__ import annotations

import argparse
from importlib import resources

HELP = "run the built-in demo (MiniGrid DoorKey: sparse vs PBRS vs count bonus, PPO, 3 seeds) and write its report"

#: the built-in experiment file inside the package
DEMO_FILE = "doorkey_demo.yaml"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="runs/demo", help="output directory (default: runs/demo)")
    p.add_argument("--seeds", default=None, help="a count (3) or a list (0,1,2); default: the demo's 3 seeds")
    p.add_argument("--quick", action="store_true",
                   help="tiny budget (a smoke test: 2 rollouts per run, 1 seed); results are not meaningful")
    p.add_argument("--parallel", type=int, default=None, help="worker processes (default 2)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard scalars")
    p.add_argument("--print-config", action="store_true", help="print the demo's experiment file and exit")


def demo_path():
    """Path of the packaged demo experiment file."""
    return resources.files("rewardkit") / "data" / "experiments" / DEMO_FILE


def run(args: argparse.Namespace) -> int:
    from rewardkit.runner.spec import load_spec

    from .run import execute, parse_seeds

    path = demo_path()
    if args.print_config:
        print(path.read_text(encoding="utf-8"))
        return 0
    with resources.as_file(path) as p:
        spec = load_spec(p)
    seeds = parse_seeds(args.seeds)
    if args.quick:
        rollout = spec.learner["n_envs"] * spec.learner["params"].get("n_steps", 2048)
        spec = spec.with_overrides(seeds=seeds or [0], budget=2 * rollout, eval_every=rollout, eval_episodes=4,
                                   parallel=args.parallel or 1, name=spec.name + "-quick")
    elif seeds is not None or args.parallel is not None:
        spec = spec.with_overrides(seeds=seeds, parallel=args.parallel)
    return execute(spec, args.out, args)
