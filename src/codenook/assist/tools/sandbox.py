"""The one place where codenook runs code: isolated, limited, and honest about both.

A run gets a fresh work folder, a clean environment and resource limits, and is
isolated with the best tool that works on this machine, in this order:

- ``bwrap`` (bubblewrap): read-only system, the user's home hidden, private /tmp,
  no network, its own process tree;
- ``unshare``: no network and its own process tree, files protected only by
  ordinary permissions;
- none: a plain subprocess with limits only; the result says so plainly, and the
  setting ``sandbox.allow_unisolated = false`` refuses such runs.

When codenook runs as root, the code runs as a fresh unprivileged uid (no account,
no files), because root ignores the process-count limit and may write anywhere.

Every function here blocks until the run ends; callers on the Tk thread call them
from a worker thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import secrets
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import psutil

from codenook import config
from codenook.assist.tools.language import Language, LanguageError
from codenook.assist.tools.language import detect_language as language_of
from codenook.assist.tools.sandbox_limits import (
    GUARD_WORDS,
    Guard,
    MiB,
    RunGuard,
    open_guard,
    size_words,
)
from codenook.assist.tools.sandbox_limits import TMP_FILES as TMP_FILES
from codenook.assist.tools.sandbox_limits import cgroup_problem as cgroup_problem
from codenook.assist.tools.sandbox_limits import forget_probe as forget_cgroup_probe
from codenook.errors import SandboxError

# Written between the program's output and the notice, so the cut is visible.
TRUNCATION_NOTICE = "\n[codenook: {stream} cut at {limit}; the program was stopped]\n"

# Sizes of the in-memory folders inside bubblewrap: RLIMIT_FSIZE bounds one file,
# these bound the total, since tmpfs pages are RAM that no rlimit counts.
_TMPFS_BYTES = 64 * MiB
_HIDDEN_TMPFS_BYTES = 1 * MiB
# Per-run uids for root come from here: far above any real account or subuid range.
_UID_BASE = 0x60000000
_UID_SPAN = 1 << 24
# How long the run may keep its pipes open after the program itself ended.
_EXIT_GRACE_S = 0.2
_READ_CHUNK = 64 * 1024
_STARTUP_MARK = "codenook-sandbox:"
_STARTUP_FAILED = 126
#: The largest program or stdin file a run reads: far more than code needs, and
#: a device such as /dev/zero would otherwise be read until memory runs out.
MAX_INPUT_BYTES = 16 * MiB
# What Python, Bash (xmalloc, xrealloc), C and C++ print when an allocation fails.
_MEMORY_MARKERS = (
    "MemoryError",
    "cannot allocate",
    "Cannot allocate",
    "out of memory",
    "Out of memory",
    "bad_alloc",
)

# Runs inside the isolation, as the first process: set the limits, give up root
# (only when there is root to give up), enter the work folder (only the sandbox
# user may), then become the program. Setting the
# limits here rather than before bwrap matters: bwrap and unshare must not inherit
# them, and inside a new user namespace the process count starts from zero.
_WRAPPER = """\
import os, resource as r, sys
cpu, mem, nproc, fsize, uid = map(int, sys.argv[1:6])
work, program = sys.argv[6], sys.argv[7:]
def cap(kind, soft, hard):
    old_soft, old_hard = r.getrlimit(kind)
    if old_hard != r.RLIM_INFINITY:
        soft, hard = min(soft, old_hard), min(hard, old_hard)
    r.setrlimit(kind, (soft, hard))
try:
    cap(r.RLIMIT_CPU, cpu, cpu + 1)
    cap(r.RLIMIT_AS, mem, mem)
    cap(r.RLIMIT_NPROC, nproc, nproc)
    cap(r.RLIMIT_FSIZE, fsize, fsize)
    cap(r.RLIMIT_CORE, 0, 0)
    cap(r.RLIMIT_NOFILE, 256, 256)
    if uid >= 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    os.chdir(work)
    os.execv(program[0], program)
except OSError as exc:
    sys.stderr.write(f"codenook-sandbox: cannot start {program[0]}: {exc}\\n")
    os._exit(126)
