"""``rewardkit terms``: list the registered reward-term types."""

from __future__ import annotations

import argparse

HELP = "list the reward-term types a config can name"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=["transition", "sample", "any"], help="only terms for this batch kind")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from rewardkit.core import available_terms

    table = Table("type", "batch", "parameters", "summary")
    for name, spec in available_terms().items():
        if args.kind and spec.batch_kind not in (args.kind, "any"):
            continue
        params = ", ".join(spec.parameters())
        table.add_row(name, spec.batch_kind, params, spec.summary)
    Console().print(table)
    return 0
