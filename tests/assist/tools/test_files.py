"""read_source on the bad inputs a user can give: each refused with a message that says why."""

import os
from pathlib import Path

import pytest

from codenook.assist.tools.files import (
    MAX_SOURCE_BYTES,
    FileChangedError,
    SourceFileError,
    backup_path,
    read_source,
    read_source_snapshot,
    write_source,
)
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


def test_write_source_keeps_a_backup_and_the_mode(tmp_path: Path) -> None:
    f = tmp_path / "run.sh"
    f.write_bytes(b"#!/bin/sh\r\necho old\r\n")
    f.chmod(0o750)
    backup = write_source(f, "#!/bin/sh\r\necho new\r\n")
    assert backup == tmp_path / "run.sh.orig"
    assert backup.read_bytes() == b"#!/bin/sh\r\necho old\r\n"
    assert f.read_bytes() == b"#!/bin/sh\r\necho new\r\n"  # bytes as given, CRLF kept
    assert f.stat().st_mode & 0o777 == 0o750
    assert write_source(f, "third\n") == tmp_path / "run.sh.orig.1"
    assert backup.read_bytes() == b"#!/bin/sh\r\necho old\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.sh", "run.sh.orig", "run.sh.orig.1"]


def test_write_source_new_file_has_no_backup(tmp_path: Path) -> None:
    assert write_source(tmp_path / "new.py", "x = 1\n") is None
    assert (tmp_path / "new.py").read_text() == "x = 1\n"
    assert backup_path(tmp_path / "new.py") == tmp_path / "new.py.orig"


def test_write_source_through_a_link_changes_the_target(tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_text("a\n")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    write_source(link, "b\n", backup=False)
    assert link.is_symlink() and real.read_text() == "b\n"


def test_write_source_failure_leaves_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "a.py"
    f.write_text("a\n")

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(SourceFileError, match=r"No space left.*unchanged"):
        write_source(f, "b\n", backup=False)
    assert f.read_text() == "a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]  # no temporary file left


def test_write_source_refuses_a_dangling_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.py"
    link = tmp_path / "new.py"
    link.symlink_to(target)
    with pytest.raises(SourceFileError, match=r"new\.py is a symbolic link to .*elsewhere\.py"):
        write_source(link, "x = 1\n")
    assert not target.exists() and link.is_symlink()


def test_write_source_leaves_a_file_changed_since_it_was_read(tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    text, read = read_source_snapshot(f)
    assert text == "x = 1\n" and read.path == f.resolve() and read.size == 6
    f.write_text("x = 1\ny = 2\n")
    with pytest.raises(FileChangedError, match=r"a\.py changed while codenook was working") as e:
        write_source(f, "x = 3\n", expect=read)
    assert f.read_text() == "x = 1\ny = 2\n"
    assert e.value.proposed is not None and e.value.proposed.read_text() == "x = 3\n"
    assert not (tmp_path / "a.py.orig").exists()


def test_write_source_through_a_link_writes_the_file_that_was_read(tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_text("a\n")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    _, read = read_source_snapshot(link)
    # The link is pointed elsewhere meanwhile: the file that was read is the one written.
    other = tmp_path / "other.py"
    other.write_text("a\n")
    link.unlink()
    link.symlink_to(other)
    write_source(link, "b\n", backup=False, expect=read)
    assert real.read_text() == "b\n" and other.read_text() == "a\n"
