"""``codenook``: parse the command line and turn errors into one line on stderr.

Errors a user can act on get their message; anything else is a bug: its traceback goes
to the error log and the user gets one line saying where.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any

from codenook import __version__, config
from codenook.applog import setup_logging
from codenook.errors import CodenookError, UsageError

# Command name -> "module" or "module:Class" exposing NAME, HELP, add_arguments(parser)
# and run(args) -> int. Only the command being run is imported: a quick one (stats, log)
# must not pay for loading the model code that ask and chat need.
COMMANDS = {
    "ask": "codenook.cli.ask",
    "gen": "codenook.cli.gen",
    "complete": "codenook.cli.complete",
    "review": "codenook.cli.review",
    "debug": "codenook.cli.debug",
    "doc": "codenook.cli.doc",
    "chat": "codenook.cli.chat",
    "history": "codenook.cli.history",
    "info": "codenook.cli.info",
    "prompt": "codenook.cli.prompt",
    "users": "codenook.cli.users",
    "login": "codenook.cli.login:Login",
    "logout": "codenook.cli.login:Logout",
    "run": "codenook.cli.run",
    "install-desktop": "codenook.cli.desktop:Install",
    "uninstall-desktop": "codenook.cli.desktop:Uninstall",
    "log": "codenook.cli.log",
    "stats": "codenook.cli.stats",
    "vote": "codenook.cli.vote",
    "feedback": "codenook.cli.feedback",
    "export": "codenook.cli.export",
    "models": "codenook.cli.models",
    "serve": "codenook.cli.serve",
    "backends": "codenook.cli.backends",
    "tune": "codenook.cli.tune",
}
crash_log = logging.getLogger("codenook.cli")


def load_command(name: str) -> Any:
    """The module (or class) implementing command ``name``."""
    module, _, attr = COMMANDS[name].partition(":")
    loaded = importlib.import_module(module)
    return getattr(loaded, attr) if attr else loaded


def _command_in(argv: Sequence[str]) -> str | None:
    """The command named in ``argv``, if it is a known one."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in COMMANDS else None


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser: every command, or just ``only`` (which argv names)."""
    parser = _Parser(
        prog="codenook",
        description="A private coding assistant for Python and Bash on local models.",
        epilog="Without a command (or with 'gui'), codenook opens its window when there is "
        "a screen, and a terminal chat otherwise.",
    )
    parser.add_argument("--version", action="version", version=f"codenook {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in [only] if only else COMMANDS:
        command = load_command(name)
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(p)
        p.set_defaults(run=command.run)
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; ``FILE --option -- ARGS`` gives ARGS to commands that take them.

    argparse (before Python 3.13) fills a ``*`` positional at its first chance, so in
    ``debug f.py --verify -- 0`` the ``0`` would be left over. Only when the plain
    parse fails is the part after ``--`` handed to the command's ``args`` instead.
    """
    try:
        return parser.parse_args(argv)
    except UsageError:
        if "--" not in argv:
            raise
        cut = argv.index("--")
        try:
            args = parser.parse_args(argv[:cut])
        except UsageError:
            args = None
        if args is None or not isinstance(getattr(args, "args", None), list):
            raise
        args.args = [*args.args, *argv[cut + 1 :]]
        return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run codenook; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = "?"
    try:
        # Before parsing, so that even a broken parser is logged; again once -v is known.
        setup_logging(debug=False)
        argv = argv or ["chat"]
        parser = build_parser(_command_in(argv))
        args = parse(parser, argv)
        command = args.command or "chat"
        debug = config.load_settings().logging.debug
        if debug or args.verbose:
            setup_logging(debug=debug, verbose=args.verbose)
        return int(args.run(args) or 0)
    except CodenookError as exc:
        _flush_quietly()
        crash_log.warning("%s: %s", command, exc, extra={"file_only": True})
        print(f"codenook: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        _flush_quietly()
        print("\ncodenook: stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a traceback.
        sys.stderr.close()
        return 0
    except Exception:
        # A bug: the traceback goes to the log; stderr gets one line naming the log file.
        _flush_quietly()
        crash_log.critical("unexpected error in codenook %s", command, exc_info=True)
        return 1


def _flush_quietly() -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
