"""``rewardkit audit``: check a reward before anyone trains on it.

Three targets, one HTML report (``<out>/audit.html``) and a JSON summary (``<out>/audit.json``,
or ``--json`` on stdout):

* ``rewardkit audit reward.yaml --env ID`` - an environment reward (:mod:`rewardkit.runner.audit.env`);
* ``rewardkit audit reward.yaml --samples data.jsonl`` - an LLM reward (:mod:`rewardkit.runner.audit.samples`);
* ``rewardkit audit --rm rm.yaml --pairs pairs.jsonl`` - a reward model (:mod:`rewardkit.runner.audit.rm`).

``--example env|hackable|samples|rm`` runs a built-in example.  The exit code is 0 unless
``--fail-on red`` (or ``yellow``) is given and a check has that status or worse (exit 1);
bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

from rewardkit.core.errors import ConfigError

HELP = "check a reward before training on it: an env reward, an LLM reward on samples, or a reward model"

#: built-in examples: name -> (target, reward file, data file or env id)
EXAMPLES = {
    "env": ("env", "env_reward.yaml", "MiniGrid-DoorKey-5x5-v0"),
    "hackable": ("env", "hackable_env_reward.yaml", "MiniGrid-DoorKey-5x5-v0"),
    "samples": ("samples", "llm_reward.yaml", "samples.jsonl"),
    "rm": ("rm", "rm.yaml", "pairs.jsonl"),
}
_SEVERITY = {"green": 0, "skipped": 0, "yellow": 1, "red": 2}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", help="reward config (.yaml/.toml/.json with a 'reward' section)")
    p.add_argument("--env", metavar="ID", help="audit an environment reward on this env (gymnasium id or factory)")
    p.add_argument("--wrappers", default=None, metavar="W1,W2",
                   help="env wrappers (default for MiniGrid: state_info,flat_obs)")
    p.add_argument("--steps", type=int, default=4000, help="exploratory random-policy steps (env target)")
    p.add_argument("--gamma", type=float, default=0.99, help="discount of the shaping and planning checks")
    p.add_argument("--state-key", default=None, help="discrete state key: 'obs' or 'info:<key>' (env target)")
    p.add_argument("--samples", metavar="JSONL", help="audit an LLM reward on these prompt/completion rows")
    p.add_argument("--pass-fraction", type=float, default=0.5,
                   help="a probe passes at this fraction of the best sample reward (samples target)")
    p.add_argument("--budget-s", type=float, default=2.0, help="per-sample time budget in seconds (samples target)")
    p.add_argument("--rm", metavar="CONFIG", help="audit this reward model (a reward config) on --pairs")
    p.add_argument("--pairs", metavar="JSONL", help="prompt/chosen/rejected rows for --rm")
    p.add_argument("--example", choices=sorted(EXAMPLES), help="run a built-in example")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a field of the reward config (repeatable)")
    p.add_argument("--out", default="audit-report", help="folder of audit.html and audit.json")
    p.add_argument("--json", action="store_true", help="print the JSON summary on stdout instead of the table")
    p.add_argument("--fail-on", choices=["never", "yellow", "red"], default="never",
                   help="exit 1 when a check is at least this bad")


def _data(name: str) -> str:
    return str(resources.files("rewardkit") / "data" / "audit" / name)


def _reward(path: str, overrides: list[str]) -> Any:
    from rewardkit.core import build_reward, read_mapping
    from rewardkit.runner.overrides import apply_overrides

    data = apply_overrides(read_mapping(path), overrides)
    return build_reward(data.get("reward", data), field="reward" if "reward" in data else "")


def _resolve(args: argparse.Namespace) -> tuple[str, str, str]:
    """(target, reward config path, env id or data path) from the arguments."""
    if args.example:
        target, cfg, data = EXAMPLES[args.example]
        return target, _data(cfg), data if target == "env" else _data(data)
    if args.rm or args.pairs:
        if not (args.rm and args.pairs):
            raise ConfigError("--rm/--pairs", "only one was given", "both --rm CONFIG and --pairs JSONL")
        return "rm", args.rm, args.pairs
    if bool(args.env) == bool(args.samples):
        raise ConfigError("audit", "no target or more than one", "a config with exactly one of --env ID or --samples "
                          "JSONL, or --rm CONFIG --pairs JSONL, or --example NAME")
    if not args.config:
        raise ConfigError("config", "missing", "a reward config path before --env/--samples")
    return ("env", args.config, args.env) if args.env else ("samples", args.config, args.samples)


def _env_cfg(env_id: str, wrappers: str | None) -> dict[str, Any]:
    if wrappers is None:
        names = ["state_info", "flat_obs"] if env_id.startswith("MiniGrid-") else []
    else:
        names = [w.strip() for w in wrappers.split(",") if w.strip()]
    from rewardkit.runner.envs import WRAPPERS

    for w in names:
        if w not in WRAPPERS:
            raise ConfigError("--wrappers", f"unknown wrapper {w!r}", f"names among {sorted(WRAPPERS)}")
    return {"id": env_id, "wrappers": [{"type": w} for w in names]}


def _run_target(target: str, args: argparse.Namespace, cfg: str, data: str) -> tuple[list[Any], dict[str, Any]]:
    if target == "env":
        from rewardkit.runner.audit.env import audit_env

        checks, _ = audit_env(_reward(cfg, args.overrides), _env_cfg(data, args.wrappers), steps=args.steps,
                              seed=args.seed, gamma=args.gamma, state_key=args.state_key)
        return checks, {"env": data, "steps": args.steps, "gamma": args.gamma}
    from rewardkit.runner.audit.samples import read_jsonl

    if target == "samples":
        from rewardkit.runner.audit.samples import audit_samples

        rows, skipped = read_jsonl(data, ["prompt", "completion"])
        checks, _ = audit_samples(_reward(cfg, args.overrides), rows, pass_fraction=args.pass_fraction,
                                  budget_s=args.budget_s)
        return checks, {"samples": data, "rows": len(rows), "skipped rows": len(skipped)}
    from rewardkit.runner.audit.rm import audit_rm

    rows, skipped = read_jsonl(data, ["prompt", "chosen", "rejected"])
    checks, _ = audit_rm(_reward(cfg, args.overrides), rows, seed=args.seed)
    return checks, {"pairs": data, "rows": len(rows), "skipped rows": len(skipped)}


def run(args: argparse.Namespace) -> int:
    from rewardkit.runner.audit.report import audit_summary, write_audit_report

    if args.steps < 1:
        raise ConfigError("--steps", f"got {args.steps}", "a positive number of steps")
    target, cfg, data = _resolve(args)
    t0 = time.perf_counter()
    checks, meta = _run_target(target, args, cfg, data)
    meta = {"config": cfg, **meta, "seconds": round(time.perf_counter() - t0, 2)}
    html_path = write_audit_report(target, checks, Path(args.out), meta)
    summary = audit_summary(target, checks, meta)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for c in checks:
            print(f"{c.status:<7} {c.section + '.' + c.name:<28} {c.message}")
        print(f"overall: {summary['status']} - report: {html_path}")
    limit = {"never": 3, "yellow": 1, "red": 2}[args.fail_on]
    return 1 if max(_SEVERITY[c.status] for c in checks) >= limit else 0
