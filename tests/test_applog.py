"""The error log: format, rotation, crashes in threads and the main thread, redaction."""

import logging
import re
import stat
import sys
import threading
from pathlib import Path

import pytest

from codenook import applog, config
from codenook.redact import PLACEHOLDER

LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+: "
)
TOKEN = "hf_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDc"
log = logging.getLogger("codenook.tests")


@pytest.fixture(autouse=True)
def _restore_logging():
    yield
    applog.shutdown_logging()


def events(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.startswith("  | ")]


def test_one_line_per_event_with_time_level_module_message() -> None:
    path = applog.setup_logging(debug=False)
    assert path == config.paths().logs / "codenook.log"
    log.info("first")
    log.warning("two\nlines")
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert all(LINE.match(line) for line in lines)
    assert lines[0].endswith("INFO codenook.tests: first")
    assert lines[1].endswith("WARNING codenook.tests: two\\nlines")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_rotation_at_the_size_limit_keeps_five_files() -> None:
    path = applog.setup_logging(debug=False, max_bytes=2000)
    for n in range(400):
        log.info("event %04d %s", n, "x" * 80)
    files = sorted(path.parent.iterdir())
    assert [f.name for f in files] == [f"codenook.log{s}" for s in ("", ".1", ".2", ".3", ".4")]
    for f in files:
        assert f.stat().st_size <= 2000
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    # The newest events are in the live file, the oldest kept ones in .4.
    assert "event 0399" in path.read_text()
    assert "event 0000" not in "".join(f.read_text() for f in files)
    latest = applog.latest_lines(30)
    assert len(latest) == 30 and "event 0399" in latest[-1]
    assert "event 0370" in latest[0]


def test_worker_thread_exception_is_logged_with_its_traceback() -> None:
    path = applog.setup_logging(debug=False)
    told: list[str] = []
    applog.add_crash_listener(told.append)

    def load_the_model() -> None:
        raise RuntimeError("the worker broke")

    worker = threading.Thread(target=load_the_model, name="model-loader")
    worker.start()
    worker.join()
    applog.remove_crash_listener(told.append)
    text = path.read_text()
    assert "ERROR codenook.crash: Uncaught error in thread model-loader" in text
    assert "  | Traceback (most recent call last):" in text
    assert "in load_the_model" in text
    assert "  | RuntimeError: the worker broke" in text
    assert len(events(path)) == 1
    assert told == [f"Something went wrong in the background (RuntimeError); see {path}."]


def test_main_thread_exception_goes_to_the_log_and_one_line_to_stderr(capsys) -> None:
    path = applog.setup_logging(debug=False)
    try:
        raise KeyError("lost")
    except KeyError:
        sys.excepthook(*sys.exc_info())
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert f"(KeyError: 'lost'); the details are in {path}" in err
    text = path.read_text()
    assert "CRITICAL codenook.crash: Uncaught error" in text
    assert "  | KeyError: 'lost'" in text


def test_hooks_are_restored() -> None:
    before = (sys.excepthook, threading.excepthook)
    applog.setup_logging(debug=False)
    assert sys.excepthook is not before[0]
    applog.shutdown_logging()
    assert (sys.excepthook, threading.excepthook) == before


def test_secrets_are_redacted_in_messages_and_tracebacks(monkeypatch) -> None:
    monkeypatch.setenv("CODENOOK_PASSWORD", "tulip-orbit-77")
    path = applog.setup_logging(debug=True)
    log.warning("the user pasted %s", TOKEN)
    log.info("password was tulip-orbit-77")
    try:
        raise ValueError(f"bad token {TOKEN}")
    except ValueError:
        log.exception("failed")
    text = path.read_text()
    assert TOKEN not in text and "tulip-orbit-77" not in text
    assert text.count(PLACEHOLDER) == 3  # message, password, exception text


def test_content_stays_out_unless_debug() -> None:
    applog.setup_logging(debug=False)
    assert applog.content("my secret plan") == "<14 characters>"
    assert not applog.debug_enabled()
    path = applog.setup_logging(debug=True)
    assert applog.content("my secret plan") == "my secret plan"
    log.debug("visible in debug")
    assert "visible in debug" in path.read_text()


def test_an_unwritable_log_folder_falls_back_to_stderr(codenook_home: Path, capsys) -> None:
    codenook_home.mkdir()
    (codenook_home / "logs").write_text("a file where the folder should be")
    assert applog.setup_logging(debug=False) is None
    log.warning("still shown")
    err = capsys.readouterr().err
    assert "cannot write the log" in err and "still shown" in err


def test_the_debug_setting_comes_from_settings_toml() -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text("[logging]\ndebug = true\n")
    assert config.load_settings().logging.debug is True
    p.settings_file.write_text("[logging]\ndebug = 'yes'\n")
    assert config.load_settings().logging.debug is False
    # The bad value alone is left out (issue 17); the file stays where it is.
    assert p.settings_file.exists()
    assert not p.settings_file.with_name("settings.toml.corrupt").exists()


def test_a_full_disk_under_the_log_is_one_line_not_a_traceback_per_event(capsys) -> None:
    log_path = applog.log_file()
    log_path.parent.mkdir(parents=True)
    # Every write to /dev/full fails with ENOSPC, as on a full disk.
    log_path.symlink_to("/dev/full")
    applog.setup_logging(debug=False)
    for n in range(3):
        log.warning("event %d", n)
    applog.shutdown_logging()
    err = capsys.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err
    assert err.count("cannot write the log") == 1
    assert "No space left on device" in err
    assert "event 2" in err, "warnings still reach the terminal"
