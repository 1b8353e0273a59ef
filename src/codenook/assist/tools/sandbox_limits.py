"""What holds a sandboxed run's total memory and the files in its private /tmp.

``RLIMIT_AS`` bounds one process; a run may start many. The total is held by a
cgroup where this machine lends one (v2 ``memory.max``, or the v1 memory
controller, with a ``pids`` limit beside it), else by a supervisor that sums the
resident memory of the run's processes every 50 ms and stops the run past the
cap. Either way the run is checked every 50 ms for the files in its private
temporary folders (in-memory, so each empty file costs kernel memory): a run
past :data:`TMP_FILES` in one of them is stopped.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import psutil

from codenook.errors import SandboxError

MiB = 1024 * 1024
#: The most files a run may keep in each of its private temporary folders.
TMP_FILES = 10_000
#: The in-memory folders bubblewrap gives a run, checked for their file count.
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")
#: How often a running sandbox is checked.
POLL_S = 0.05
# Processes beyond the program's own in the run's cgroup: the launcher becomes
# bwrap, which keeps a monitor and an init process; the wrapper becomes the program.
_EXTRA_TASKS = 8
# Enters each cgroup named before "--", then becomes the command after it. A shell,
# not Python: it starts in a millisecond, and nothing may run before the move.
_ENTER = (
    'for f in "$@"; do shift; [ "$f" = -- ] && break; '
    'echo $$ > "$f" || { echo "codenook-sandbox: cannot enter the cgroup $f" >&2; exit 126; }; '
    'done; exec "$@"'
)


class Guard(StrEnum):
    """What holds a run's total memory, best first."""

    CGROUP = "cgroup"
    SUPERVISOR = "supervisor"


GUARD_WORDS = {
    Guard.CGROUP: "held by a cgroup",
    Guard.SUPERVISOR: "watched by a supervisor every 50 ms",
}


def size_words(n: int) -> str:
    """A byte count as people write it: 512 MB, 64 KB, 100 bytes."""
    if n % MiB == 0:
        return f"{n // MiB} MB"
    if n % 1024 == 0:
        return f"{n // 1024} KB"
    return f"{n} bytes"


# ---------------------------------------------------------------- cgroups


@dataclass(frozen=True)
class _Hierarchy:
    """Where this process may make a run's cgroup."""

    version: int
    memory: Path  # the folder the run's cgroup goes in (v2: memory and pids together)
    pids: Path | None = None  # v1 only: the pids controller's folder


