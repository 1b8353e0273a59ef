"""Reading a user's source file, with a clear refusal for what is not source text."""

from __future__ import annotations

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
