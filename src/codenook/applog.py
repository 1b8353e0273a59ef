"""The error log: a rotating file in the logs folder, secrets redacted, crashes recorded.

One line per event (time, level, module, message); a traceback follows its event on
lines that start with ``  | ``. Message content stays out unless ``[logging] debug`` is
on, and a filter blanks anything that looks like a secret as a second line of defence.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import Any

from codenook import config
from codenook.redact import redact

LOG_NAME = "codenook.log"
MAX_BYTES = 1024 * 1024
FILES = 5  # the live file and four rotated ones
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONTINUATION = "  | "

log = logging.getLogger("codenook.crash")

#: Called with a one-line summary when an exception escapes a thread (from that thread).
CrashListener = Callable[[str], None]


@dataclass
class _State:
    handlers: list[logging.Handler] = field(default_factory=list)
    path: Path | None = None
    debug: bool = False
    listeners: list[CrashListener] = field(default_factory=list)
    previous_excepthook: Any = None
    previous_threading_hook: Any = None
    #: The logs folder already reported as unwritable.
    unwritable: Path | None = None


_state = _State()


def log_file() -> Path:
    """Where the error log is written (the newest of the rotated files)."""
    return config.paths().logs / LOG_NAME


def debug_enabled() -> bool:
    """Whether the user allowed message content in the log."""
    return _state.debug


def content(text: str) -> str:
    """Message content as the log may show it: the text in debug mode, else its size."""
    return text if _state.debug else f"<{len(text)} characters>"


class RedactingFilter(logging.Filter):
    """Blanks secrets in a record's message and traceback before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; always keeps it."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the event
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message)[0], None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)[0]
        if record.stack_info:
            record.stack_info = redact(record.stack_info)[0]
        return True


class LineFormatter(logging.Formatter):
    """One line per event; a traceback continues on marked lines below it."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The event line, with newlines in the message escaped."""
        record.message = record.message.replace("\r", "\\r").replace("\n", "\\n")
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        """The event line and its indented traceback, if any."""
        first, *rest = super().format(record).split("\n")
        return "\n".join([first, *(CONTINUATION + line for line in rest)])


class ShortFormatter(logging.Formatter):
    """``codenook: level: message`` on stderr; a crash gets one line pointing to the log."""

    def __init__(self, *, verbose: bool) -> None:
        super().__init__("codenook: %(levelname)s: %(message)s")
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        """One line, unless verbose or there is no log file to hold the traceback."""
        if record.exc_info and not self.verbose and _state.path is not None:
            exc = record.exc_info[1]
            what = type(exc).__name__ if exc is not None else "error"
            detail = str(exc).splitlines()[0][:200] if exc is not None and str(exc) else ""
            detail = redact(detail)[0]
            return (
                f"codenook: {record.getMessage()} ({what}{': ' + detail if detail else ''}); "
                f"the details are in {_state.path}"
            )
        return super().format(record)


