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
