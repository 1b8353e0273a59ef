"""``codenook``: parse the command line and turn errors into one line on stderr.

Errors a user can act on get their message; anything else is a bug: its traceback goes
to the error log and the user gets one line saying where.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any

from codenook import __version__, config
from codenook.applog import setup_logging
from codenook.errors import CodenookError, UsageError
from codenook.redact import register_secret

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
    "project": "codenook.cli.project",
    "context": "codenook.cli.context",
    "eval": "codenook.cli.eval",
    "tune": "codenook.cli.tune",
}
crash_log = logging.getLogger("codenook.cli")
# OSErrors that the machine causes (a read-only or full disk, a missing permission) rather
# than a bug: said in one line, like a CodenookError.
_ENVIRONMENT_ERRNOS = frozenset(
    {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EIO}
)


def load_command(name: str) -> Any:
    """The module (or class) implementing command ``name``."""
    if name not in COMMANDS:
        from codenook.cli.jobcommand import job_command  # a job declared in the registry

        return job_command(name)
    module, _, attr = COMMANDS[name].partition(":")
    loaded = importlib.import_module(module)
    return getattr(loaded, attr) if attr else loaded


def _command_in(argv: Sequence[str]) -> str | None:
    """The command named in ``argv``, if it is a known one."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in COMMANDS or first in _job_commands(first) else None


def _job_commands(first: str | None) -> list[str]:
    """Commands of registered jobs without a module here (the registry is read only then)."""
    if first in COMMANDS:
        return []
    from codenook.cli.jobcommand import commands

    return [name for name in commands() if name not in COMMANDS]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # Imported here: only a mistyped command line pays for it.
        from codenook.cli.options import usage_message

        raise UsageError(usage_message(self, message))


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
    for name in [only] if only else [*COMMANDS, *_job_commands(None)]:
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
        settings = config.load_settings()
        debug = settings.logging.debug
        if debug or args.verbose:
            setup_logging(debug=debug, verbose=args.verbose)
        if debug:
            register_stored_secrets(settings)
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
    except OSError as exc:
        if exc.errno not in _ENVIRONMENT_ERRNOS:
            return _bug(command)
        # The machine's doing, not a bug: a read-only folder, a full disk, a permission.
        _flush_quietly()
        where = f" {exc.filename}" if exc.filename else ""
        crash_log.warning("%s: %s", command, exc, extra={"file_only": True})
        print(
            f"codenook: error: cannot write or read{where}: {exc.strerror}. "
            "Check the disk and the folder's permissions, then try again.",
            file=sys.stderr,
        )
        return 2
    except Exception:
        return _bug(command)


def _bug(command: str) -> int:
    """A bug: the traceback goes to the log; stderr gets one line naming the log file."""
    _flush_quietly()
    crash_log.critical("unexpected error in codenook %s", command, exc_info=True)
    return 1


def register_stored_secrets(settings: config.Settings) -> None:
    """Blank the stored Hugging Face token and the backends' API keys in the log from now on.

    Read at start when the log may hold what users type (``[logging] debug``), so that a
    token pasted into a question never reaches the file. HF_TOKEN is blanked in any case,
    whatever its length (``redact.SECRET_VARIABLES``).
    """
    from codenook.library import backendkeys, hftoken, secretstore

    try:
        found = secretstore.load(hftoken.ACCOUNT, hftoken.token_file(), what="token")
        if found:
            register_secret(found[0], any_length=True)
        for name in settings.backends:
            backendkeys.load_key(name)  # registers the key it finds
    except (CodenookError, OSError) as exc:
        crash_log.warning("Cannot read the stored tokens to keep them out of the log: %s", exc)


def _flush_quietly() -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
