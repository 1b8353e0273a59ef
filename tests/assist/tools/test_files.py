"""read_source on the bad inputs a user can give: each refused with a message that says why."""

from pathlib import Path

import pytest

from codenook.assist.tools.files import MAX_SOURCE_BYTES, SourceFileError, read_source
from codenook.errors import CodenookError


def test_reads_text_exactly_with_crlf_kept(tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_bytes(b"x = 1\r\ny = '\xc3\xa9'\r\n")
    assert read_source(f) == "x = 1\r\ny = 'é'\r\n"


def test_empty_file_is_empty_text(tmp_path: Path) -> None:
    f = tmp_path / "empty.py"
    f.write_bytes(b"")
    assert read_source(f) == ""


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceFileError, match=r"no such file"):
        read_source(tmp_path / "nope.py")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceFileError, match=r"is a directory"):
        read_source(tmp_path)


def test_binary_file_names_the_nul_offset(tmp_path: Path) -> None:
    f = tmp_path / "prog.py"
    f.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00")
    with pytest.raises(SourceFileError, match=r"binary.*offset 7"):
        read_source(f)


def test_non_utf8_names_the_byte_and_offset(tmp_path: Path) -> None:
    f = tmp_path / "latin1.py"
    f.write_bytes("name = 'café'\n".encode("latin-1"))
    with pytest.raises(SourceFileError, match=r"not UTF-8.*0xe9 at offset 11"):
        read_source(f)


def test_file_over_five_megabytes(tmp_path: Path) -> None:
    f = tmp_path / "big.py"
    f.write_bytes(b"x = 1\n" * (MAX_SOURCE_BYTES // 6 + 1))
    with pytest.raises(SourceFileError, match=r"5\.0 MB.*up to 5 MB"):
        read_source(f)
    # Exactly at the limit is still read.
    f.write_bytes(b"#" * MAX_SOURCE_BYTES)
    assert len(read_source(f)) == MAX_SOURCE_BYTES


def test_errors_are_user_facing() -> None:
    assert issubclass(SourceFileError, CodenookError)
