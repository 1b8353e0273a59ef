"""The command line's last defence: a bug is one line on stderr and a traceback in the log."""

import argparse
import hashlib
import json
import os
import select
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest

from codenook import applog, config
from codenook.auth import Auth
from codenook.cli import main as cli
from codenook.errors import UsageError
from codenook.store.db import open_database
from tests.conftest import CODENOOK, PASSWORD, run_cli


class Explode:
    """A command with a bug in it."""

    NAME = "explode"
    HELP = "raise an unexpected error"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """None."""

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        """Fail the way a bug does."""
        return {}["missing key"]


class Refuse(Explode):
    """A command that refuses, as user errors do."""

    NAME = "refuse"

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        """Fail the way a user's mistake does."""
        raise UsageError("That will not work: try another way.")


@pytest.fixture(autouse=True)
def commands(monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "explode", f"{__name__}:Explode")
    monkeypatch.setitem(cli.COMMANDS, "refuse", f"{__name__}:Refuse")
    yield
    applog.shutdown_logging()


def test_a_bug_is_one_line_on_stderr_and_a_traceback_in_the_log(capsys) -> None:
    assert cli.main(["explode"]) == 1
    err = capsys.readouterr().err
    log_file = applog.log_file()
    assert err == (
        "codenook: unexpected error in codenook explode (KeyError: 'missing key'); "
        f"the details are in {log_file}\n"
    )
    text = log_file.read_text()
    assert "CRITICAL codenook.cli: unexpected error in codenook explode" in text
    assert "  | Traceback (most recent call last):" in text
    assert "  | KeyError: 'missing key'" in text


