"""``rewardkit terms``: list everything a config can name - term types, potentials, environments, learners.

Plain text grouped by kind (long lines wrap to the terminal width, nothing is cut),
or ``--json`` for tools.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from typing import Any

HELP = "list the term types, potentials, environments and learners a config can name"

#: display order and heading of each registry kind
_GROUPS = (("term", "reward-term types (reward.terms[].type)"),
           ("potential", "potentials (potential_shaping params.potential)"),
           ("env", "environment factories (experiment env.id; any gymnasium id also works)"),
           ("learner", "learners (experiment learner.type)"))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=["transition", "sample", "any"],
                   help="only term types usable on this batch kind")
    p.add_argument("--json", action="store_true", help="print a JSON object {kind: [entries]}")


def listing(batch_kind: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every registered entry by kind, as plain data (what ``--json`` prints)."""
    from rewardkit.core.registry import all_registries

    regs = all_registries()
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, _ in _GROUPS:
        rows = []
        for name, e in regs[kind].entries().items():
            params = [] if kind == "learner" else list(e.parameters())  # a learner's loop signature is internal
            row: dict[str, Any] = {"name": name, "summary": e.summary, "parameters": params}
            if kind == "term":
                if batch_kind and e.batch_kind not in (batch_kind, "any"):  # type: ignore[attr-defined]
                    continue
                row["batch_kind"] = e.batch_kind  # type: ignore[attr-defined]
                row["uses_discount"] = e.uses_discount  # type: ignore[attr-defined]
            rows.append(row)
        out[kind] = rows
    return out


def render(data: dict[str, list[dict[str, Any]]], width: int) -> str:
    """Plain-text listing of :func:`listing`'s data, wrapped at ``width`` columns."""
    width = max(int(width), 40)
    lines: list[str] = []
    for kind, title in _GROUPS:
        rows = data.get(kind, [])
        lines.append(f"{title}: {len(rows)}")
        if not rows:
            lines.append("  (none registered)")
        for r in rows:
            head = r["name"] + (f"  [{r['batch_kind']}]" if "batch_kind" in r else "")
            lines.extend(textwrap.wrap(head, width, initial_indent="  ", subsequent_indent="    "))
            if r["summary"]:
                lines.extend(textwrap.wrap(r["summary"], width, initial_indent="      ", subsequent_indent="      ",
                                           break_long_words=True, break_on_hyphens=False))
            if r["parameters"]:
                lines.extend(textwrap.wrap("params: " + ", ".join(r["parameters"]), width,
                                           initial_indent="      ", subsequent_indent="        "))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def run(args: argparse.Namespace) -> int:
    data = listing(args.kind)
    if args.json:
        sys.stdout.write(json.dumps(data, indent=1) + "\n")
    else:
        sys.stdout.write(render(data, shutil.get_terminal_size((100, 24)).columns))
    return 0