def _mountinfo() -> list[tuple[str, str, str, str]]:
    """(root inside the file system, mount point, type, super options) for each mount."""
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if len(fields) >= 5 and len(tail) >= 3:
                found.append((fields[3], fields[4], tail[0], tail[2]))
    return found


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per controller ('' for the v2 unified tree)."""
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split(":", 2)
            if len(parts) == 3:
                for controller in parts[1].split(",") if parts[1] else [""]:
                    paths[controller] = parts[2]
    return paths


def _folder(mount_root: str, mount_point: str, own: str) -> Path | None:
    """The folder of cgroup ``own`` in a hierarchy mounted from ``mount_root``."""
    if mount_root != "/" and own != mount_root and not own.startswith(mount_root + "/"):
        return None
    relative = own[len(mount_root) :] if mount_root != "/" else own
    return Path(mount_point, relative.lstrip("/"))


def _find_hierarchy() -> tuple[_Hierarchy | None, str]:
    """A cgroup folder with a memory controller that this process may use, or why none."""
    own = _own_cgroups()
    mounts = _mountinfo()
    why = "no cgroup file system is mounted"
    for root, point, kind, _ in mounts:
        if kind != "cgroup2" or "" not in own:
            continue
        mine = _folder(root, point, own[""])
        if mine is None:
            continue
        # A cgroup with controllers for its children may hold no process itself
        # (unless it is the root): the run's cgroup goes beside ours, not under it.
        base = mine if mine == Path(point) else mine.parent
        try:
            controls = (base / "cgroup.subtree_control").read_text().split()
        except OSError as exc:
            why = f"cannot read {base}: {exc.strerror}"
            continue
        if "memory" in controls and os.access(base, os.W_OK):
            return _Hierarchy(2, base), ""
        why = f"the cgroup v2 folder {base} lends no memory controller to this user"
    v1 = {}
    for root, point, kind, options in mounts:
        for controller in ("memory", "pids"):
            if kind == "cgroup" and controller in options.split(",") and controller in own:
                folder = _folder(root, point, own[controller])
                if folder is not None and os.access(folder, os.W_OK):
                    v1[controller] = folder
    if "memory" in v1:
        return _Hierarchy(1, v1["memory"], v1.get("pids")), ""
    return None, why


class _Cgroup:
    """One run's cgroup: made with its limits, entered by the launcher, removed after."""

    def __init__(self, where: _Hierarchy, *, memory_bytes: int, tasks: int) -> None:
        self.version = where.version
        name = f"codenook-sandbox-{secrets.token_hex(6)}"
        self.memory = where.memory / name
        self.pids = where.pids / name if where.pids is not None else None
        self.folders = [self.memory, *([self.pids] if self.pids else [])]
        made: list[Path] = []
        try:
            for folder in self.folders:
                folder.mkdir(mode=0o755)
                made.append(folder)
            if self.version == 2:
                _write(self.memory / "memory.max", memory_bytes)
                # Swap would let the run outgrow its cap on disk, slowly.
                _write(self.memory / "memory.swap.max", 0, optional=True)
                # One process over the cap ends the whole run, not only the biggest.
                _write(self.memory / "memory.oom.group", 1, optional=True)
                _write(self.memory / "pids.max", tasks, optional=True)
            else:
                _write(self.memory / "memory.limit_in_bytes", memory_bytes)
                _write(self.memory / "memory.memsw.limit_in_bytes", memory_bytes, optional=True)
                if self.pids is not None:
                    _write(self.pids / "pids.max", tasks, optional=True)
        except OSError:
            self.folders = made
            self.remove()
            raise

    def enter(self, argv: list[str]) -> list[str]:
        """``argv`` behind a launcher that first moves itself into this cgroup."""
        procs = [str(f / "cgroup.procs") for f in self.folders]
        return ["/bin/sh", "-c", _ENTER, "sh", *procs, "--", *argv]

    def oom_kills(self) -> int:
        """How many processes the kernel killed for passing the cap."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            lines = (self.memory / name).read_text().splitlines()
        except OSError:
            return 0
        counts = dict(line.split(None, 1) for line in lines if " " in line)
        return _int(counts.get("oom_kill")) + _int(counts.get("oom_group_kill"))

    def peak(self) -> int | None:
        """The most memory the run held at once (None where the kernel does not say)."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int((self.memory / name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill(self, wait_s: float = 2.0) -> None:
        """Kill every process in the cgroup and wait until it is empty."""
        killer = self.memory / "cgroup.kill"
        if self.version == 2 and killer.exists():
            with contextlib.suppress(OSError):
                _write(killer, 1)
        end = time.monotonic() + wait_s
        while True:
            pids = self.members()
            if not pids or time.monotonic() >= end:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.002)

    def members(self) -> list[int]:
        """The pids in this cgroup."""
        pids: set[int] = set()
        for folder in self.folders:
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
        return sorted(pids)

    def remove(self, wait_s: float = 2.0) -> None:
        """Kill what is left and remove the cgroup's folders."""
        if self.members():
            self.kill(wait_s)
        end = time.monotonic() + wait_s
        for folder in self.folders:
            while True:
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    # Killed processes leave the cgroup a moment after they die.
                    if time.monotonic() >= end:
                        break
                    time.sleep(0.002)


def _write(path: Path, value: int, *, optional: bool = False) -> None:
    try:
        path.write_text(f"{value}\n")
    except FileNotFoundError:
        if not optional:
            raise
    except OSError:
        if not optional:
            raise


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


