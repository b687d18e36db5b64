"""``rewardkit`` command-line entry point.

Each sub-command lives in its own module ``rewardkit.cli.<command>`` that defines
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.  Modules are
imported lazily so ``rewardkit --help`` stays fast and a missing optional extra
only affects its own command.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from rewardkit.core.errors import RewardkitError

#: command name -> module implementing it
COMMANDS = {
    "demo": "rewardkit.cli.demo",
    "run": "rewardkit.cli.run",
    "serve": "rewardkit.cli.serve",
    "terms": "rewardkit.cli.terms",
    "check": "rewardkit.cli.check",
}


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = argparse.ArgumentParser(prog="rewardkit", description="The reward layer of an RL agent.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    mods: dict[str, object] = {}
    for name, modname in COMMANDS.items():
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as e:
            if e.name == modname:
                continue  # command not implemented in this build
            help_text = f"(unavailable: {e.name} is not installed; pip install 'rewardkit[all]')"
            sub.add_parser(name, help=help_text)
            mods[name] = e
            continue
        p = sub.add_parser(name, help=getattr(mod, "HELP", ""), description=getattr(mod, "HELP", ""))
        mod.add_arguments(p)
        mods[name] = mod
    return parser, mods


def main(argv: list[str] | None = None) -> int:
    parser, mods = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from rewardkit import __version__

        print(__version__)
        return 0
    if not args.command:
        parser.print_help()
        return 0
    mod = mods[args.command]
    if isinstance(mod, Exception):
        print(f"rewardkit {args.command}: needs {mod.name}; install it with pip install 'rewardkit[all]'",
              file=sys.stderr)
        return 2
    try:
        return int(mod.run(args) or 0)  # type: ignore[attr-defined]
    except RewardkitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
