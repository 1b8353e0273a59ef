"""``codenook run FILE [-- ARGS]``: run a Python or Bash file in the sandbox."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TextIO

from codenook import config, termtext
from codenook.assist.tools import sandbox
from codenook.errors import UsageError

NAME = "run"
HELP = "run a Python or Bash file in the sandbox (no network, limited time and memory)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``run``."""
    parser.add_argument("file", help="the .py or .sh file (or one with a #! line)")
    parser.add_argument("args", nargs="*", metavar="ARGS", help="arguments for it, after --")
    parser.add_argument(
        "--lang", choices=[lang.value for lang in sandbox.Language], help="override the language"
    )
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="wall-clock limit (default 10)"
    )
    parser.add_argument(
        "--memory", type=int, metavar="MB", help="memory limit of the whole run (default 512)"
    )
    parser.add_argument(
        "--stdin", metavar="FILE", help="feed FILE to the program's stdin ('-' for this stdin)"
    )
    parser.add_argument(
        "--isolation",
        choices=[i.value for i in sandbox.Isolation],
        help="insist on one isolation level (default: the best that works here)",
    )


def _stdin(arg: str | None) -> bytes | None:
    """The bytes for the program's stdin, bounded like every input a run reads."""
    if arg is None:
        return None
    if arg == "-":
        return sandbox.read_bounded(sys.stdin.buffer, what="codenook's stdin")
    return sandbox.read_input(arg, what="a file for --stdin, or '-' for codenook's own stdin")


def _show(text: str, stream: TextIO) -> None:
    """Write the program's output; on a terminal, its control characters escaped."""
    data = termtext.for_stream(text, stream).encode("utf-8", "replace")
    if stream is sys.stderr and data and not data.endswith(b"\n"):
        data += b"\n"
    # Bytes, not text: the program's output must come out whatever our locale is.
    stream.buffer.write(data)
    stream.flush()


def run(args: argparse.Namespace) -> int:
    """Run the file; print its output, then a one-line summary on stderr."""
    settings = config.load_settings().sandbox
    limits = sandbox.Limits.from_settings(settings)
    if args.timeout is not None:
        if not args.timeout > 0:
            raise UsageError("--timeout must be a positive number of seconds.")
        limits = dataclasses.replace(limits, timeout=args.timeout)
    if args.memory is not None:
        limits = dataclasses.replace(limits, memory_bytes=args.memory * sandbox.MiB)
    result = sandbox.run_file(
        args.file,
        language=args.lang,
        args=args.args,
        stdin=_stdin(args.stdin),
        limits=limits,
        isolation=args.isolation,
        allow_unisolated=settings.allow_unisolated,
    )
    _show(result.stdout, sys.stdout)
    _show(result.stderr, sys.stderr)
    if not result.isolated:
        print(
            "codenook: warning: this run was NOT isolated from your files or the network.",
            file=sys.stderr,
        )
    print(f"codenook run: {result.summary()}", file=sys.stderr)
    return result.exit_code
