"""Every file codenook writes for the user, written one safe way.

A write goes to a temporary file created beside the target with ``O_EXCL | O_NOFOLLOW``
(so a link planted at its name cannot redirect it), is synced, and is renamed over the
target, so a crash leaves the old file or the new one, never half of each. A symbolic
link at the target is refused unless the caller forces it, and then the link itself is
replaced: codenook never writes through a link to wherever it points. A job that read
the file first hands in what it read (:class:`Snapshot`); if the file changed since,
nothing is overwritten and the new content is saved beside it instead.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from codenook.errors import CodenookError

#: What a conflicting write's content is saved as, beside the file it was meant for.
PROPOSED_SUFFIX = ".codenook-proposed"
#: What a replaced file's old content is kept as.
BACKUP_SUFFIX = ".orig"
# The temporary file's name keeps this much of the target's name (file names stop at 255).
_NAME_KEPT = 200
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class FileWriteError(CodenookError):
    """A file cannot be written where asked (a link, a folder, no such folder, a disk error)."""


class TargetExistsError(FileWriteError):
    """The file to create exists and the caller did not say to overwrite it."""


class FileChangedError(FileWriteError):
    """The file changed (or appeared) since the job read it; its new content went beside it."""

    def __init__(self, message: str, *, path: Path, proposed: Path | None) -> None:
        super().__init__(message)
        self.path = path
        self.proposed = proposed


@dataclass(frozen=True)
class Snapshot:
    """What a job read of a file: which file (links resolved), its size, time and hash."""

    path: Path
    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: str | Path, data: bytes, st: os.stat_result) -> Snapshot:
        """The snapshot of ``data`` read from ``path`` whose ``fstat`` was ``st``."""
        return cls(Path(path), st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest())

    def describe_change(self, now: Snapshot | None) -> str:
        """How ``now`` differs from this snapshot, in words (``now`` None: the file is gone)."""
        if now is None:
            return "it was removed or replaced by something that is not a file"
        said = []
        if now.size != self.size:
            said.append(f"{self.size:,} -> {now.size:,} bytes")
        if now.mtime_ns != self.mtime_ns:
            when = datetime.fromtimestamp(now.mtime_ns / 1e9).strftime("%H:%M:%S")
            said.append(f"modified at {when}")
        if now.sha256 != self.sha256 and now.size == self.size:
            said.append("different content")
        return ", ".join(said) or "it was touched"


@dataclass(frozen=True)
class Written:
    """What a write did: the file written, the backup kept, the link it replaced."""

    path: Path
    backup: Path | None = None
    #: Where the symbolic link that was replaced pointed (only with ``force``).
    replaced_link: str | None = None


def read_snapshot(path: str | Path) -> tuple[bytes, Snapshot] | None:
    """The bytes of the regular file at ``path`` (links followed) and their snapshot.

    None when there is no such file, or it is not a regular file.
    """
    real = Path(path).resolve()
    try:
        fd = os.open(real, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        data = f.read()
    return data, Snapshot.of(real, data, st)


def snapshot(path: str | Path) -> Snapshot | None:
    """What the file at ``path`` is now, or None when there is no regular file there."""
    found = read_snapshot(path)
    return found[1] if found else None


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise FileWriteError(f"Cannot use {path}: {e.strerror}.") from None


def check_target(path: str | Path, *, force: bool = False) -> os.stat_result | None:
    """Refuse a target no file can be written to; its ``lstat`` (None when absent).

    Refused: a missing or non-folder parent, a folder, a device or pipe, and a symbolic
    link (dangling or not) unless ``force``.
    """
    p = Path(path)
    parent = p.parent
    if not parent.is_dir():
        if parent.exists() or parent.is_symlink():
            raise FileWriteError(f"{parent} is not a folder; give a path inside a folder for {p}.")
        raise FileWriteError(
            f"The folder {parent} does not exist; create it first (mkdir -p {parent}) "
            f"or give a path in an existing folder."
        )
    st = _lstat(p)
    if st is None:
        return None
    if stat.S_ISLNK(st.st_mode):
        if not force:
            target = os.readlink(p)
            dangling = "" if p.exists() else ", which does not exist"
            raise FileWriteError(
                f"{p} is a symbolic link to {target}{dangling}; codenook does not write "
                f"through links. Give the real file's path, or --force to replace the link "
                f"itself with a file."
            )
        return st
    if stat.S_ISDIR(st.st_mode):
        raise FileWriteError(
            f"{p} is a folder; give the name of a file to write (in it or elsewhere)."
        )
    if not stat.S_ISREG(st.st_mode):
        raise FileWriteError(
            f"{p} is not a regular file (a pipe or a device?); give a file name "
            f"(or leave out the output option to print)."
        )
    return st


def _umask() -> int:
    """The process umask, read without changing it where the system says it."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    # Elsewhere: set and restore at once (a thread creating a file meanwhile is the cost).
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _create_beside(target: Path, tag: str) -> tuple[int, Path]:
    """A new empty file in ``target``'s folder, private, with a name nobody could predict."""
    stem = target.name[:_NAME_KEPT]
    for _ in range(100):
        tmp = target.with_name(f".{stem}.{secrets.token_hex(6)}.{tag}")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue  # taken (or a link planted there): another name
    raise FileWriteError(f"Cannot create a temporary file beside {target}: every name is taken.")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: some systems cannot open a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | _CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _create_exclusive(target: Path, data: bytes, mode: int) -> None:
    """Write ``data`` as the new file ``target``, failing with FileExistsError if it is there."""
    fd, tmp = _create_beside(target, "codenook-tmp")
    try:
        _write_all(fd, data)
        os.fchmod(fd, mode)
        os.close(fd)
        fd = -1
        try:
            # link() never replaces: the one step that both checks and creates.
            os.link(tmp, target, follow_symlinks=False)
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            # A file system without hard links: O_EXCL on the target itself.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
            out = os.open(target, flags, 0o600)
            try:
                _write_all(out, data)
                os.fchmod(out, mode)
            finally:
                os.close(out)
    finally:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def keep_beside(path: str | Path, data: bytes, suffix: str, *, mode: int = 0o600) -> Path:
    """Save ``data`` as a new ``PATH+suffix`` (or ``…suffix.N``); never over anything."""
    p = Path(path)
    n = 0
    while True:
        candidate = p.with_name(p.name + suffix + (f".{n}" if n else ""))
        try:
            _create_exclusive(candidate, data, mode)
            return candidate
        except FileExistsError:
            n += 1


