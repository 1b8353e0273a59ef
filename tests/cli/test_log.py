"""``codenook log``, ``stats`` and ``vote`` through the real command, and what the logs keep."""

import json
import logging
from pathlib import Path

import pytest

from codenook import applog
from tests.conftest import PASSWORD, run_cli

pytestmark = pytest.mark.usefixtures("account")
OTHER_PW = "another-long-password"
OTHER = {"CODENOOK_USER": "other", "CODENOOK_PASSWORD": OTHER_PW}


def cli_json(*args: str, env: dict | None = None):
    proc = run_cli(*args, "--json", env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


def add_other_user() -> None:
    proc = run_cli("users", "add", "other", "--password-stdin", input=f"{OTHER_PW}\n".encode())
    assert proc.returncode == 0, proc.stderr.decode()


def test_log_vote_and_stats() -> None:
    ask = run_cli("ask", "Say hi.", "--max-tokens", "8", "--temperature", "0")
    assert ask.returncode == 0, ask.stderr.decode()
    [entry] = cli_json("log")
    for key in (
        "task",
        "model",
        "model_file",
        "model_sha256",
        "backend",
        "settings",
        "prompt_tokens",
        "answer_tokens",
        "time_to_first_token",
        "tokens_per_second",
        "finish_reason",
    ):
        assert entry[key] is not None, key
    assert entry["task"] == "ask" and entry["settings"]["max_tokens"] == 8
    assert len(entry["model_sha256"]) == 64 and entry["vote"] == 0

    mid = str(entry["id"])
    assert run_cli("vote", mid, "up").returncode == 0
    assert cli_json("log")[0]["vote"] == 1
    stats = cli_json("stats")
    assert stats["answers"] == 1 and stats["thumbs_up"] == 1 and stats["thumbs_up_share"] == 1
    assert [(g["job"], g["answers"]) for g in stats["groups"]] == [("ask", 1)]
    text = run_cli("stats").stdout.decode()
    assert "answers: 1" in text and "up 100% (1)" in text

    listing = run_cli("log").stdout.decode().splitlines()
    assert listing[0].split()[:3] == ["id", "when", "job"]
    assert listing[1].split()[0] == mid and " up " in listing[1]
    assert cli_json("log", "--job", "generate") == []
    assert cli_json("log", "--since", "2999-01-01") == []
    assert len(cli_json("log", "--since", "2000-01-01")) == 1
    bad = run_cli("log", "--since", "last week")
    assert bad.returncode == 2 and b"YYYY-MM-DD" in bad.stderr
    assert run_cli("vote", mid, "clear").returncode == 0
    assert cli_json("log")[0]["vote"] == 0
    missing = run_cli("vote", "9999", "up")
    assert missing.returncode == 2 and b"No answer 9999" in missing.stderr


def test_another_users_log_stats_and_votes_stay_hidden() -> None:
    assert run_cli("ask", "Alice only.", "--max-tokens", "4").returncode == 0
    [entry] = cli_json("log")
    add_other_user()
    assert cli_json("log", env=OTHER) == []
    assert cli_json("stats", env=OTHER)["answers"] == 0
    foreign = run_cli("vote", str(entry["id"]), "down", env=OTHER)
    missing = run_cli("vote", "4242", "down", env=OTHER)
    assert foreign.returncode == missing.returncode == 2
    assert foreign.stderr.replace(str(entry["id"]).encode(), b"N") == missing.stderr.replace(
        b"4242", b"N"
    )
    assert cli_json("log")[0]["vote"] == 0


def test_errors_shows_the_latest_error_log_lines() -> None:
    applog.setup_logging(debug=False)
    try:
        try:
            raise OSError("disk on fire")
        except OSError:
            logging.getLogger("codenook.tests").exception("saving failed")
    finally:
        applog.shutdown_logging()
    proc = run_cli("log", "--errors")
    assert proc.returncode == 0
    lines = proc.stdout.decode().splitlines()
    assert "ERROR codenook.tests: saving failed" in lines[0]
    assert lines[-1] == "  | OSError: disk on fire"


def test_errors_with_nothing_logged_says_so() -> None:
    proc = run_cli("log", "--errors")
    assert proc.returncode == 0 and proc.stdout == b""
    assert b"No errors logged yet" in proc.stderr


def all_files(home: Path) -> dict[Path, bytes]:
    return {f: f.read_bytes() for f in home.rglob("*") if f.is_file()}


@pytest.mark.parametrize("debug", [False, True])
def test_no_password_or_token_is_kept_in_the_data_folder(
    codenook_home: Path, tmp_path: Path, debug: bool
) -> None:
    question_token = "hf_" + "QuEsTiOn0123456789abcdefghijklmn"
    env_token = "hf_" + "EnViRoN9876543210zyxwvutsrqponml"
    wrong_pw = "not-the-password-at-all"
    env = {"HF_TOKEN": env_token, "HUGGING_FACE_HUB_TOKEN": env_token}
    if debug:
        (codenook_home / "config").mkdir(parents=True, exist_ok=True)
        (codenook_home / "config" / "settings.toml").write_text("[logging]\ndebug = true\n")
    procs = [
        run_cli(
            "-v",
            "ask",
            f"Is {question_token} a valid token? zebra-marker",
            "--max-tokens",
            "6",
            env=env,
        ),
        # Errors that quote what was typed are logged too.
        run_cli("ask", "--model", str(tmp_path / question_token / "m.gguf"), "hi", env=env),
        run_cli("log", "--since", question_token, env=env),
        run_cli("stats", env={**env, "CODENOOK_PASSWORD": wrong_pw}),
    ]
    assert [p.returncode for p in procs] == [0, 2, 2, 2]
    for p in procs:
        assert PASSWORD.encode() not in p.stdout + p.stderr

    files = all_files(codenook_home)
    logs = b"".join(data for f, data in files.items() if "logs" in f.parts)
    assert b"answer " in logs and b"[REDACTED]" in logs
    assert b"Wrong user name or password" in logs
    assert question_token.encode() not in logs
    # Message content only with the debug setting on (and even then no secrets).
    assert (b"zebra-marker" in logs) is debug
    for f, data in files.items():
        for secret in (PASSWORD, wrong_pw, env_token):
            assert secret.encode() not in data, f"{secret} in {f}"
        if f.suffix not in (".db", ".db-wal"):
            assert question_token.encode() not in data, f