def test_verbose_shows_the_traceback_too(capsys) -> None:
    assert cli.main(["-v", "explode"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_a_users_error_is_printed_once_and_logged(capsys) -> None:
    assert cli.main(["refuse"]) == 2
    assert capsys.readouterr().err == "codenook: error: That will not work: try another way.\n"
    assert "WARNING codenook.cli: refuse: That will not work" in applog.log_file().read_text()


def test_only_the_command_run_is_imported() -> None:
    assert cli._command_in(["-v", "stats", "--json"]) == "stats"
    assert cli._command_in(["--help"]) is None
    assert cli._command_in(["bogus"]) is None
    parser = cli.build_parser("stats")
    assert parser.parse_args(["stats"]).command == "stats"
    with pytest.raises(UsageError, match="invalid choice"):
        cli.build_parser().parse_args(["bogus"])


# ------------------------------------------------ the store and the settings, for real
# These run the installed command in a subprocess against a real database, with the
# faults made real: a read-only or full file system (bubblewrap, as the sandbox uses), a
# second connection holding the lock, bytes overwritten in the file.


def _conversation(title: str = "kept conversation") -> int:
    """A stored conversation of the logged-in test account, with a question and an answer."""
    from codenook.store import conversations as store

    db = open_database()
    user = Auth(db).verify("tester", PASSWORD)
    cid = store.create_conversation(db, user.id, title=title, system_prompt="s")
    store.add_message(db, user.id, cid, role="user", content="a question")
    store.add_message(db, user.id, cid, role="assistant", content="an answer")
    db.close()
    return cid


def _rows() -> int:
    db = sqlite3.connect(config.paths().database)
    count = db.execute("SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM users)")
    found = count.fetchone()[0]
    db.close()
    return int(found)


def _one_error(proc: subprocess.CompletedProcess[bytes], *, warnings: int = 0) -> str:
    """The error line of a command that must fail with one clear line (and exit 2)."""
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "Traceback" not in err and "unexpected error" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    errors_ = [line for line in lines if line.startswith("codenook: error: ")]
    assert len(errors_) == 1 and len(lines) <= 1 + warnings, err
    return errors_[0]


def _bwrap(*options: str) -> list[str]:
    """The whole system as it is, with ``options`` laid over it (a read-only folder...)."""
    return ["bwrap", "--dev-bind", "/", "/", *options, "--"]


def test_a_read_only_data_folder_serves_reading_commands(account, codenook_home: Path) -> None:
    cid = _conversation()
    data = config.paths().data
    data.chmod(0o500)  # read-only for its owner, as a user would make it
    try:
        # Starting must not undo that (root could; the mode shows whether it tried).
        listed = run_cli("history", "list")
        assert listed.returncode == 0, listed.stderr.decode()
        assert stat.S_IMODE(data.stat().st_mode) == 0o500
    finally:
        data.chmod(0o700)
    before = _rows()
    # A read-only file system: nobody, root included, can write or chmod there.
    ro = _bwrap("--ro-bind", str(codenook_home), str(codenook_home))
    for args, expected in [
        (("history", "list"), "kept conversation"),
        (("history", "show", str(cid)), "an answer"),
        (("stats",), "answers: 1"),
    ]:
        proc = subprocess.run([*ro, str(CODENOOK), *args], capture_output=True, timeout=120)
        err = proc.stderr.decode()
        assert proc.returncode == 0, err
        assert expected in proc.stdout.decode()
        assert "Traceback" not in err and "error" not in err, err
    # A writing command says what is wrong and what to do, in one line.
    proc = subprocess.run(
        [*ro, str(CODENOOK), "history", "rename", str(cid), "new title"],
        capture_output=True,
        timeout=120,
    )
    line = _one_error(proc, warnings=1)  # the log's folder is read-only too: said once
    assert f"The data folder {data} is read-only" in line and "chmod u+w" in line
    assert _rows() == before


def test_a_database_locked_by_another_process_says_busy(account) -> None:
    _conversation()
    before = _rows()
    other = sqlite3.connect(config.paths().database, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        start = time.monotonic()
        proc = run_cli("history", "list", timeout=60)
        waited = time.monotonic() - start
    finally:
        other.execute("ROLLBACK")
        other.close()
    line = _one_error(proc)
    assert "is busy: another codenook" in line and "try again" in line
    assert 5 <= waited < 30, "it waits the busy timeout, then says so"
    assert _rows() == before
    assert run_cli("history", "list").returncode == 0


def test_a_full_disk_says_full_and_loses_nothing(account, codenook_home: Path, tmp_path) -> None:
    _conversation()
    before = _rows()
    full = tmp_path / "full-home"
    full.mkdir()
    # A 2 MB file system holding a copy of the home, then filled to the last byte.
    script = (
        f'cp -a "{codenook_home}/." "{full}/" && rm -f "{full}"/logs/*\n'
        f'dd if=/dev/zero of="{full}/filler" bs=4096 2>/dev/null\n'
        f'"{CODENOOK}" history rename 1 "a new title"\n'
        'echo "rc=$?" >&2\n'
        f'rm "{full}/filler"\n'
        f'"{CODENOOK}" history list\n'
        f'cp "{full}/data/codenook.db" "{tmp_path}/after.db"\n'
    )
    proc = subprocess.run(
        [*_bwrap("--size", str(2 * 1024 * 1024), "--tmpfs", str(full)), "sh", "-c", script],
        capture_output=True,
        timeout=120,
        env={**os.environ, "CODENOOK_HOME": str(full)},
    )
    err = proc.stderr.decode()
    assert "rc=2" in err, err
    assert "Traceback" not in err and "unexpected error" not in err, err
    assert "codenook: error: The disk holding" in err and "is full" in err, err
    assert "Free some space" in err
    # Once there is room again, everything stored before is there.
    assert "kept conversation" in proc.stdout.decode()
    after = sqlite3.connect(tmp_path / "after.db")
    assert after.execute("SELECT title FROM conversations").fetchall() == [("kept conversation",)]
    after.close()
    assert _rows() == before


def test_a_damaged_page_says_damaged_and_changes_nothing(account) -> None:
    _conversation()
    path = config.paths().database
    raw = sqlite3.connect(path)
    page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    root = raw.execute("SELECT rootpage FROM sqlite_master WHERE name = 'conversations'")
    page = root.fetchone()[0]
    raw.close()
    with path.open("r+b") as f:
        f.seek((page - 1) * page_size)
        f.write(b"\xff" * 64)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    line = _one_error(run_cli("history", "list"))
    assert f"The database {path} is damaged" in line
    assert ".recover" in line and "move it aside" in line
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def _chat_json(question: str, *, env: dict[str, str] | None = None) -> str:
    proc = run_cli("chat", "--json", *ANSWER, input=question.encode() + b"\n", env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout.decode().splitlines()[0])["text"]


ANSWER = ("--temperature", "0", "--seed", "1", "--max-tokens", "24")
QUESTION = "Write a Python function that reverses a list, with a docstring."


def test_a_user_removed_while_their_chat_runs_gets_one_line(account) -> None:
    db = open_database()
    auth = Auth(db)
    admin = auth.verify("tester", PASSWORD)
    auth.create_user("bob", PASSWORD, by=admin)
    expected = _chat_json(QUESTION, env={"CODENOOK_USER": "bob"})
    chat = subprocess.Popen(
        [str(CODENOOK), "chat", *ANSWER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CODENOOK_USER": "bob"},
    )
    try:
        assert chat.stdin is not None and chat.stdout is not None
        chat.stdin.write(QUESTION.encode() + b"\n")
        chat.stdin.flush()
        # The answer has started: remove the account under it.
        ready, _, _ = select.select([chat.stdout], [], [], 300)
        assert ready, "no answer started"
        first = os.read(chat.stdout.fileno(), 1)
        auth.delete_user("bob", by=admin)
        chat.stdin.write(b"And now in Bash?\n")
        chat.stdin.flush()
        rest, err = chat.communicate(timeout=300)  # closes stdin: the chat ends there
    finally:
        if chat.poll() is None:
            chat.kill()
            chat.wait()
        db.close()
    proc = subprocess.CompletedProcess(chat.args, chat.returncode, first + rest, err)
    line = _one_error(proc)
    assert "no longer exists" in line and "log in again" in line
    # The answer that was running was shown whole, not cut where the account went.
    assert expected.strip() in proc.stdout.decode()


def test_more_threads_than_cpus_run_with_a_warning(account) -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text("[model]\nthreads = 100000\n")
    proc = run_cli("ask", "Say hi.", "--max-tokens", "4")
    err = proc.stderr.decode()
    assert proc.returncode == 0, err  # llama.cpp crashed with a segmentation fault
    assert proc.stdout.strip()
    assert f"model.threads = 100000 is more than this machine's {config.cpu_count()}" in err
    assert err.count("model.threads") == 1


@pytest.mark.parametrize(
    ("text", "args", "name"),
    [
        ("[model]\npath = 5", ("ask", "Say hi.", "--max-tokens", "4"), "model.path"),
        ("[prompts]\nask = 5", ("ask", "Say hi.", "--max-tokens", "4"), "prompts.ask"),
        (
            "[sandbox]\nfile_size_mb = 9999999999999999",
            ("run", "hello.py"),
            "sandbox.file_size_mb",
        ),
    ],
)
def test_a_setting_of_the_wrong_type_is_a_warning_not_a_crash(
    account, tmp_path, monkeypatch, text: str, args: tuple[str, ...], name: str
) -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text(text + "\n")
    (tmp_path / "hello.py").write_text("print('hello from the sandbox')\n")
    monkeypatch.chdir(tmp_path)
    proc = run_cli(*args)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "unexpected error" not in err, err
    assert f"Setting {name} must be" in err and "that value is ignored" in err
    assert proc.stdout.strip()


def test_a_short_hf_token_typed_into_a_question_stays_out_of_the_debug_log(account) -> None:
    from codenook.library import hftoken, secretstore

    p = config.ensure_dirs()
    p.settings_file.write_text("[logging]\ndebug = true\n")
    # A token in the keyring too, short and not shaped like a Hugging Face one.
    secretstore.store(hftoken.ACCOUNT, hftoken.token_file(), "tok9z", what="token")
    proc = run_cli(
        "ask",
        "My tokens are abc12 and tok9z; what is a token?",
        "--max-tokens",
        "4",
        env={"HF_TOKEN": "abc12"},
    )
    assert proc.returncode == 0, proc.stderr.decode()
    text = applog.log_file().read_text()
    assert "My tokens are [REDACTED] and [REDACTED]; what is a token?" in text
    assert "abc12" not in text and "tok9z" not in text
