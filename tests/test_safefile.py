"""The one way codenook writes a file: atomic, never through a link, never over a change."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from codenook import safefile
from codenook.errors import CodenookError
from codenook.safefile import (
    FileChangedError,
    FileWriteError,
    TargetExistsError,
    read_snapshot,
    snapshot,
    write_file,
)


def names(folder: Path) -> list[str]:
    """The entries of ``folder``, sorted (temporary files included)."""
    return sorted(p.name for p in folder.iterdir())


def test_new_file_is_written_with_its_mode_less_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "export.jsonl"
    written = write_file(out, "é\n", mode=0o600)
    assert written.path == out and written.backup is None and written.replaced_link is None
    assert out.read_bytes() == "é\n".encode()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert names(tmp_path) == ["export.jsonl"]


def test_an_existing_files_mode_is_kept_and_a_backup_made(tmp_path: Path) -> None:
    f = tmp_path / "run.sh"
    f.write_bytes(b"old\r\n")
    f.chmod(0o750)
    written = write_file(f, b"new\r\n", mode=0o600, backup=True)
    assert f.read_bytes() == b"new\r\n"
    assert stat.S_IMODE(f.stat().st_mode) == 0o750
    assert written.backup == tmp_path / "run.sh.orig"
    assert written.backup.read_bytes() == b"old\r\n"
    assert stat.S_IMODE(written.backup.stat().st_mode) == 0o750
    assert write_file(f, "third\n", backup=True).backup == tmp_path / "run.sh.orig.1"
    assert names(tmp_path) == ["run.sh", "run.sh.orig", "run.sh.orig.1"]


def test_keep_mode_false_gives_the_asked_mode(tmp_path: Path) -> None:
    f = tmp_path / "token"
    f.write_text("old\n")
    f.chmod(0o644)
    write_file(f, "secret\n", mode=0o600, keep_mode=False)
    assert stat.S_IMODE(f.stat().st_mode) == 0o600


@pytest.mark.parametrize("dangling", [True, False])
def test_a_symbolic_link_is_refused_and_its_target_untouched(
    tmp_path: Path, dangling: bool
) -> None:
    target = tmp_path / "elsewhere" / "victim.txt"
    target.parent.mkdir()
    if not dangling:
        target.write_text("mine\n")
    link = tmp_path / "out.txt"
    link.symlink_to(target)
    with pytest.raises(
        FileWriteError, match=r"out\.txt is a symbolic link to .*victim\.txt.*--force"
    ):
        write_file(link, "planted\n")
    assert link.is_symlink()
    if dangling:
        assert not target.exists()  # the link's target was not created
    else:
        assert target.read_text() == "mine\n"
    assert names(tmp_path) == ["elsewhere", "out.txt"]


def test_force_replaces_the_link_itself_never_its_target(tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("mine\n")
    link = tmp_path / "out.txt"
    link.symlink_to(target)
    written = write_file(link, "new\n", force=True, backup=True)
    assert written.replaced_link == str(target) and written.backup is None
    assert not link.is_symlink() and link.read_text() == "new\n"
    assert target.read_text() == "mine\n"


def test_a_folder_a_missing_folder_and_a_device_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(FileWriteError, match=rf"^{tmp_path} is a folder; give the name of a file"):
        write_file(tmp_path, "x", force=True)
    missing = tmp_path / "no" / "such" / "out.md"
    with pytest.raises(FileWriteError, match=r"The folder .*no/such does not exist; create it"):
        write_file(missing, "x")
    assert not (tmp_path / "no").exists()
    (tmp_path / "plain").write_text("")
    with pytest.raises(FileWriteError, match=r"plain is not a folder"):
        write_file(tmp_path / "plain" / "out.md", "x")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileWriteError, match=r"pipe is not a regular file"):
        write_file(fifo, "x", force=True)
    assert issubclass(FileWriteError, CodenookError)


def test_the_temporary_file_is_created_exclusively_past_a_planted_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Make the first temporary name predictable and plant a link there: O_EXCL|O_NOFOLLOW
    # must refuse it (no write through it) and another name be used.
    tokens = iter(["aaaa", "bbbb"])
    monkeypatch.setattr(safefile.secrets, "token_hex", lambda _n: next(tokens))
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    planted = tmp_path / ".out.txt.aaaa.codenook-tmp"
    planted.symlink_to(victim)
    write_file(tmp_path / "out.txt", "data\n")
    assert victim.read_text() == "mine\n"
    assert (tmp_path / "out.txt").read_text() == "data\n"
    assert not (tmp_path / "out.txt").is_symlink()
    assert planted.is_symlink()  # left as it was; the write went elsewhere
    assert names(tmp_path) == [".out.txt.aaaa.codenook-tmp", "out.txt", "victim.txt"]


def test_no_temporary_file_is_left_after_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "a.py"
    f.write_text("a\n")

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(FileWriteError, match=r"Cannot write .*a\.py: No space left.*unchanged"):
        write_file(f, "b\n")
    assert f.read_text() == "a\n"
    assert names(tmp_path) == ["a.py"]

    def no_link(*args: object, **kwargs: object) -> None:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(os, "link", no_link)
    with pytest.raises(FileWriteError, match=r"Permission denied\. Nothing was written"):
        write_file(tmp_path / "new.py", "b\n", exclusive=True)
    assert names(tmp_path) == ["a.py"]


def test_exclusive_refuses_a_file_that_is_there_when_it_writes(tmp_path: Path) -> None:
    f = tmp_path / "out.py"
    f.write_text("theirs\n")
    with pytest.raises(TargetExistsError, match=r"out\.py exists; add --force"):
        write_file(f, "mine\n", exclusive=True)
    with pytest.raises(FileChangedError, match=r"out\.py appeared while codenook was working") as e:
        write_file(f, "mine\n", exclusive=True, propose=True)
    assert f.read_text() == "theirs\n"
    assert e.value.proposed == tmp_path / "out.py.codenook-proposed"
    assert e.value.proposed.read_text() == "mine\n"
    assert str(e.value.proposed) in str(e.value)


def test_a_file_changed_since_it_was_read_is_left_and_the_change_saved(tmp_path: Path) -> None:
    f = tmp_path / "tool.py"
    f.write_text("def a():\n    pass\n")
    found = read_snapshot(f)
    assert found is not None
    data, read = found
    assert data == b"def a():\n    pass\n" and read.size == len(data)
    with f.open("a") as out:
        out.write("\n\ndef added():\n    return 1\n")
    proposed = tmp_path / "tool.py.codenook-proposed"
    proposed.write_text("an older proposal\n")  # never written over
    with pytest.raises(FileChangedError) as e:
        write_file(f, "def a():\n    return 0\n", expect=read, backup=True, propose=True)
    message = str(e.value)
    assert "tool.py changed while codenook was working" in message
    assert "18 -> 46 bytes" in message
    assert e.value.proposed == tmp_path / "tool.py.codenook-proposed.1"
    assert e.value.proposed.read_text() == "def a():\n    return 0\n"
    assert f"saved as {e.value.proposed}" in message
    assert "def added()" in f.read_text()  # the edit survived
    assert proposed.read_text() == "an older proposal\n"
    assert not (tmp_path / "tool.py.orig").exists()
    assert [n for n in names(tmp_path) if "tmp" in n] == []


def test_same_size_same_time_other_content_is_a_change(tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    read = snapshot(f)
    assert read is not None
    st = f.stat()
    f.write_text("x = 2\n")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # a coarse clock hides the edit
    with pytest.raises(FileChangedError, match="different content"):
        write_file(f, "y = 1\n", expect=read)
    assert f.read_text() == "x = 2\n"


def test_an_unchanged_file_is_replaced(tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    read = snapshot(f)
    assert read is not None
    write_file(f, "x = 2\n", expect=read, backup=True, propose=True)
    assert f.read_text() == "x = 2\n"
    assert (tmp_path / "a.py.orig").read_text() == "x = 1\n"


def test_a_read_file_replaced_by_a_link_is_a_conflict_not_followed(tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    read = snapshot(f)
    assert read is not None
    victim = tmp_path / "victim.txt"
    victim.write_text("x = 1\n")
    f.unlink()
    f.symlink_to(victim)
    with pytest.raises(FileChangedError, match="removed or replaced"):
        write_file(f, "x = 2\n", expect=read, propose=True)
    assert victim.read_text() == "x = 1\n" and f.is_symlink()


def test_a_backup_name_taken_by_a_link_is_skipped(tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_text("old\n")
    victim = tmp_path / "victim.txt"
    (tmp_path / "a.py.orig").symlink_to(victim)
    written = write_file(f, "new\n", backup=True)
    assert written.backup == tmp_path / "a.py.orig.1"
    assert written.backup.read_text() == "old\n"
    assert not victim.exists()
