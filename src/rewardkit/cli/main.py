"""``rewardkit`` command-line entry point.

Each sub-command lives in its own module ``rewardkit.cli.<command>`` that defines
``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.  Modules are
imported lazily so ``rewardkit --help`` stays fast and a missing optional extra
only affects its own command.

The contract: every user error - a bad config, file, encoding or CLI value, a
folder locked by another run, an OS error such as a full disk or a denied
permission - is one line on stderr (``error: <field or path>: <problem>``) and exit
code 2, never a traceback.  Set ``REWARDKIT_DEBUG=1`` to get the traceback as well.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sqlite3
import sys
from typing import NoReturn

from rewardkit.core.errors import RewardkitError

#: command name -> module implementing it
COMMANDS = {
    "demo": "rewardkit.cli.demo",
    "run": "rewardkit.cli.run",
    "serve": "rewardkit.cli.serve",
    "score": "rewardkit.cli.score",
    "terms": "rewardkit.cli.terms",
    "check": "rewardkit.cli.check",
    "audit": "rewardkit.cli.audit",
    "schema": "rewardkit.cli.schema",
    "tune": "rewardkit.cli.tune",
    "eval": "rewardkit.cli.eval",
}


class _Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors are one line (no usage block) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = _Parser(prog="rewardkit", description="The reward layer of an RL agent.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
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
        rc = int(mod.run(args) or 0)  # type: ignore[attr-defined]
        sys.stdout.flush()  # a full disk or closed pipe on stdout is reported here, not at exit
        return rc
    except (RewardkitError, OSError, sqlite3.Error) as e:
        return _user_error(e)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _user_error(e: BaseException) -> int:
    """Print ``e`` as one ``error:`` line on stderr and return exit code 2."""
    if isinstance(e, BrokenPipeError):  # `rewardkit terms | head`: the reader left, nothing to report
        _silence_stdout()
        return 141
    if os.environ.get("REWARDKIT_DEBUG"):
        import traceback

        traceback.print_exc()
    if isinstance(e, OSError) and not isinstance(e, RewardkitError) and e.strerror:
        where = e.filename if e.filename is not None else "output"
        msg = f"{where}: {e.strerror}"
    elif isinstance(e, sqlite3.Error):
        msg = f"results database: {e}"
    else:
        msg = str(e)
    _silence_stdout()
    print(f"error: {' '.join(msg.split())}", file=sys.stderr)
    return 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null: it may be the failed stream, and the interpreter flushes it at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # pragma: no cover - stdout without a file descriptor
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
