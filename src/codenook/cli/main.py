"""``codenook``: parse the command line and turn errors into one line on stderr."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence

from codenook import __version__
from codenook.cli import ask, chat, history, info, models, prompt, run, users
from codenook.cli.desktop import Install, Uninstall
from codenook.cli.login import Login, Logout
from codenook.errors import CodenookError, UsageError

# Each command module exposes NAME, HELP, add_arguments(parser) and run(args) -> int.
COMMANDS = (
    ask,
    chat,
    history,
    info,
    models,
    prompt,
    users,
    Login,
    Logout,
    run,
    Install,
    Uninstall,
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    """The full command-line parser."""
    parser = _Parser(
        prog="codenook",
        description="A private coding assistant for Python and Bash on local models.",
        epilog="Without a command (or with 'gui'), codenook opens its window when there is "
        "a screen, and a terminal chat otherwise.",
    )
    parser.add_argument("--version", action="version", version=f"codenook {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(p)
        p.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run codenook; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        args = parser.parse_args(argv or ["chat"])
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="codenook: %(levelname)s: %(message)s",
        )
        return int(args.run(args) or 0)
    except CodenookError as exc:
        _flush_quietly()
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


def _flush_quietly() -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
