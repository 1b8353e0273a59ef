"""``codenook run`` through the real installed command, in a subprocess."""

from __future__ import annotations

import os
import pty
import resource
import subprocess
import threading
import time
from pathlib import Path

import psutil

from codenook import config
from tests.cli.test_ask import one_error_line
from tests.conftest import CODENOOK, run_cli


def summary(proc: subprocess.CompletedProcess[bytes]) -> str:
    """The one-line summary: the last line on stderr."""
    return proc.stderr.decode().rstrip("\n").splitlines()[-1]


def test_runs_a_python_file_with_arguments_after_the_double_dash(tmp_path: Path) -> None:
    script = tmp_path / "greet.py"
    script.write_text("import sys\nprint('hello', sys.argv[1:])\nsys.exit(3)\n")
    proc = run_cli("run", str(script), "--", "-x", "two words")
    assert proc.stdout == b"hello ['-x', 'two words']\n"
    line = summary(proc)
    assert line.startswith("codenook run: exit 3 · ")
    assert " s · " in line and "isolation: bubblewrap" in line
    assert proc.returncode == 3, "codenook run exits with the program's status"


def test_runs_a_bash_file_found_by_its_shebang(tmp_path: Path) -> None:
    script = tmp_path / "tool"
    script.write_text('#!/usr/bin/env bash\necho "bash says $1"\necho warned >&2\n')
    proc = run_cli("run", str(script), "--", "hi")
    assert proc.returncode == 0
    assert proc.stdout == b"bash says hi\n"
    assert proc.stderr.decode().startswith("warned\n")
    assert "exit 0" in summary(proc)


def test_stdin_comes_from_a_file_or_from_codenooks_stdin(tmp_path: Path) -> None:
    script = tmp_path / "upper.py"
    script.write_text("import sys\nprint(sys.stdin.read().upper(), end='')\n")
    given = tmp_path / "in.txt"
    given.write_text("from a file\n")
    assert run_cli("run", "--stdin", str(given), str(script)).stdout == b"FROM A FILE\n"
    piped = run_cli("run", "--stdin", "-", str(script), input=b"piped\n")
    assert piped.stdout == b"PIPED\n"


def test_endless_loop_stops_at_the_timeout_option(tmp_path: Path) -> None:
    script = tmp_path / "spin.py"
    script.write_text("while True:\n    pass\n")
    start = time.monotonic()
    proc = run_cli("run", "--timeout", "1", str(script))
    assert time.monotonic() - start < 10
    assert "stopped at the 1 s time limit" in summary(proc)
    assert proc.returncode == 137