_probe_lock = threading.Lock()
_probed: list[tuple[_Hierarchy | None, str]] = []


def cgroup_problem() -> str | None:
    """None when runs can get a cgroup with a memory limit here, else why not (probed once)."""
    return _cgroup_here()[1] or None


def forget_probe() -> None:
    """Probe again on the next run."""
    with _probe_lock:
        _probed.clear()


def _cgroup_here() -> tuple[_Hierarchy | None, str]:
    with _probe_lock:
        if not _probed:
            _probed.append(_probe())
        return _probed[0]


def _probe() -> tuple[_Hierarchy | None, str]:
    where, why = _find_hierarchy()
    if where is None:
        return None, why
    try:
        group = _Cgroup(where, memory_bytes=64 * MiB, tasks=4)
    except OSError as exc:
        return None, f"cannot make a cgroup in {where.memory}: {exc.strerror}"
    try:
        # The move itself needs rights on both cgroups: try it, with a process
        # that then does nothing.
        proc = subprocess.run(
            group.enter(["true"]), stdin=subprocess.DEVNULL, capture_output=True, check=False
        )
    except OSError as exc:
        return None, f"cannot start a process in a cgroup: {exc.strerror}"
    finally:
        group.remove()
    if proc.returncode != 0:
        said = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, said[-1] if said else f"a process could not enter {group.memory}"
    return where, ""


# ---------------------------------------------------------------- the watch


