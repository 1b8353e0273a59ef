"""The sandbox against hostile code: each attack contained, reported, and survived.

These run real programs under the real isolation of this machine. ``make test``
installs bubblewrap, so a machine where isolation is missing fails here rather
than skipping: a sandbox that silently does not isolate is the bug to catch.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from codenook import config
from codenook.assist.tools import sandbox
from codenook.assist.tools.sandbox import Ended, Isolation, Limits, run_code
from codenook.errors import SandboxError

ROOT = Path(__file__).resolve().parents[3]
ISOLATED = (Isolation.BWRAP, Isolation.UNSHARE)


def program(text: str) -> str:
    """A program written indented inside a test, as the file it would be."""
    return textwrap.dedent(text).lstrip("\n")


def still_works() -> None:
    """codenook can run code normally right after an attack."""
    r = run_code("print('still here')", language="python")
    assert (r.exit_code, r.stdout, r.ended) == (0, "still here\n", Ended.EXIT), r


def leftovers(result: sandbox.RunResult, marker: str) -> list[str]:
    """Processes of this run still in the process table: by its own uid, or by its marker.

    Killed processes may stay zombies until init reaps them; wait a little for that too.
    """
    deadline = time.monotonic() + 5
    while True:
        found = []
        for p in psutil.process_iter(["uids", "cmdline", "status"]):
            uids, cmdline = p.info["uids"], p.info["cmdline"] or []
            own_uid = result.uid != os.getuid() and uids is not None and uids.real == result.uid
            if own_uid or any(marker in part for part in cmdline):
                found.append(f"{p.pid} {p.info['status']} {' '.join(cmdline)}")
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


class Latency:
    """Measures how long the machine takes to start a tiny process, while a test runs."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            start = time.monotonic()
            subprocess.run(["true"], check=True)
            self.worst = max(self.worst, time.monotonic() - start)
            self.samples += 1
            self._stop.wait(0.05)

    def __enter__(self) -> Latency:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A world-writable folder outside /tmp (which bwrap replaces anyway): only the sandbox
    guards it, not file permissions."""
    parent = ROOT / "test-artifacts"
    parent.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=parent, prefix="sandbox-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder)


def open_file(path: Path, text: str) -> Path:
    """A file anyone may change or delete."""
    path.write_text(text)
    path.chmod(0o666)
    return path


def reachable_by_others(path: Path) -> bool:
    """Whether a user with no rights of its own could get to path (no private parent)."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in path.parents)


