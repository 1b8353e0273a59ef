"""Reading a user's source file (refusing what is not source text) and writing it back safely."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from codenook.errors import CodenookError

#: The largest file the jobs read whole: a model's context holds far less anyway.
MAX_SOURCE_BYTES = 5 * 1024 * 1024


class SourceFileError(CodenookError):
    """A file cannot be used as source text (missing, a folder, binary, not UTF-8, too big)."""


def read_source(path: str | Path, *, max_bytes: int = MAX_SOURCE_BYTES) -> str:
    """Return the text of a UTF-8 source file exactly as stored (line endings kept)."""
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
        data = p.read_bytes()
    except OSError as e:
        raise SourceFileError(f"{p}: cannot be read ({e.strerror}).") from None
    # Read bytes and decode ourselves: text mode would turn CRLF into LF, and the
    # document job must write the file back byte for byte.
    nul = data.find(b"\x00")
    if nul >= 0:
        raise SourceFileError(
            f"{p} looks like a binary file (a NUL byte at offset {nul}); "
            "codenook works on Python and Bash source text."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SourceFileError(
            f"{p} is not UTF-8 text: byte 0x{data[e.start]:02x} at offset {e.start} "
            "cannot be decoded. Convert the file to UTF-8 (for example with iconv)."
        ) from None


def backup_path(path: str | Path) -> Path:
    """Where a backup of ``path`` goes: ``FILE.orig``, or ``FILE.orig.N`` when that is taken."""
    p = Path(path)
    candidate = p.with_name(p.name + ".orig")
    n = 1
    while candidate.exists() or candidate.is_symlink():
        candidate = p.with_name(f"{p.name}.orig.{n}")
        n += 1
    return candidate


def write_source(path: str | Path, text: str, *, backup: bool = True) -> Path | None:
    """Replace ``path``'s content with ``text`` (UTF-8, bytes as given); returns the backup.

    The new content is written to a temporary file beside the original and renamed over
    it, so a crash leaves the old file or the new one, never half of each. The backup is
    a copy of the old bytes (with their mode), made before anything changes.
    """
    # Through a symbolic link, the file it points to is the one to change.
    p = Path(path).resolve() if Path(path).is_symlink() else Path(path)
    saved = None
    if backup and p.exists():
        saved = backup_path(p)
        try:
            shutil.copy2(p, saved)
        except OSError as e:
            raise SourceFileError(
                f"Cannot keep a backup of {p} as {saved}: {e.strerror}."
            ) from None
    tmp = p.with_name(f".{p.name}.codenook-{os.getpid()}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        if p.exists():
            shutil.copymode(p, tmp)
        os.replace(tmp, p)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise SourceFileError(f"Cannot write {p}: {e.strerror}. It is unchanged.") from None
    return saved