"""

# Kills every process of one sandbox uid: kill(-1) from that uid reaches exactly
# its own processes, atomically with respect to fork, so a fork bomb cannot outrun it.
_SWEEPER = """\
import os, signal, sys
uid = int(sys.argv[1])
os.setgroups([]); os.setgid(uid); os.setuid(uid)
try:
    os.kill(-1, signal.SIGKILL)
except ProcessLookupError:
    pass
"""


class Isolation(StrEnum):
    """How a run was kept away from the machine, best first."""

    BWRAP = "bwrap"
    UNSHARE = "unshare"
    NONE = "none"


class Ended(StrEnum):
    """Why a run ended."""

    EXIT = "exit"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    OUTPUT = "output"
    KILLED = "killed"


ISOLATION_WORDS = {
    Isolation.BWRAP: "bubblewrap (no network, read-only system, home hidden, own processes)",
    Isolation.UNSHARE: "unshare (no network, own processes; files protected by permissions only)",
    Isolation.NONE: "NOT ISOLATED (a plain process with resource limits only)",
}


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one run may use. ``cpu_seconds`` None means the timeout, rounded up."""

    timeout: float = 10.0
    memory_bytes: int = 512 * MiB
    processes: int = 64
    file_bytes: int = 10 * MiB
    output_bytes: int = 1 * MiB
    cpu_seconds: int | None = None

    @classmethod
    def from_settings(cls, settings: config.SandboxSettings) -> Limits:
        """The limits a user's settings ask for."""
        return cls(
            timeout=float(settings.timeout),
            memory_bytes=settings.memory_mb * MiB,
            processes=settings.processes,
            file_bytes=settings.file_size_mb * MiB,
            output_bytes=settings.output_kb * 1024,
        )

    def cpu(self) -> int:
        """CPU seconds per process."""
        if self.cpu_seconds is not None:
            return self.cpu_seconds
        return max(1, int(-(-self.timeout // 1)))

    def check(self) -> Limits:
        """Return self, or raise SandboxError naming the limit that makes no sense."""
        bad = [
            (self.timeout > 0, "timeout", "a positive number of seconds"),
            (self.memory_bytes >= 32 * MiB, "memory", "at least 32 MB"),
            (self.processes >= 1, "processes", "at least 1"),
            (self.file_bytes >= 1, "file size", "at least 1 byte"),
            (self.output_bytes >= 1, "output", "at least 1 byte"),
            (self.cpu_seconds is None or self.cpu_seconds >= 1, "CPU time", "at least 1 second"),
        ]
        for ok, name, expected in bad:
            if not ok:
                raise SandboxError(f"The sandbox {name} limit must be {expected}.")
        return self


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What happened when the sandbox ran a program."""

    exit_code: int
    stdout: str
    stderr: str
    wall_seconds: float
    ended: Ended
    detail: str
    isolation: Isolation
    uid: int
    signal: int | None = None
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    #: What held the run's total memory, the cap, and the most it held at once.
    memory_guard: Guard | None = None
    memory_limit_bytes: int = 0
    memory_peak_bytes: int | None = None

    @property
    def isolated(self) -> bool:
        """False when the code ran as a plain process."""
        return self.isolation is not Isolation.NONE

    @property
    def truncated(self) -> bool:
        """True when stdout or stderr was cut at the output limit."""
        return self.stdout_truncated or self.stderr_truncated

    def summary(self) -> str:
        """One line: exit code, time, why it ended, isolation and memory cap used."""
        line = (
            f"exit {self.exit_code} · {self.wall_seconds:.2f} s · {self.detail} · "
            f"isolation: {ISOLATION_WORDS[self.isolation]}"
        )
        if self.memory_guard is not None:
            line += (
                f" · memory: {size_words(self.memory_limit_bytes)} in total, "
                f"{GUARD_WORDS[self.memory_guard]}"
            )
            if self.memory_peak_bytes:
                line += f" (peak {self.memory_peak_bytes / MiB:.0f} MB)"
        return line


# ---------------------------------------------------------------- what works here

_probe_lock = threading.Lock()
_probes: dict[Isolation, str | None] = {}
_bwrap_help: str | None = None


def isolation_problem(isolation: Isolation) -> str | None:
    """None when this isolation works on this machine, else why not (probed once)."""
    isolation = Isolation(isolation)
    if isolation is Isolation.NONE:
        return None
    with _probe_lock:
        if isolation not in _probes:
            _probes[isolation] = _probe(isolation)
        return _probes[isolation]


def best_isolation() -> Isolation:
    """The strongest isolation that works here."""
    for isolation in (Isolation.BWRAP, Isolation.UNSHARE):
        if isolation_problem(isolation) is None:
            return isolation
    return Isolation.NONE


def forget_probes() -> None:
    """Probe again on the next run (after installing bubblewrap, say)."""
    global _bwrap_help
    with _probe_lock:
        _probes.clear()
        _bwrap_help = None
    forget_cgroup_probe()


def _probe(isolation: Isolation) -> str | None:
    tool = "bwrap" if isolation is Isolation.BWRAP else "unshare"
    if shutil.which(tool) is None:
        package = "bubblewrap" if tool == "bwrap" else "util-linux"
        return f"{tool} is not installed (Debian package {package})"
    true = shutil.which("true") or "/bin/true"
    uid = _fresh_uid() if _as_root() else -1
    try:
        with _workspace(uid) as work:
            argv = _isolate(isolation, work, _wrap(Limits(), isolation, uid, work, [true]))
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                cwd=work,
                env=_environment(work),
                timeout=30,
                check=False,
            )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{tool} could not start: {exc}"
    if proc.returncode != 0:
        said = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"{tool} failed: {said[-1] if said else f'exit {proc.returncode}'}"
    return None


# ---------------------------------------------------------------- running


def run_code(
    source: str | bytes,
    *,
    language: Language | str,
    args: Sequence[str] = (),
    stdin: bytes | None = None,
    limits: Limits | None = None,
    isolation: Isolation | str | None = None,
    allow_unisolated: bool | None = None,
    filename: str | None = None,
    cancel: threading.Event | None = None,
    memory_guard: Guard | str | None = None,
) -> RunResult:
    """Run a Python or Bash program in the sandbox and return what happened.

    Limits and ``allow_unisolated`` default to the user's settings; ``isolation``
    forces one level and ``memory_guard`` one way of holding the total memory
    (SandboxError when it does not work here); ``cancel`` stops the run from
    another thread.
    """
    language = Language(language)
    if limits is None or allow_unisolated is None:
        settings = config.load_settings().sandbox
        limits = limits or Limits.from_settings(settings)
        if allow_unisolated is None:
            allow_unisolated = settings.allow_unisolated
    limits.check()
    name = filename or ("main.py" if language is Language.PYTHON else "main.sh")
    if "/" in name or name in {".", ".."} or "\0" in name:
        raise SandboxError(f"The file name {name!r} must be a plain name, without folders.")
    if any(not isinstance(a, str) or "\0" in a for a in args):
        raise SandboxError("Program arguments must be text without NUL characters.")
    chosen = _choose(isolation, allow_unisolated=allow_unisolated)
    uid = _fresh_uid() if _as_root() else -1
    interpreter = _interpreter(language)
    if language is Language.PYTHON and uid >= 0 and chosen is not Isolation.BWRAP:
        # Without bwrap there is no way to lend the interpreter's folder to the
        # sandbox user, so it must be able to reach it by ordinary permissions.
        _check_reachable(interpreter)
    data = source.encode("utf-8") if isinstance(source, str) else source
    with _workspace(uid) as work:
        script = work / name
        script.write_bytes(data)
        if uid >= 0:
            os.chown(script, uid, uid)
        argv = _isolate(chosen, work, _wrap(limits, chosen, uid, work, [interpreter, name, *args]))
        guard = open_guard(memory_guard, memory_bytes=limits.memory_bytes, tasks=limits.processes)
        try:
            with _stdin_file(stdin) as stdin_file:
                return _execute(
                    argv,
                    work=work,
                    stdin=stdin_file,
                    limits=limits,
                    isolation=chosen,
                    uid=uid,
                    cancel=cancel,
                    guard=guard,
                )
        finally:
            guard.close()


def run_file(
    path: str | os.PathLike[str],
    *,
    language: Language | str | None = None,
    args: Sequence[str] = (),
    stdin: bytes | None = None,
    limits: Limits | None = None,
    isolation: Isolation | str | None = None,
    allow_unisolated: bool | None = None,
    cancel: threading.Event | None = None,
    memory_guard: Guard | str | None = None,
) -> RunResult:
    """Run a copy of a file in the sandbox; the language comes from its name or shebang."""
    file = Path(path)
    data = read_input(file, what="a Python or Bash file")
    return run_code(
        data,
        language=language or detect_language(file.name, data),
        args=args,
        stdin=stdin,
        limits=limits,
        isolation=isolation,
        allow_unisolated=allow_unisolated,
        filename=file.name,
        cancel=cancel,
        memory_guard=memory_guard,
    )


def read_input(
    path: str | os.PathLike[str], *, what: str, max_bytes: int = MAX_INPUT_BYTES
) -> bytes:
    """The bytes of a regular file for a run (its program or its stdin), at most ``max_bytes``.

    Devices, pipes and sockets are refused before a byte is read: /dev/zero never
    ends, and a FIFO with no writer would block for ever.
    """
    file = Path(path)
    try:
        # Non-blocking: opening a FIFO for reading otherwise waits for a writer.
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise SandboxError(f"{file} not found.") from None
    except IsADirectoryError:
        raise SandboxError(f"{file} is a folder; give {what}.") from None
    except OSError as exc:
        raise SandboxError(f"Cannot read {file}: {exc.strerror}.") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise SandboxError(f"{file} is a folder; give {what}.")
        if not stat.S_ISREG(mode):
            raise SandboxError(
                f"{file} is not a regular file (a device, a pipe or a socket); give {what}."
            )
        os.set_blocking(fd, True)
        with os.fdopen(os.dup(fd), "rb") as f:
            return read_bounded(f, what=str(file), max_bytes=max_bytes)
    except OSError as exc:
        raise SandboxError(f"Cannot read {file}: {exc.strerror}.") from None
    finally:
        os.close(fd)


def read_bounded(stream: Any, *, what: str, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """Everything ``stream`` holds, or SandboxError once it passes ``max_bytes``."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SandboxError(
            f"{what} holds more than {size_words(max_bytes)}, the most a run reads; "
            "give a smaller input."
        )
    return bytes(data)


def detect_language(name: str, data: bytes) -> Language:
    """Python or Bash, from the file name's extension, else from its shebang line."""
    text = data[:4096].decode("utf-8", "replace")
    try:
        return language_of(text, path=name, name_first=True, by_content=False)
    except LanguageError:
        raise SandboxError(
            f"Cannot tell whether {name} is Python or Bash: name it .py or .sh, "
            "start it with a #! line, or give the language (--lang)."
        ) from None


def _choose(isolation: Isolation | str | None, *, allow_unisolated: bool) -> Isolation:
    if isolation is not None:
        wanted = Isolation(isolation)
        problem = isolation_problem(wanted)
        if problem:
            raise SandboxError(f"Isolation {wanted} is not available here: {problem}.")
        if wanted is Isolation.NONE and not allow_unisolated:
            raise SandboxError(_refusal())
        return wanted
    chosen = best_isolation()
    if chosen is Isolation.NONE and not allow_unisolated:
        raise SandboxError(_refusal())
    return chosen


def _refusal() -> str:
    why = "; ".join(f"{i}: {isolation_problem(i)}" for i in (Isolation.BWRAP, Isolation.UNSHARE))
    return (
        f"No isolation works on this machine ({why}), and the setting "
        "sandbox.allow_unisolated = false forbids running code without it. "
        "Install bubblewrap (apt-get install bubblewrap) or change the setting."
    )


def _as_root() -> bool:
    return os.geteuid() == 0


def _fresh_uid() -> int:
    """An unprivileged uid with no account, new for each run."""
    while True:
        uid = _UID_BASE + secrets.randbelow(_UID_SPAN)
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid


def _interpreter(language: Language) -> str:
    if language is Language.PYTHON:
        if not sys.executable:
            raise SandboxError("codenook cannot tell which Python it runs under.")
        return sys.executable
    for candidate in ("/bin/bash", "/usr/bin/bash"):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("bash")
    if found is None:
        raise SandboxError("bash is not installed; install it to run Bash code.")
    return found


def _check_reachable(interpreter: str) -> None:
    for path in (Path(interpreter), Path(os.path.realpath(interpreter)), Path(sys.base_prefix)):
        for folder in [*reversed(path.parents), path]:
            try:
                mode = folder.stat().st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
                raise SandboxError(
                    f"The sandbox runs code as an unprivileged user, who cannot reach the "
                    f"Python at {interpreter}: the folder {folder} is private. Install "
                    "bubblewrap (apt-get install bubblewrap), or run codenook from a Python "
                    "installed in a folder others can read."
                )


@contextlib.contextmanager
def _workspace(uid: int) -> Iterator[Path]:
    """A fresh work folder, owned by the sandbox user, removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="codenook-sandbox-"))
    try:
        # Others may pass through (the sandbox uid must reach work/), not list.
        base.chmod(0o711)
        work = base / "work"
        work.mkdir(mode=0o700)
        if uid >= 0:
            os.chown(work, uid, uid)
        yield work
    finally:
        _remove(base)


def _remove(folder: Path) -> None:
    def unlock(func: object, path: str, exc: object) -> None:
        # The program may have taken away its own permissions on what it made.
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)

    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=unlock)
    else:
        shutil.rmtree(folder, onerror=unlock)


@contextlib.contextmanager
def _stdin_file(data: bytes | None) -> Iterator[Any]:
    """The program's stdin: a private unlinked temp file (no pipe to deadlock on), or nothing."""
    if data is None:
        yield subprocess.DEVNULL
        return
    with tempfile.TemporaryFile() as file:
        file.write(data)
        file.seek(0)
        yield file


def _environment(work: Path) -> dict[str, str]:
    """A small environment with no secrets: nothing is copied from codenook's own."""
    path = [os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]
    return {
        "PATH": os.pathsep.join(dict.fromkeys(p for p in path if p)),
        "HOME": str(work),
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        # Unbuffered, so what a program printed before it was stopped is not lost.
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _wrap(
    limits: Limits, isolation: Isolation, uid: int, work: Path, program: list[str]
) -> list[str]:
    nproc = limits.processes
    if isolation is Isolation.NONE and uid < 0:
        # Unisolated runs of a normal user share the user's own process count;
        # the limit counts on top of what is running already (isolation modes
        # start the count afresh inside their user namespace).
        nproc += _tasks_of(os.getuid())
    return [
        sys.executable,
        "-I",
        "-S",
        "-c",
        _WRAPPER,
        str(limits.cpu()),
        str(limits.memory_bytes),
        str(nproc),
        str(limits.file_bytes),
        str(uid),
        str(work),
        *program,
    ]


def _tasks_of(uid: int) -> int:
    total = 0
    for proc in psutil.process_iter(["uids", "num_threads"]):
        uids, threads = proc.info["uids"], proc.info["num_threads"]
        if uids is not None and uids.real == uid:
            total += threads or 1
    return total


def _isolate(isolation: Isolation, work: Path, wrapped: list[str]) -> list[str]:
    if isolation is Isolation.BWRAP:
        return [*_bwrap_args(work), "--", *wrapped]
    if isolation is Isolation.UNSHARE:
        user = [] if _as_root() else ["--user", "--map-current-user"]
        return [
            "unshare",
            *user,
            "--net",
            "--pid",
            "--ipc",
            "--uts",
            "--fork",
            "--kill-child",
            "--mount-proc",
            "--",
            *wrapped,
        ]
    return wrapped


def _bwrap_supports(option: str) -> bool:
    global _bwrap_help
    if _bwrap_help is None:
        proc = subprocess.run(["bwrap", "--help"], capture_output=True, text=True, check=False)
        _bwrap_help = proc.stdout + proc.stderr
    return option in _bwrap_help


def _existing_dir(path: str | os.PathLike[str]) -> Path | None:
    try:
        real = Path(os.path.realpath(path))
    except (OSError, ValueError):
        return None
    return real if real.is_dir() else None


def _inside(path: Path, folders: Sequence[Path]) -> Path | None:
    for folder in folders:
        if path == folder or folder in path.parents:
            return folder
    return None


def _bwrap_args(work: Path) -> list[str]:
    """bubblewrap's command line: the system read-only, private /tmp, home hidden."""
    sized = _bwrap_supports("--size")
    perms = _bwrap_supports("--perms")

    def tmpfs(dest: Path, size: int, mode: str) -> list[str]:
        options = ["--perms", mode] if perms else []
        options += ["--size", str(size)] if sized else []
        return [*options, "--tmpfs", str(dest)]

    writable = [p for p in map(_existing_dir, ("/tmp", "/var/tmp")) if p]
    home_dirs = [os.path.expanduser("~"), "/root", "/home", "/run", "/media", "/mnt"]
    with contextlib.suppress(KeyError):
        home_dirs.append(pwd.getpwuid(os.getuid()).pw_dir)
    # codenook's own data (conversations, settings) wherever CODENOOK_HOME put it.
    p = config.paths()
    home_dirs += [p.data, p.config, p.cache, p.logs]
    hidden: list[Path] = []
    for candidate in sorted(
        {d for d in map(_existing_dir, home_dirs) if d}, key=lambda d: len(d.parts)
    ):
        if candidate != Path("/") and not _inside(candidate, [*writable, *hidden]):
            hidden.append(candidate)

    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    args += tmpfs(Path("/dev/shm"), _TMPFS_BYTES, "1777")
    for folder in writable:
        args += tmpfs(folder, _TMPFS_BYTES, "1777")
    for folder in hidden:
        args += tmpfs(folder, _HIDDEN_TMPFS_BYTES, "0755")

    # Lend back, read-only, what Python needs when it lies in a hidden folder
    # (a venv or pyenv in the home), then the work folder, writable.
    lend = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    lend.append(os.path.dirname(os.path.realpath(sys.executable)))
    lent: list[Path] = []
    for folder in sorted({d for d in map(_existing_dir, lend) if d}, key=lambda d: len(d.parts)):
        if not _inside(folder, lent):
            lent.append(folder)
    made: set[Path] = set()
    mounts = [*(("--ro-bind", f) for f in lent), ("--bind", work)]
    for option, folder in mounts:
        root = _inside(folder, [*hidden, *writable])
        if root is None:
            if option == "--ro-bind":
                continue  # visible already through the read-only /
        else:
            # Folders bwrap makes on the way are 0700 by default: the sandbox
            # user could not pass through them.
            for parent in reversed(folder.parents):
                if root in parent.parents and parent not in made:
                    made.add(parent)
                    args += [*(["--perms", "0755"] if perms else []), "--dir", str(parent)]
        args += [option, str(folder), str(folder)]
    for folder in hidden:
        args += ["--remount-ro", str(folder)]

    args += ["--chdir", "/", "--unshare-net", "--unshare-pid", "--unshare-ipc"]
    args += ["--unshare-uts", "--hostname", "sandbox", "--unshare-cgroup-try"]
    args += ["--die-with-parent", "--new-session"]
    if _as_root():
        # Privileged bwrap: the wrapper keeps only what it needs to drop to the
        # sandbox uid, which clears these too.
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user"]
    return args


class _Capture:
    """One output stream, kept up to a limit."""

    def __init__(self, name: str, limit: int) -> None:
        self.name, self.limit = name, limit
        self.data = bytearray()
        self.truncated = False

    def add(self, chunk: bytes) -> bool:
        """Keep what fits; False once the stream went past its limit."""
        room = self.limit - len(self.data)
        if len(chunk) > room:
            self.data += chunk[: max(room, 0)]
            self.truncated = True
            return False
        self.data += chunk
        return True

    def text(self) -> str:
        """The kept bytes as text, with the notice when cut."""
        text = self.data.decode("utf-8", "replace")
        if self.truncated:
            text += TRUNCATION_NOTICE.format(stream=self.name, limit=size_words(self.limit))
        return text


def _spawn(
    argv: list[str], *, work: Path, stdin: Any, isolation: Isolation, uid: int, guard: RunGuard
) -> subprocess.Popen[bytes]:
    """Start the program under ``guard``, its output on pipes."""
    # A new session: the whole process group can be killed at once, and the
    # program cannot reach codenook's terminal.
    proc = subprocess.Popen(
        guard.command(argv),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=work,
        env=_environment(work),
        start_new_session=True,
        close_fds=True,
    )
    guard.started(
        proc.pid,
        private_tmp=isolation is Isolation.BWRAP,
        # Without a process namespace, orphans leave the tree: find them by uid or session.
        strays_of_uid=uid if uid >= 0 and isolation is Isolation.NONE else None,
        session=isolation is Isolation.NONE,
    )
    return proc


def _limit_reached(
    deadline: float, limits: Limits, cancel: threading.Event | None, guard: RunGuard
) -> tuple[Ended, str] | None:
    """Why the run must stop now (the time limit, a cancel, the memory guard), if it must."""
    if time.monotonic() >= deadline:
        return (Ended.TIMEOUT, f"stopped at the {limits.timeout:g} s time limit")
    if cancel is not None and cancel.is_set():
        return (Ended.KILLED, "cancelled")
    return _breach(guard)


def _pump(
    proc: subprocess.Popen[bytes],
    out: _Capture,
    err: _Capture,
    *,
    deadline: float,
    limits: Limits,
    cancel: threading.Event | None,
    guard: RunGuard,
) -> tuple[Ended, str] | None:
    """Read the program's output until its pipes close, or why the run was stopped."""
    assert proc.stdout is not None and proc.stderr is not None
    streams = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    stopped: tuple[Ended, str] | None = None
    with selectors.DefaultSelector() as sel:
        for fd in streams:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        exit_grace: float | None = None
        while sel.get_map() and stopped is None:
            now = time.monotonic()
            stopped = _limit_reached(deadline, limits, cancel, guard)
            if stopped is not None:
                break
            if exit_grace is None and proc.poll() is not None:
                # Something the program left behind may hold the pipes open.
                exit_grace = now + _EXIT_GRACE_S
            if exit_grace is not None and now >= exit_grace:
                break
            wait = min(deadline, exit_grace or deadline) - now
            for key, _ in sel.select(min(wait, 0.05)):
                chunk = os.read(key.fd, _READ_CHUNK)
                if not chunk:
                    sel.unregister(key.fd)
                elif not streams[key.fd].add(chunk):
                    stopped = (
                        Ended.OUTPUT,
                        f"stopped: {streams[key.fd].name} passed the "
                        f"{size_words(limits.output_bytes)} output limit",
                    )
                    break
    return stopped


def _wait_for_exit(
    proc: subprocess.Popen[bytes],
    *,
    deadline: float,
    limits: Limits,
    cancel: threading.Event | None,
    guard: RunGuard,
) -> tuple[Ended, str] | None:
    """Pipes closed, the program still running: wait for it in slices so that the
    deadline and cancelling still count."""
    stopped: tuple[Ended, str] | None = None
    while stopped is None and proc.poll() is None:
        now = time.monotonic()
        stopped = _limit_reached(deadline, limits, cancel, guard)
        if stopped is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(min(deadline - now, 0.05), 0))
    return stopped


def _execute(
    argv: list[str],
    *,
    work: Path,
    stdin: Any,
    limits: Limits,
    isolation: Isolation,
    uid: int,
    cancel: threading.Event | None,
    guard: RunGuard,
) -> RunResult:
    out, err = _Capture("stdout", limits.output_bytes), _Capture("stderr", limits.output_bytes)
    start = time.monotonic()
    deadline = start + limits.timeout
    proc = _spawn(argv, work=work, stdin=stdin, isolation=isolation, uid=uid, guard=guard)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        stopped = _pump(
            proc, out, err, deadline=deadline, limits=limits, cancel=cancel, guard=guard
        ) or _wait_for_exit(proc, deadline=deadline, limits=limits, cancel=cancel, guard=guard)
        if stopped is None:
            # The kernel may have stopped a process at the cap just as the run ended.
            stopped = _breach(guard, force=True)
    finally:
        killed = proc.poll() is None
        if killed:
            guard.kill()
            _kill_group(proc)
        proc.wait()
        wall = time.monotonic() - start
        proc.stdout.close()
        proc.stderr.close()
        if killed or isolation is Isolation.NONE:
            _sweep(proc, uid)
    result = _result(
        proc.returncode, out, err, wall, stopped, limits=limits, isolation=isolation, uid=uid
    )
    return dataclasses.replace(
        result,
        memory_guard=guard.guard,
        memory_limit_bytes=limits.memory_bytes,
        memory_peak_bytes=guard.peak(),
    )


def _breach(guard: RunGuard, *, force: bool = False) -> tuple[Ended, str] | None:
    """Why the run must stop for its total memory or its files in /tmp, if it must."""
    detail = guard.check(force=force)
    if detail is None:
        return None
    return (Ended.MEMORY if guard.memory_breached else Ended.KILLED), detail


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    # bwrap and unshare take their process trees with them (--die-with-parent,
    # --kill-child, and the end of the PID namespace's first process).
    for victim in _descendants(proc):
        with contextlib.suppress(psutil.Error):
            victim.kill()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def _descendants(proc: subprocess.Popen[bytes]) -> list[psutil.Process]:
    try:
        return psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        return []


def _sweep(proc: subprocess.Popen[bytes], uid: int, wait_s: float = 5.0) -> None:
    """Leave no process of this run behind."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if uid < 0:
        return  # a normal user's own uid: no way to tell the run's strays from the rest
    end = time.monotonic() + wait_s
    while True:
        subprocess.run(
            [sys.executable, "-I", "-S", "-c", _SWEEPER, str(uid)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={},
            check=False,
        )
        if not _processes_of(uid) or time.monotonic() >= end:
            return
        time.sleep(0.02)


def _processes_of(uid: int) -> list[psutil.Process]:
    """Live processes of a uid; zombies are dead already and wait only for init to reap them."""
    found = []
    for p in psutil.process_iter(["uids", "status"]):
        uids = p.info["uids"]
        alive = p.info["status"] != psutil.STATUS_ZOMBIE
        if alive and uids is not None and uid in (uids.real, uids.effective):
            found.append(p)
    return found


def _result(
    returncode: int,
    out: _Capture,
    err: _Capture,
    wall: float,
    stopped: tuple[Ended, str] | None,
    *,
    limits: Limits,
    isolation: Isolation,
    uid: int,
) -> RunResult:
    # Shell-style status: bwrap reports a signal as 128+N, unshare and Popen as -N.
    sig: int | None = None
    if returncode < 0:
        sig, code = -returncode, 128 - returncode
    else:
        code = returncode
        if isolation is Isolation.BWRAP and 128 < returncode < 128 + signal.NSIG:
            sig = returncode - 128
    stderr_text = err.data[-4096:].decode("utf-8", "replace")
    if code == _STARTUP_FAILED and stderr_text.startswith(_STARTUP_MARK) and stopped is None:
        raise SandboxError(f"The sandbox could not start the program: {stderr_text.strip()}")
    if stopped is not None:
        ended, detail = stopped
    elif sig == signal.SIGXCPU:
        ended, detail = Ended.TIMEOUT, f"stopped at the {limits.cpu()} s CPU time limit"
    elif code != 0 and any(m in stderr_text for m in _MEMORY_MARKERS):
        ended, detail = Ended.MEMORY, f"ran out of memory (limit {size_words(limits.memory_bytes)})"
    elif sig == signal.SIGXFSZ:
        ended = Ended.KILLED
        detail = f"killed: a file grew past the {size_words(limits.file_bytes)} file size limit"
    elif sig is not None:
        ended, detail = Ended.KILLED, f"killed by {_signal_name(sig)}"
    else:
        ended, detail = Ended.EXIT, f"exited with status {code}"
    return RunResult(
        exit_code=code,
        stdout=out.text(),
        stderr=err.text(),
        wall_seconds=wall,
        ended=ended,
        detail=detail,
        isolation=isolation,
        uid=uid if uid >= 0 else os.getuid(),
        signal=sig,
        stdout_truncated=out.truncated,
        stderr_truncated=err.truncated,
    )


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"
