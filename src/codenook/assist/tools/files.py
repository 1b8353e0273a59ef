"""Reading a user's source file (refusing what is not source text) and writing it back safely."""

from __future__ import annotations

from pathlib import Path

from codenook.assist.tools.check import ensure_parses
from codenook.errors import CodenookError
from codenook.safefile import (
    FileChangedError,
    FileWriteError,
    Snapshot,
    backup_path,
    read_snapshot,
    write_file,
)

__all__ = [
    "MAX_SOURCE_BYTES",
    "FileChangedError",
    "SourceFileError",
    "backup_path",
    "read_source",
    "read_source_snapshot",
    "write_source",
]

#: The largest file the jobs read whole: a model's context holds far less anyway.
MAX_SOURCE_BYTES = 5 * 1024 * 1024


class SourceFileError(CodenookError):
    """A file cannot be used as source text (missing, a folder, binary, not UTF-8, too big)."""


def read_source_snapshot(
    path: str | Path, *, max_bytes: int = MAX_SOURCE_BYTES
) -> tuple[str, Snapshot]:
    """The text of a UTF-8 source file exactly as stored, and what was read (for a later write)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise SourceFileError(f"{p}: no such file. Check the path.") from None
    except OSError as e:
        raise SourceFileError(f"{p}: cannot be read ({e.strerror}).") from None
    if p.is_dir():
        raise SourceFileError(f"{p} is a directory; give one source file.")
    if not p.is_file():
        raise SourceFileError(f"{p} is not a regular file (a pipe or a device?); give a file.")
    if st.st_size > max_bytes:
        raise SourceFileError(
            f"{p} is {st.st_size / 1024 / 1024:.1f} MB; codenook reads source files up to "
            f"{max_bytes / 1024 / 1024:g} MB. Give a smaller file or the part you mean."
        )
    try:
        found = read_snapshot(p)
    except OSError as e:
        raise SourceFileError(f"{p}: cannot be read ({e.strerror}).") from None
    if found is None:
        raise SourceFileError(f"{p} changed while it was read (it is gone or no longer a file).")
    data, snap = found
    if len(data) > max_bytes:  # it grew between the check and the read
        raise SourceFileError(f"{p} is over {max_bytes / 1024 / 1024:g} MB; give a smaller file.")
    # Read bytes and decode ourselves: text mode would turn CRLF into LF, and the
    # document job must write the file back byte for byte.
    nul = data.find(b"\x00")
    if nul >= 0:
        raise SourceFileError(
            f"{p} looks like a binary file (a NUL byte at offset {nul}); "
            "codenook works on Python and Bash source text."
        )
    try:
        return data.decode("utf-8"), snap
    except UnicodeDecodeError as e:
        raise SourceFileError(
            f"{p} is not UTF-8 text: byte 0x{data[e.start]:02x} at offset {e.start} "
            "cannot be decoded. Convert the file to UTF-8 (for example with iconv)."
        ) from None


def read_source(path: str | Path, *, max_bytes: int = MAX_SOURCE_BYTES) -> str:
    """Return the text of a UTF-8 source file exactly as stored (line endings kept)."""
    return read_source_snapshot(path, max_bytes=max_bytes)[0]


def write_source(
    path: str | Path,
    text: str,
    *,
    backup: bool = True,
    expect: Snapshot | None = None,
    exclusive: bool = False,
    language: str | None = None,
    old: str | None = None,
) -> Path | None:
    """Replace ``path``'s content with ``text`` (UTF-8, bytes as given); returns the backup.

    Written through :func:`codenook.safefile.write_file`: atomic, mode kept, the backup
    (``FILE.orig``) made from the old bytes. With ``expect`` (what a job read), a file
    changed since is left alone and the text is saved as ``FILE.codenook-proposed``
    (:class:`~codenook.safefile.FileChangedError`); ``exclusive`` refuses a file that
    appeared since the job found none. With ``language`` the text must parse first
    (:func:`codenook.assist.tools.check.ensure_parses`, given the ``old`` text it
    replaces): code that does not is refused and kept as ``FILE.codenook-proposed``.
    """
    if language is not None:
        ensure_parses(path, text, language=language, old=old)
    p = Path(path)
    if expect is not None:
        # The file the job read, links resolved then: a link planted since is not followed.
        p = expect.path
    elif p.is_symlink() and p.resolve().is_file():
        # A link the user named to a file of theirs (an editor's save): that file changes.
        p = p.resolve()
    try:
        written = write_file(
            p, text, expect=expect, backup=backup, exclusive=exclusive, propose=True
        )
    except FileChangedError:
        raise
    except FileWriteError as exc:
        raise SourceFileError(str(exc)) from None
    return written.backup
