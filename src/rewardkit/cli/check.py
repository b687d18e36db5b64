"""``rewardkit check CONFIG``: validate a reward or experiment config without running it."""

from __future__ import annotations

import argparse

HELP = "validate a reward config (YAML/TOML) and print its terms"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="path to a .yaml/.yml/.toml/.json file with a 'reward' section")


def run(args: argparse.Namespace) -> int:
    from rewardkit.core import load_reward

    reward = load_reward(args.config)  # raises ConfigError -> one line, exit 2
    for c in reward.components:
        gate = f" gated on {c.gate_on}>={c.gate_threshold}" if c.gate_on else ""
        print(f"{c.term.name}: weight {c.weight} ({type(c.term).__name__}){gate}")
    print(f"ok: {len(reward.components)} terms")
    return 0