def peak_rss(script: Path) -> tuple[int, bytes, str]:
    """Run ``codenook run script``; its peak resident memory, stdout and stderr."""
    proc = psutil.Popen(
        [str(CODENOOK), "run", str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        # Sampled from a thread: the pipes must be drained meanwhile, or codenook blocks.
        while not done.is_set():
            try:
                peak[0] = max(peak[0], proc.memory_info().rss)
            except psutil.Error:
                return
            done.wait(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        done.set()
        watcher.join()
    return peak[0], out, err.decode()


def test_huge_output_is_cut_and_codenook_stays_small(tmp_path: Path) -> None:
    flood = tmp_path / "flood.py"
    flood.write_text(
        "import sys\n"
        "line = 'z' * 1023 + '\\n'\n"
        "for _ in range(100 * 1024):  # 100 MB\n"
        "    sys.stdout.write(line)\n"
    )
    small = tmp_path / "small.py"
    small.write_text("print(1)\n")
    base, _, _ = peak_rss(small)
    peak, out, err = peak_rss(flood)
    assert out.endswith(b"[codenook: stdout cut at 1 MB; the program was stopped]\n")
    assert len(out) < 1024 * 1024 + 200
    assert "stdout passed the 1 MB output limit" in err
    assert peak - base < 48 * 1024 * 1024, f"codenook grew by {(peak - base) / 1e6:.0f} MB"


def test_missing_file_is_one_line() -> None:
    assert "not found" in one_error_line(run_cli("run", "/no/such/file.py"))


def test_unknown_language_is_one_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    line = one_error_line(run_cli("run", str(notes)))
    assert "Python or Bash" in line and "--lang" in line
    forced = run_cli("run", "--lang", "bash", str(notes))
    assert "hello: command not found" in forced.stderr.decode()


def test_forbidden_unisolated_run_is_one_line(tmp_path: Path) -> None:
    config.save_settings(config.Settings(sandbox=config.SandboxSettings(allow_unisolated=False)))
    script = tmp_path / "x.sh"
    script.write_text("echo should not run\n")
    proc = run_cli("run", "--isolation", "none", str(script))
    assert b"should not run" not in proc.stdout
    assert "allow_unisolated" in one_error_line(proc)


def test_unisolated_run_carries_a_warning(tmp_path: Path) -> None:
    script = tmp_path / "x.sh"
    script.write_text("echo ran\n")
    proc = run_cli("run", "--isolation", "none", str(script))
    assert proc.stdout == b"ran\n"
    err = proc.stderr.decode()
    assert "NOT isolated" in err
    assert "isolation: NOT ISOLATED" in summary(proc)


def bounded_cli(
    *args: str, stdin: int | None = None, timeout: float = 20
) -> subprocess.CompletedProcess[bytes]:
    """Run codenook with 2 GB of address space and a deadline: an input read to its
    end (/dev/zero) or waited on for ever (a FIFO) fails the test, not the machine."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))

    return subprocess.run(
        [str(CODENOOK), *args],
        stdin=stdin,
        capture_output=True,
        timeout=timeout,
        preexec_fn=cap,
        check=False,
    )


def test_dev_zero_as_the_program_or_its_stdin_file_is_one_line(tmp_path: Path) -> None:
    script = tmp_path / "read.py"
    script.write_text("import sys\nprint(len(sys.stdin.buffer.read()))\n")
    for args in (["/dev/zero"], ["--stdin", "/dev/zero", str(script)]):
        start = time.monotonic()
        line = one_error_line(bounded_cli("run", *args))
        assert time.monotonic() - start < 10
        assert "/dev/zero is not a regular file (a device, a pipe or a socket)" in line


def test_dev_zero_piped_into_stdin_dash_is_cut_short(tmp_path: Path) -> None:
    script = tmp_path / "read.py"
    script.write_text("import sys\nprint(len(sys.stdin.buffer.read()))\n")
    start = time.monotonic()
    with open("/dev/zero", "rb") as zero:
        line = one_error_line(bounded_cli("run", "--stdin", "-", str(script), stdin=zero.fileno()))
    assert time.monotonic() - start < 10
    assert "codenook's stdin holds more than 16 MB" in line


def test_a_fifo_as_the_program_or_its_stdin_is_one_line_not_a_wait(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    script = tmp_path / "echo.py"
    script.write_text("print('ran')\n")
    for args in ([str(fifo)], ["--stdin", str(fifo), str(script)]):
        start = time.monotonic()
        line = one_error_line(bounded_cli("run", *args))
        assert time.monotonic() - start < 10, "no writer ever opens the FIFO: nothing may wait"
        assert f"{fifo} is not a regular file" in line


CONTROLS = "\x1b[2J\x1b]0;owned\x07\x9b31mred\rhidden\n"


def on_a_terminal(*args: str) -> bytes:
    """What codenook writes when its stdout and stderr are a terminal (a pseudo-terminal)."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [str(CODENOOK), *args],
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=follower,
        )
        os.close(follower)
        seen = bytearray()
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every writer is gone
                break
            if not chunk:
                break
            seen += chunk
        assert proc.wait(timeout=60) == 0
        return bytes(seen)
    finally:
        os.close(leader)


def test_control_sequences_in_the_output_reach_a_terminal_escaped(tmp_path: Path) -> None:
    script = tmp_path / "paint.py"
    script.write_text(
        f"import sys\nsys.stdout.write({CONTROLS!r})\nsys.stderr.write({CONTROLS!r})\n"
    )
    shown = on_a_terminal("run", str(script))
    assert b"\x1b" not in shown and b"\x07" not in shown and "\x9b".encode() not in shown
    # Both streams: the clear-screen, the window title, the one-character CSI, the
    # carriage return that would hide what came before it.
    escaped = b"\\x1b[2J\\x1b]0;owned\\x07\\x9b31mred\\x0dhidden"
    assert shown.count(escaped) == 2, shown
    assert b"codenook run: exit 0" in shown
    # Into a file or a pipe the output stays byte for byte what the program wrote.
    piped = run_cli("run", str(script))
    assert piped.stdout == CONTROLS.encode()