@pytest.fixture
def home(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the user's home, so that nothing real is ever at risk."""
    home = scratch / "home"
    home.mkdir(mode=0o777)
    home.chmod(0o777)
    open_file(home / "precious.txt", "keep me\n")
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def open_folder(scratch: Path) -> Path:
    """A folder outside the work folder and the home, with a file anyone may delete."""
    folder = scratch / "open"
    folder.mkdir()
    folder.chmod(0o777)
    open_file(folder / "victim.txt", "do not delete\n")
    return folder


# ---------------------------------------------------------------- the basics


def test_this_machine_isolates_with_bubblewrap() -> None:
    sandbox.forget_probes()
    problem = sandbox.isolation_problem(Isolation.BWRAP)
    assert problem is None, f"bubblewrap does not work here ({problem}); `make test` installs it"
    assert sandbox.best_isolation() is Isolation.BWRAP


def test_python_gets_arguments_stdin_and_its_exit_code() -> None:
    code = "import sys\nprint(sys.argv[1:], sys.stdin.read().upper())\nsys.exit(3)\n"
    r = run_code(code, language="python", args=["-x", "two words"], stdin=b"hello")
    assert r.stdout == "['-x', 'two words'] HELLO\n"
    assert (r.exit_code, r.ended, r.signal) == (3, Ended.EXIT, None)
    assert r.isolation is Isolation.BWRAP and r.isolated
    assert 0 < r.wall_seconds < 5
    assert "exit 3" in r.summary() and "bubblewrap" in r.summary()


def test_python_is_the_interpreter_codenook_runs_under() -> None:
    r = run_code("import sys; print(sys.executable)", language="python")
    assert r.stdout.strip() == sys.executable


def test_bash_runs_with_arguments_and_reports_stderr() -> None:
    r = run_code('echo "$#:$2"; echo oops >&2; exit 7', language="bash", args=["a", "b c"])
    assert (r.stdout, r.stderr, r.exit_code) == ("2:b c\n", "oops\n", 7)


def test_root_runs_code_as_a_fresh_unprivileged_uid() -> None:
    r = run_code("import os; print(os.getuid(), os.geteuid(), os.getgroups())", language="python")
    uid = r.uid
    if os.geteuid() == 0:
        assert uid != 0
        assert r.stdout.split()[:2] == [str(uid), str(uid)]
        assert "[]" in r.stdout
        assert run_code("pass", language="python").uid != uid, "each run gets its own uid"
    else:
        assert uid == os.getuid()


def test_a_signal_is_reported_as_killed_with_its_name() -> None:
    r = run_code("kill -TERM $$", language="bash")
    assert (r.ended, r.exit_code, r.signal) == (Ended.KILLED, 143, 15)
    assert "SIGTERM" in r.detail


# ---------------------------------------------------------------- time


def test_endless_loop_is_stopped_at_the_timeout() -> None:
    r = run_code("print('started')\nwhile True: pass", language="python", limits=Limits(timeout=2))
    assert r.ended is Ended.TIMEOUT, r
    assert "2 s time limit" in r.detail
    assert r.stdout == "started\n", "what was printed before the stop is kept"
    assert 2 <= r.wall_seconds < 4
    still_works()


def test_cpu_time_limit_stops_a_spinning_program() -> None:
    r = run_code("while True: pass", language="python", limits=Limits(timeout=20, cpu_seconds=1))
    assert r.ended is Ended.TIMEOUT, r
    assert "CPU" in r.detail
    assert r.wall_seconds < 6


def test_cancel_from_another_thread_stops_the_run() -> None:
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    r = run_code("sleep 30", language="bash", cancel=cancel)
    assert (r.ended, r.detail) == (Ended.KILLED, "cancelled")
    assert r.wall_seconds < 3


def test_two_runs_at_once_do_not_disturb_each_other() -> None:
    results: dict[int, sandbox.RunResult] = {}

    def one(n: int) -> None:
        results[n] = run_code(f"import time; time.sleep(0.3); print({n})", language="python")

    threads = [threading.Thread(target=one, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[n].stdout for n in range(2)] == ["0\n", "1\n"]


# ---------------------------------------------------------------- processes


@pytest.mark.parametrize("isolation", list(Isolation))
def test_bash_fork_bomb_is_contained(isolation: Isolation) -> None:
    marker = f"bomb-{uuid.uuid4().hex}"
    with Latency() as latency:
        r = run_code(
            ":(){ :|:& };:",
            language="bash",
            args=[marker],
            isolation=isolation,
            limits=Limits(timeout=3),
        )
    assert r.isolation is isolation
    assert r.wall_seconds < 6
    assert leftovers(r, marker) == []
    assert latency.samples > 0 and latency.worst < 2.0, latency.worst
    still_works()


def test_bash_fork_bomb_that_waits_is_stopped_at_the_timeout() -> None:
    marker = f"bomb-{uuid.uuid4().hex}"
    with Latency() as latency:
        r = run_code(
            ":(){ :|:& };:\nsleep 30",
            language="bash",
            args=[marker],
            limits=Limits(timeout=2),
        )
    assert r.ended is Ended.TIMEOUT, r
    assert "Resource temporarily unavailable" in r.stderr, "the process limit was hit"
    assert leftovers(r, marker) == []
    assert latency.worst < 2.0, latency.worst
    still_works()


def test_python_fork_bomb_is_contained() -> None:
    marker = f"bomb-{uuid.uuid4().hex}"
    code = program("""
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """)
    with Latency() as latency:
        r = run_code(code, language="python", args=[marker], limits=Limits(timeout=2))
    assert r.ended is Ended.TIMEOUT, r
    assert r.wall_seconds < 5
    assert leftovers(r, marker) == []
    assert latency.worst < 2.0, latency.worst
    still_works()


def test_process_limit_counts_processes() -> None:
    code = program("""
        import os, time
        n = 0
        try:
            for _ in range(100):
                if os.fork() == 0:
                    time.sleep(1)
                    os._exit(0)
                n += 1
        except OSError:
            pass
        print(n)
    """)
    r = run_code(code, language="python", limits=Limits(processes=10))
    assert r.ended is Ended.EXIT
    assert int(r.stdout) < 10


def test_a_detached_daemon_does_not_outlive_the_run() -> None:
    marker = f"daemon-{uuid.uuid4().hex}"
    code = f"setsid sleep 60 {marker} < /dev/null > /dev/null 2>&1 &\necho spawned"
    r = run_code(code.replace("sleep 60", "bash -c 'sleep 60' "), language="bash")
    assert r.stdout == "spawned\n"
    assert leftovers(r, marker) == []


# ---------------------------------------------------------------- memory and output


def test_allocating_4_gb_is_stopped_and_reported_as_memory() -> None:
    r = run_code("x = bytearray(4 * 1024**3)\nprint('allocated')", language="python")
    assert r.ended is Ended.MEMORY, r
    assert "allocated" not in r.stdout
    assert "512 MB" in r.detail
    still_works()


def test_printing_100_mb_is_capped_and_codenook_stays_small() -> None:
    me = psutil.Process()
    before = me.memory_info().rss
    code = program("""
        import sys
        line = "y" * 1023 + "\\n"
        for _ in range(100 * 1024):  # 100 MB
            sys.stdout.write(line)
    """)
    r = run_code(code, language="python")
    grown = me.memory_info().rss - before
    assert r.ended is Ended.OUTPUT, r
    assert r.stdout_truncated and r.truncated and not r.stderr_truncated
    assert r.stdout.endswith("[codenook: stdout cut at 1 MB; the program was stopped]\n")
    assert len(r.stdout.encode()) < 1024 * 1024 + 200
    assert grown < 32 * 1024 * 1024, f"codenook grew by {grown / 1e6:.0f} MB"
    still_works()


def test_flooding_stderr_from_bash_is_capped_too() -> None:
    r = run_code("yes error >&2", language="bash", limits=Limits(output_bytes=64 * 1024))
    assert r.ended is Ended.OUTPUT and r.stderr_truncated
    assert "stderr cut at 64 KB" in r.stderr


def test_a_file_cannot_grow_past_the_file_size_limit() -> None:
    code = program("""
        import os
        try:
            with open("big", "wb") as f:
                for _ in range(20):
                    f.write(b"x" * 1024 * 1024)
        except OSError as exc:
            print("refused:", exc.strerror)
        print(os.path.getsize("big"))
    """)
    r = run_code(code, language="python")
    assert "refused: File too large" in r.stdout
    assert int(r.stdout.split()[-1]) <= 10 * 1024 * 1024


# ---------------------------------------------------------------- network


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP listener on 127.0.0.1 that the test itself can reach."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    with socket.create_connection(server.getsockname(), timeout=2):
        pass  # reachable from outside the sandbox
    conn, _ = server.accept()
    conn.close()
    yield server
    server.close()


def test_no_connection_to_a_local_listener(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    code = program(f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=3)
            print("CONNECTED")
        except OSError as exc:
            print("blocked:", type(exc).__name__)
    """)
    r = run_code(code, language="python")
    assert r.isolation in ISOLATED
    assert r.stdout.startswith("blocked:"), r
    with pytest.raises(BlockingIOError):
        listener.accept()


def test_no_connection_from_bash_under_unshare(
    listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = listener.getsockname()[1]
    code = f"exec 3<>/dev/tcp/127.0.0.1/{port} && echo CONNECTED || echo blocked"
    r = run_code(code, language="bash", isolation=Isolation.UNSHARE)
    assert r.isolation is Isolation.UNSHARE
    assert r.stdout == "blocked\n", r
    with pytest.raises(BlockingIOError):
        listener.accept()
    # The control: the same program without isolation does connect.
    pretend_only_plain_processes(monkeypatch)
    r = run_code(code, language="bash")
    assert (r.isolation, r.stdout) == (Isolation.NONE, "CONNECTED\n")


def test_no_dns_and_no_network_interface_but_loopback() -> None:
    code = program("""
        import socket
        print([name for _, name in socket.if_nameindex()])
        try:
            socket.getaddrinfo("example.com", 80)
            print("RESOLVED")
        except OSError as exc:
            print("no dns:", type(exc).__name__)
    """)
    r = run_code(code, language="python", limits=Limits(timeout=20))
    assert r.isolation in ISOLATED
    assert r.stdout.splitlines() == ["['lo']", "no dns: gaierror"], r


# ---------------------------------------------------------------- files


def test_writing_into_the_home_leaves_it_untouched(home: Path) -> None:
    code = program(f"""
        for name in ["evil.txt", "precious.txt"]:
            try:
                with open({str(home)!r} + "/" + name, "w") as f:
                    f.write("pwned")
                print("wrote", name)
            except OSError as exc:
                print("refused", exc.strerror)
        try:
            print(open({str(home)!r} + "/precious.txt").read())
        except OSError as exc:
            print("cannot read", exc.strerror)
    """)
    r = run_code(code, language="python")
    assert r.isolation is Isolation.BWRAP
    assert "wrote" not in r.stdout and "keep me" not in r.stdout, "the home is hidden"
    assert "cannot read" in r.stdout
    assert sorted(p.name for p in home.iterdir()) == ["precious.txt"]
    assert (home / "precious.txt").read_text() == "keep me\n"


def test_without_isolation_the_same_home_would_be_readable(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the test above: what protects the home is the sandbox."""
    pretend_only_plain_processes(monkeypatch)
    r = run_code(f"cat {home}/precious.txt", language="bash")
    assert r.isolation is Isolation.NONE
    if reachable_by_others(home):
        assert r.stdout == "keep me\n"
    else:
        assert "Permission denied" in r.stderr  # root's private folders stop the sandbox uid


def test_deleting_a_file_outside_the_work_folder_fails(open_folder: Path) -> None:
    victim = open_folder / "victim.txt"
    code = program(f"""
        import os
        try:
            os.remove({str(victim)!r})
            print("deleted")
        except OSError as exc:
            print("refused", exc.strerror)
        try:
            open({str(open_folder / "new.txt")!r}, "w")
        except OSError as exc:
            print("refused", exc.strerror)
    """)
    r = run_code(code, language="python")
    assert r.isolation is Isolation.BWRAP
    # Read-only where the folder is visible; not there at all when it lies under /tmp,
    # which the sandbox replaces with its own (a checkout in /tmp, as CI may use).
    hidden = str(open_folder).startswith("/tmp/")
    why = "No such file or directory" if hidden else "Read-only file system"
    assert r.stdout == f"refused {why}\nrefused {why}\n", r
    assert victim.read_text() == "do not delete\n"
    assert sorted(p.name for p in open_folder.iterdir()) == ["victim.txt"]


def test_without_isolation_the_same_file_would_be_deleted(
    open_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the test above: the file is open to all; only the sandbox guards it."""
    spare = open_file(open_folder / "spare.txt", "expendable\n")
    pretend_only_plain_processes(monkeypatch)
    r = run_code(f"rm -f {spare} && echo deleted", language="bash")
    assert r.isolation is Isolation.NONE
    if reachable_by_others(open_folder):
        assert r.stdout == "deleted\n" and not spare.exists()
    else:
        assert "Permission denied" in r.stderr


def test_rm_rf_home_leaves_everything_in_place(home: Path, open_folder: Path) -> None:
    r = run_code(f"rm -rf ~ {home} {open_folder}; echo done", language="bash")
    assert r.isolation is Isolation.BWRAP
    assert r.stdout == "done\n"
    assert (home / "precious.txt").read_text() == "keep me\n"
    assert (open_folder / "victim.txt").read_text() == "do not delete\n"
    still_works()


def test_codenooks_own_data_is_hidden(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Session tokens and conversations live in codenook's data folder: out of sight."""
    monkeypatch.setenv("CODENOOK_HOME", str(scratch / "codenook"))
    data = config.ensure_dirs().data
    data.chmod(0o755)  # so that only the sandbox, not permissions, keeps it out
    open_file(data / "session", "token-s3cr3t\n")
    r = run_code(f"cat {data}/session; ls {data}", language="bash")
    assert r.isolation is Isolation.BWRAP
    assert "s3cr3t" not in r.stdout and "session" not in r.stdout
    assert "No such file" in r.stderr


def test_the_work_folder_is_writable_and_removed_afterwards() -> None:
    tmp = Path(tempfile.gettempdir())
    before = set(tmp.glob("codenook-sandbox-*"))
    code = "mkdir -p sub/deep && echo x > sub/deep/f && chmod 000 sub/deep sub && echo ok"
    r = run_code(code, language="bash")
    assert r.stdout == "ok\n", r
    assert set(tmp.glob("codenook-sandbox-*")) == before


def test_no_secrets_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_s3cr3t")
    monkeypatch.setenv("CODENOOK_API_KEY", "cn-s3cr3t")
    monkeypatch.setenv("CODENOOK_PASSWORD", "pw-s3cr3t")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-s3cr3t")
    code = program("""
        import json, os
        print(os.environ.get("GITHUB_TOKEN"))
        print(json.dumps(sorted(os.environ)))
        print(open("/proc/self/environ").read())
    """)
    r = run_code(code, language="python")
    assert r.stdout.startswith("None\n")
    assert "s3cr3t" not in r.stdout
    keys = json.loads(r.stdout.splitlines()[1])
    assert not [k for k in keys if k.startswith("CODENOOK")]
    assert set(keys) <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "USER",
        "LOGNAME",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PWD",
        "LC_CTYPE",
    }


# ---------------------------------------------------------------- when isolation is missing


def pretend_only_plain_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    real = sandbox.isolation_problem

    def problem(isolation: Isolation) -> str | None:
        if Isolation(isolation) is Isolation.NONE:
            return real(isolation)
        return "pretend it is missing"

    monkeypatch.setattr(sandbox, "isolation_problem", problem)


def test_unisolated_run_says_so_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend_only_plain_processes(monkeypatch)
    r = run_code("echo hi", language="bash")
    assert r.isolation is Isolation.NONE and not r.isolated
    assert r.stdout == "hi\n"
    assert "NOT ISOLATED" in r.summary()


def test_a_setting_forbids_unisolated_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = config.Settings(sandbox=config.SandboxSettings(allow_unisolated=False))
    config.save_settings(settings)
    pretend_only_plain_processes(monkeypatch)
    with pytest.raises(SandboxError, match="allow_unisolated = false") as err:
        run_code("echo hi", language="bash")
    assert "bubblewrap" in str(err.value)
    with pytest.raises(SandboxError, match="allow_unisolated"):
        run_code("echo hi", language="bash", isolation="none")


def test_asking_for_missing_isolation_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend_only_plain_processes(monkeypatch)
    with pytest.raises(SandboxError, match="bwrap is not available here: pretend"):
        run_code("echo hi", language="bash", isolation="bwrap")


def test_settings_give_the_default_limits() -> None:
    config.save_settings(config.Settings(sandbox=config.SandboxSettings(timeout=1.0)))
    r = run_code("sleep 5", language="bash")
    assert r.ended is Ended.TIMEOUT and "1 s time limit" in r.detail


def test_a_private_python_is_refused_clearly(tmp_path: Path) -> None:
    private = tmp_path / "private"
    (private / "bin").mkdir(parents=True)
    python = private / "bin" / "python3"
    python.write_text("")
    private.chmod(0o700)
    with pytest.raises(SandboxError, match=f"Python at {python}: the folder .* is private"):
        sandbox._check_reachable(str(python))


# ---------------------------------------------------------------- requests that make no sense


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.py", b"", "python"),
        ("b.sh", b"", "bash"),
        ("tool", b"#!/usr/bin/env python3\nprint(1)\n", "python"),
        ("tool", b"#!/bin/bash\necho\n", "bash"),
        ("tool", b"#!/bin/sh\necho\n", "bash"),
    ],
)
def test_language_from_name_or_shebang(name: str, data: bytes, expected: str) -> None:
    assert sandbox.detect_language(name, data) == expected


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(SandboxError, match="Python or Bash"):
        sandbox.detect_language("notes.txt", b"hello")


@pytest.mark.parametrize(
    "limits", [Limits(timeout=0), Limits(memory_bytes=1024), Limits(processes=0)]
)
def test_nonsense_limits_are_refused(limits: Limits) -> None:
    with pytest.raises(SandboxError, match="limit must be"):
        run_code("pass", language="python", limits=limits)


def test_file_name_with_folders_is_refused() -> None:
    with pytest.raises(SandboxError, match="plain name"):
        run_code("pass", language="python", filename="../escape.py")
