"""``rewardkit schema``: write the JSON Schema of reward or experiment configs (for editor completion)."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "write the JSON Schema of reward or experiment configs, generated from the registry"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=["reward", "experiment"], default="experiment",
                   help="which config the schema describes (default: experiment)")
    p.add_argument("--output", "-o", default=None, metavar="FILE.json", help="write to FILE.json (default: stdout)")
    p.add_argument("--plugin", dest="plugins", action="append", default=[], metavar="MODULE",
                   help="import MODULE first so the terms, envs and learners it registers are in the schema "
                        "(repeatable)")


def run(args: argparse.Namespace) -> int:
    from rewardkit.core.registry import load_plugins
    from rewardkit.runner.schema import schema

    load_plugins(args.plugins, "--plugin")
    text = json.dumps(schema(args.kind), indent=1, sort_keys=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return 0
    from pathlib import Path

    Path(args.output).write_text(text, encoding="utf-8")
    print(f"wrote the {args.kind} schema to {args.output}", file=sys.stderr)
    return 0