class RunGuard:
    """Holds one run's total memory and private /tmp; the sandbox calls it as the run goes."""

    def __init__(
        self, guard: Guard, *, memory_bytes: int, tasks: int, where: _Hierarchy | None
    ) -> None:
        self.guard = guard
        self.memory_bytes = memory_bytes
        self.cgroup: _Cgroup | None = None
        if guard is Guard.CGROUP:
            assert where is not None
            try:
                self.cgroup = _Cgroup(where, memory_bytes=memory_bytes, tasks=tasks)
            except OSError as exc:
                raise SandboxError(
                    f"The sandbox could not make a cgroup for this run: {exc.strerror}."
                ) from None
        self.peak_bytes = 0
        self.memory_breached = False
        self._pid = 0
        self._strays_of: int | None = None
        self._session = False
        self._private_tmp = False
        self._tmp_pid: int | None = None
        self._next = 0.0

    def command(self, argv: list[str]) -> list[str]:
        """The command line that starts the run under this guard."""
        return self.cgroup.enter(argv) if self.cgroup is not None else argv

    def started(
        self, pid: int, *, private_tmp: bool, strays_of_uid: int | None, session: bool
    ) -> None:
        """The run began as process ``pid``.

        ``private_tmp``: it has bubblewrap's in-memory folders; ``strays_of_uid``: count
        every process of that uid too; ``session``: and every process of its session
        (for runs without a process namespace, whose orphans leave the process tree).
        """
        self._pid = pid
        self._private_tmp = private_tmp
        self._strays_of = strays_of_uid
        self._session = session
        self._next = 0.0

    def check(self, *, force: bool = False) -> str | None:
        """None while the run is within bounds, else why it must stop (every 50 ms at most)."""
        now = time.monotonic()
        if not force and now < self._next:
            return None
        self._next = now + POLL_S
        if self.cgroup is not None:
            if self.cgroup.oom_kills():
                return self._over_memory()
        else:
            used = self._resident()
            self.peak_bytes = max(self.peak_bytes, used)
            if used > self.memory_bytes:
                return self._over_memory()
        if self._private_tmp:
            return self._check_tmp()
        return None

    def peak(self) -> int | None:
        """The most memory the run held at once, as measured."""
        if self.cgroup is not None:
            return self.cgroup.peak()
        return self.peak_bytes or None

    def kill(self) -> None:
        """Kill every process the run's cgroup holds (the sandbox kills the rest)."""
        if self.cgroup is not None:
            self.cgroup.kill()

    def close(self) -> None:
        """Remove the cgroup, killing what is left in it."""
        if self.cgroup is not None:
            self.cgroup.remove()

    def _over_memory(self) -> str:
        self.memory_breached = True
        return f"stopped: used more than {size_words(self.memory_bytes)} in total"

    def _processes(self) -> Iterator[psutil.Process]:
        seen: set[int] = set()
        for pid in _tree(self._pid):
            with contextlib.suppress(psutil.Error):
                yield psutil.Process(pid)
            seen.add(pid)
        if self._strays_of is None and not self._session:
            return
        for p in psutil.process_iter(["uids"]):
            if p.pid in seen:
                continue
            uids = p.info["uids"]
            if self._strays_of is not None and uids is not None and uids.real == self._strays_of:
                yield p
            elif self._session:
                with contextlib.suppress(OSError):
                    if os.getsid(p.pid) == self._pid:
                        yield p

    def _resident(self) -> int:
        """The run's resident memory: RSS summed, or PSS where the sum nears the cap."""
        procs = list(self._processes())
        total = 0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        if total <= self.memory_bytes:
            return total
        # RSS counts pages that forked processes share once per process: before
        # stopping a run, count each page once (proportional set, smaps_rollup).
        total = 0
        for p in procs:
            try:
                total += p.memory_full_info().pss
            except psutil.AccessDenied:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _check_tmp(self) -> str | None:
        if self._tmp_pid is None:
            self._tmp_pid = self._sandbox_init()
            if self._tmp_pid is None:
                return None
        for folder in PRIVATE_TMP:
            inside = f"/proc/{self._tmp_pid}/root{folder}"
            try:
                if os.stat(inside).st_dev == os.stat(folder).st_dev:
                    continue  # not the private folder (yet)
                st = os.statvfs(inside)
                # While bubblewrap sets up, the path can still lead to a host file system
                # (seen under load: the whole root disk's 526,110 files counted as the
                # run's). Count only a file system that is none of the host's folders.
                if st.f_fsid and st.f_fsid in _host_fsids(folder):
                    continue
            except OSError:
                continue
            files = st.f_files - st.f_ffree - 1  # the folder itself is one inode
            if files >= TMP_FILES:
                return f"stopped: {files:,} files in {folder}; a run may keep {TMP_FILES:,}"
        return None

    def _sandbox_init(self) -> int | None:
        """The first process inside bubblewrap, which sees the run's own /tmp."""
        children = _children(self._pid)
        return children[0] if children else None


def _host_fsids(folder: str) -> set[int]:
    """The file-system ids of the host's root and of ``folder``, as this process sees them."""
    ids: set[int] = set()
    for path in ("/", folder):
        with contextlib.suppress(OSError):
            ids.add(os.statvfs(path).f_fsid)
    return ids


def _children(pid: int) -> list[int]:
    """The children of a process, from /proc (a scan of every process where that says nothing)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    try:
        for task in tasks:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                found += [int(c) for c in f.read().split()]
    except FileNotFoundError:
        # A kernel without CONFIG_PROC_CHILDREN: psutil scans every process instead.
        with contextlib.suppress(psutil.Error):
            return [c.pid for c in psutil.Process(pid).children()]
    except (OSError, ValueError):
        pass
    return found


def _tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += _children(current)
    return tree


def open_guard(guard: Guard | str | None, *, memory_bytes: int, tasks: int) -> RunGuard:
    """The guard for one run: ``guard`` if given (SandboxError if it cannot work), else the best."""
    where, why = _cgroup_here()
    if guard is None:
        chosen = Guard.CGROUP if where is not None else Guard.SUPERVISOR
    else:
        chosen = Guard(guard)
        if chosen is Guard.CGROUP and where is None:
            raise SandboxError(f"No cgroup with a memory limit is available here: {why}.")
    return RunGuard(chosen, memory_bytes=memory_bytes, tasks=tasks + _EXTRA_TASKS, where=where)