def backup_path(path: str | Path) -> Path:
    """Where a backup of ``path`` goes: ``FILE.orig``, or ``FILE.orig.N`` when that is taken."""
    p = Path(path)
    candidate = p.with_name(p.name + BACKUP_SUFFIX)
    n = 1
    while candidate.exists() or candidate.is_symlink():
        candidate = p.with_name(f"{p.name}{BACKUP_SUFFIX}.{n}")
        n += 1
    return candidate


def _current(path: Path) -> tuple[bytes, os.stat_result] | None:
    """The bytes and status of the regular file at ``path`` (never through a link)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | os.O_NONBLOCK)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:  # a link
            return None
        raise
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        return f.read(), st


def _conflict(p: Path, data: bytes, message: str, *, propose: bool, mode: int) -> FileChangedError:
    proposed = keep_beside(p, data, PROPOSED_SUFFIX, mode=mode) if propose else None
    if proposed is not None:
        message += (
            f" The proposed change is saved as {proposed}; compare it with "
            f"diff -u {p} {proposed} and apply what you want."
        )
    return FileChangedError(message, path=p, proposed=proposed)


def write_file(
    path: str | Path,
    data: bytes | str,
    *,
    mode: int = 0o666,
    keep_mode: bool = True,
    force: bool = False,
    exclusive: bool = False,
    expect: Snapshot | None = None,
    backup: bool = False,
    propose: bool = False,
) -> Written:
    """Write ``data`` (``str`` as UTF-8, bytes as given) to ``path`` atomically.

    ``mode`` is a new file's (less the umask); an existing file keeps its own unless
    ``keep_mode`` is false. ``force`` lets a symbolic link at ``path`` be replaced by the
    file (the link's target is never touched). ``exclusive`` refuses a file that exists
    when the write happens. ``expect`` refuses a file that is no longer what was read.
    ``backup`` keeps the old content as ``FILE.orig`` (``.orig.N``). With ``propose``, a
    refused write's content is saved as ``FILE.codenook-proposed`` and the error says so.
    """
    p = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    # A file that was read and is now a link is a conflict, said as one below.
    st = check_target(p, force=force or expect is not None)
    new_mode = (mode & ~_umask()) & 0o7777
    try:
        if exclusive:
            return _write_new(p, raw, exists=st is not None, mode=new_mode, propose=propose)
        link = os.readlink(p) if st is not None and stat.S_ISLNK(st.st_mode) else None
        saved = _replace(
            p,
            raw,
            mode=new_mode,
            keep_mode=keep_mode,
            expect=expect,
            backup=backup,
            propose=propose,
        )
    except OSError as e:
        # Said once for every step (the temporary file, the backup, the rename).
        state = "Nothing was written." if st is None else "It is unchanged."
        raise FileWriteError(f"Cannot write {p}: {e.strerror}. {state}") from None
    return Written(p, saved, link)


def _write_new(p: Path, raw: bytes, *, exists: bool, mode: int, propose: bool) -> Written:
    """Create ``p``, refusing (at the very moment of creation) a file that is there."""
    appeared = f"{p} appeared while codenook was working; it was left as it is."
    if exists:
        if propose:
            raise _conflict(p, raw, appeared, propose=True, mode=mode)
        raise TargetExistsError(f"{p} exists; add --force to overwrite it.")
    try:
        _create_exclusive(p, raw, mode)
    except FileExistsError:
        if propose:
            raise _conflict(p, raw, appeared, propose=True, mode=mode) from None
        raise TargetExistsError(f"{p} exists; add --force to overwrite it.") from None
    _sync_folder(p.parent)
    return Written(p)


def _replace(
    p: Path,
    raw: bytes,
    *,
    mode: int,
    keep_mode: bool,
    expect: Snapshot | None,
    backup: bool,
    propose: bool,
) -> Path | None:
    """Write a temporary file, check the target is still what was read, rename over it."""
    fd, tmp = _create_beside(p, "codenook-tmp")
    replaced = False
    try:
        _write_all(fd, raw)
        now = _current(p)
        if expect is not None:
            seen = Snapshot.of(p, now[0], now[1]) if now is not None else None
            if seen is None or (seen.size, seen.mtime_ns, seen.sha256) != (
                expect.size,
                expect.mtime_ns,
                expect.sha256,
            ):
                keep = stat.S_IMODE(now[1].st_mode) if now is not None else mode
                message = (
                    f"{p} changed while codenook was working ({expect.describe_change(seen)}); "
                    "it was left as it is."
                )
                raise _conflict(p, raw, message, propose=propose, mode=keep)
        os.fchmod(fd, stat.S_IMODE(now[1].st_mode) if now is not None and keep_mode else mode)
        saved = None
        if backup and now is not None:
            saved = keep_beside(p, now[0], BACKUP_SUFFIX, mode=stat.S_IMODE(now[1].st_mode))
        os.close(fd)
        fd = -1
        # rename() replaces a link planted meanwhile instead of following it.
        os.replace(tmp, p)
        replaced = True
    finally:
        if fd >= 0:
            os.close(fd)
        if not replaced:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _sync_folder(p.parent)
    return saved
