import stat
from dataclasses import replace
from pathlib import Path

import pytest

from codenook import config
from codenook.errors import ConfigError


def test_codenook_home_moves_every_path(codenook_home: Path) -> None:
    p = config.paths()
    for folder in (p.data, p.config, p.cache, p.logs):
        assert codenook_home in folder.parents
    assert p.settings_file.parent == p.config
    assert p.database.parent == p.data


def test_data_folder_is_private(codenook_home: Path) -> None:
    p = config.ensure_dirs()
    assert stat.S_IMODE(p.data.stat().st_mode) == 0o700
    assert stat.S_IMODE(p.config.stat().st_mode) == 0o700


def test_defaults_without_a_settings_file() -> None:
    s = config.load_settings()
    assert s.model.path is None
    assert s.model.context_length == 4096
    assert s.generation.max_tokens > 0


def test_settings_round_trip() -> None:
    s = config.with_overrides(
        config.Settings(), path="/m.gguf", temperature=0.0, stop=("END",), seed=7
    )
    config.save_settings(s)
    assert config.load_settings() == s


def test_corrupt_settings_are_kept_aside(caplog: pytest.LogCaptureFixture) -> None:
    p = config.ensure_dirs()
    p.settings_file.write_bytes(b"[model\ncontext_length = \xff")
    s = config.load_settings()
    assert s == config.Settings()
    aside = p.settings_file.with_name("settings.toml.corrupt")
    assert aside.read_bytes() == b"[model\ncontext_length = \xff"
    assert "unusable" in caplog.text


def test_out_of_range_setting_in_file_is_set_aside() -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text("[generation]\ntemperature = -1\n")
    assert config.load_settings().generation.temperature == config.GenerationSettings().temperature
    assert p.settings_file.with_name("settings.toml.corrupt").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("context_length", 10),
        ("threads", 0),
        ("temperature", 9.0),
        ("top_p", 0.0),
        ("max_tokens", 0),
        ("gpu_layers", -5),
    ],
)
def test_invalid_overrides_name_the_setting(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        config.with_overrides(config.Settings(), **{field: value})


def test_sandbox_settings_round_trip() -> None:
    s = replace(
        config.Settings(),
        sandbox=config.SandboxSettings(timeout=2.5, memory_mb=256, allow_unisolated=False),
    )
    config.save_settings(s)
    assert config.load_settings().sandbox == s.sandbox


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("timeout = 0", "sandbox.timeout"),
        ("memory_mb = 8", "sandbox.memory_mb"),
        ("processes = true", "sandbox.processes"),
        ("allow_unisolated = 'no'", "sandbox.allow_unisolated"),
    ],
)
def test_bad_sandbox_setting_names_itself(line: str, name: str, caplog) -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text(f"[sandbox]\n{line}\n")
    assert config.load_settings().sandbox == config.SandboxSettings()
    assert name in caplog.text


def test_editor_settings_round_trip() -> None:
    ui = replace(
        config.UiSettings(),
        editor_width=480,
        recent_files=("/a/x.py", "/b/y.sh"),
        autocomplete=False,
        autocomplete_delay_ms=250,
    )
    config.save_settings(replace(config.Settings(), ui=ui))
    assert config.load_settings().ui == ui
    assert config.UiSettings().autocomplete and config.UiSettings().autocomplete_delay_ms == 400


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("autocomplete_delay_ms = 0", "ui.autocomplete_delay_ms"),
        ("autocomplete = 'yes'", "ui.autocomplete"),
        ("editor_width = 5", "ui.editor_width"),
        ("recent_files = 'x.py'", "ui.recent_files"),
    ],
)
def test_bad_editor_setting_names_itself(line: str, name: str, caplog) -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text(f"[ui]\n{line}\n")
    assert config.load_settings().ui == config.UiSettings()
    assert name in caplog.text


def test_private_folders_that_exist_are_left_as_they_are(codenook_home: Path) -> None:
    p = config.ensure_dirs()
    # A user made the data folder read-only (an archive): starting must not undo it.
    p.data.chmod(0o500)
    try:
        config.ensure_dirs()
        assert stat.S_IMODE(p.data.stat().st_mode) == 0o500
    finally:
        p.data.chmod(0o700)
    p.config.chmod(0o755)  # open to others: made private again
    config.ensure_dirs()
    assert stat.S_IMODE(p.config.stat().st_mode) == 0o700


@pytest.mark.parametrize("threads", [100_000, 5000])
def test_more_threads_than_cpus_are_lowered_with_a_warning(threads: int, caplog) -> None:
    cpus = config.cpu_count()
    p = config.ensure_dirs()
    p.settings_file.write_text(f"[model]\nthreads = {threads}\n")
    s = config.load_settings()
    assert s.model.threads == cpus
    assert f"model.threads = {threads} is more than this machine's {cpus} logical CPUs" in (
        caplog.text
    )
    assert p.settings_file.exists(), "a value meant for a bigger machine is not set aside"
    # The command line's --threads is held to the same bound.
    assert config.with_overrides(config.Settings(), threads=threads).model.threads == cpus
    assert config.with_overrides(config.Settings(), threads=1).model.threads == 1


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("[model]\npath = 5", "model.path"),
        ("[prompts]\nask = 5", "prompts.ask"),
        ("[sandbox]\nfile_size_mb = 9999999999999999", "sandbox.file_size_mb"),
        ("[sandbox]\nmemory_mb = 9223372036854775807", "sandbox.memory_mb"),
        ("[model]\nchat_format = ['chatml']", "model.chat_format"),
        ('[model]\npath = "a\\u0000b.gguf"', "model.path"),
        ("[ui]\ngeometry = 1100", "ui.geometry"),
        ("[routing]\nask = 1", "routing.ask"),
        ('[backends.box]\nurl = "http://h:1"\nmodel = 7', "backends.box.model"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_warning_not_a_crash(text: str, name: str, caplog) -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text(text + "\n")
    assert config.load_settings() == config.Settings()
    assert f"Setting {name} must be" in caplog.text
    assert p.settings_file.with_name("settings.toml.corrupt").exists()


def test_every_field_is_type_checked_wherever_settings_come_from() -> None:
    with pytest.raises(ConfigError, match=r"Setting model\.path must be text"):
        config.with_overrides(config.Settings(), path=5)
    bad = replace(config.Settings(), prompts=config.PromptSettings(review=["x"]))
    with pytest.raises(ConfigError, match=r"Setting prompts\.review must be text"):
        config.validate(bad)
    assert config.validate(config.Settings()) == config.Settings()
