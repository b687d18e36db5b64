"""``rewardkit check CONFIG``: validate a reward or experiment config without running it."""

from __future__ import annotations

import argparse

HELP = "validate a reward or experiment config (YAML/TOML) and print its terms"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="path to a .yaml/.yml/.toml/.json file with a 'reward' section, "
                                  "or an experiment file with 'variants' (see docs/runner.md)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override one field before validation, e.g. reward.terms[0].weight=0.5 (repeatable; "
                        "+PATH=VALUE adds a key)")


def _check_experiment(args: argparse.Namespace) -> int:
    from rewardkit.runner.spec import load_spec

    spec = load_spec(args.config, overrides=args.overrides)  # ConfigError -> one line, exit 2
    for name, body in spec.variants.items():
        terms = ", ".join(str(t.get("name") or t.get("type")) for t in body["reward"]["terms"])
        print(f"{name}: {terms}")
    print(f"ok: experiment {spec.name}: {len(spec.variants)} variants x {len(spec.seeds)} seeds = "
          f"{len(spec.runs())} runs, config hash {spec.config_hash}")
    return 0


def run(args: argparse.Namespace) -> int:
    from rewardkit.core import read_mapping
    from rewardkit.core.config import build_reward_document
    from rewardkit.runner.overrides import apply_overrides

    data = read_mapping(args.config)  # raises ConfigError -> one line, exit 2
    if "variants" in data or "sweep" in data:
        return _check_experiment(args)
    data = apply_overrides(data, args.overrides)
    reward = build_reward_document(data)
    for c in reward.components:
        gate = f" gated on {c.gate_on}>={c.gate_threshold}" if c.gate_on else ""
        print(f"{c.term.name}: weight {c.weight} ({type(c.term).__name__}){gate}")
    print(f"ok: {len(reward.components)} terms")
    return 0