class _NotFileOnly(logging.Filter):
    """Keeps records meant for the file only (``extra={"file_only": True}``) off stderr."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "file_only", False)


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose files are created readable by their owner only.

    When the file cannot be written (a full disk), it says so once on stderr and stops,
    instead of printing logging's own error with a traceback at every event.
    """

    failed = False

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        """Write the event, unless the file has already failed."""
        if not self.failed:
            super().emit(record)

    def close(self) -> None:
        """Close the file; what a full disk would not take is dropped without an error."""
        with contextlib.suppress(OSError):
            super().close()

    def handleError(self, record: logging.LogRecord) -> None:
        """A disk error: one line on stderr, and no more writing; anything else as logging does."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            super().handleError(record)
            return
        self.failed = True
        with contextlib.suppress(OSError, ValueError):
            print(
                f"codenook: warning: cannot write the log {self.baseFilename} "
                f"({exc.strerror or exc}); messages go to the terminal only",
                file=sys.stderr,
            )


def _notify(summary: str) -> None:
    for listener in list(_state.listeners):
        try:
            listener(summary)
        except Exception:  # a broken listener must not hide the crash it reports
            log.exception("A crash listener failed", extra={"file_only": True})


def _thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    log.error(
        "Uncaught error in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
    where = _state.path or "the log"
    _notify(f"Something went wrong in the background ({args.exc_type.__name__}); see {where}.")


def _main_hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    log.critical("Uncaught error", exc_info=(exc_type, exc, tb))


def add_crash_listener(listener: CrashListener) -> None:
    """Also tell ``listener`` (e.g. the window's queue) about uncaught exceptions."""
    _state.listeners.append(listener)


def remove_crash_listener(listener: CrashListener) -> None:
    """Stop telling ``listener`` about uncaught exceptions."""
    if listener in _state.listeners:
        _state.listeners.remove(listener)


def setup_logging(
    *,
    debug: bool,
    verbose: bool = False,
    max_bytes: int = MAX_BYTES,
    files: int = FILES,
) -> Path | None:
    """Send codenook's log to the rotating file (and warnings to stderr); catch crashes.

    Returns the log file, or None when the logs folder cannot be written (stderr only).
    Calling it again replaces the earlier set-up.
    """
    shutdown_logging()
    redactor = RedactingFilter()
    path: Path | None = log_file()
    file_handler: logging.Handler | None = None
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        config.make_private(path.parent)
        # The file is opened at the first event: find out now whether it can be, rather
        # than print logging's own error (with a traceback) at each event.
        if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise OSError(errno.EROFS, "the folder or the log file is read-only")
        file_handler = PrivateRotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=files - 1, encoding="utf-8", delay=True
        )
    except OSError as exc:
        if _state.unwritable != path.parent:
            # Once per process: setup_logging runs again once the settings are read.
            print(
                f"codenook: warning: cannot write the log in {path.parent} "
                f"({exc.strerror or exc}); messages go to the terminal only",
                file=sys.stderr,
            )
        _state.unwritable = path.parent
        path = None
    _state.path, _state.debug = path, debug
    if file_handler is not None:
        file_handler.setLevel(logging.DEBUG if debug else logging.INFO)
        file_handler.addFilter(redactor)
        file_handler.setFormatter(LineFormatter(FILE_FORMAT))
        _state.handlers.append(file_handler)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.INFO if verbose else logging.WARNING)
    stderr.addFilter(redactor)
    stderr.addFilter(_NotFileOnly())
    stderr.setFormatter(ShortFormatter(verbose=verbose))
    _state.handlers.append(stderr)
    root = logging.getLogger()
    for handler in _state.handlers:
        root.addHandler(handler)
    # Libraries stay at WARNING; codenook's own events are wanted from INFO up.
    root.setLevel(logging.WARNING)
    logging.getLogger("codenook").setLevel(logging.DEBUG if debug else logging.INFO)
    _state.previous_excepthook, sys.excepthook = sys.excepthook, _main_hook
    _state.previous_threading_hook, threading.excepthook = threading.excepthook, _thread_hook
    return path


def shutdown_logging() -> None:
    """Remove what setup_logging installed: handlers (flushed and closed) and hooks."""
    root = logging.getLogger()
    for handler in _state.handlers:
        root.removeHandler(handler)
        handler.close()
    _state.handlers.clear()
    if sys.excepthook is _main_hook:
        sys.excepthook = _state.previous_excepthook or sys.__excepthook__
    if threading.excepthook is _thread_hook:
        threading.excepthook = _state.previous_threading_hook or threading.__excepthook__
    _state.path, _state.debug = None, False
    logging.getLogger("codenook").setLevel(logging.NOTSET)


def latest_lines(count: int = 40) -> list[str]:
    """The last ``count`` lines of the error log, oldest first, across rotated files."""
    path = log_file()
    found: list[str] = []
    candidates = [path, *(path.with_name(f"{path.name}.{n}") for n in range(1, FILES))]
    for file in candidates:
        if len(found) >= count:
            break
        try:
            lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            continue
        found = lines[-(count - len(found)) :] + found
    return found
