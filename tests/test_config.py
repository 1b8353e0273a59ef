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


def test_out_of_range_setting_in_file_is_dropped_alone() -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text("[generation]\ntemperature = -1\nmax_tokens = 99\n")
    s = config.load_settings()
    assert s.generation.temperature == config.GenerationSettings().temperature
    assert s.generation.max_tokens == 99
    assert p.settings_file.exists()
    assert not p.settings_file.with_name("settings.toml.corrupt").exists()


def test_one_bad_value_is_named_and_everything_else_still_applies(caplog) -> None:
    p = config.ensure_dirs()
    text = (
        "[generation]\ntemperature = 9\nmax_tokens = 77\n"
        '[routing]\nreview = "xeon"\n'
        '[prompts]\nask = "Answer in one sentence."\n'
        '[backends.xeon]\nurl = "http://10.0.0.5:8642"\n'
    )
    p.settings_file.write_text(text)
    s = config.load_settings()
    assert s.generation.temperature == config.GenerationSettings().temperature
    assert s.generation.max_tokens == 77
    assert s.routing.for_job("review") == "xeon" and s.routing.review == "xeon"
    assert s.prompts.ask == "Answer in one sentence."
    assert s.backends["xeon"].url == "http://10.0.0.5:8642"
    # The key, the value and the rule, in one line the user can act on; the file stays.
    assert "generation.temperature must be a number from 0 to 5, not 9" in caplog.text
    assert p.settings_file.read_text() == text
    # The same warning, handed back to a caller that shows it.
    loaded = config.read_settings()
    assert loaded.settings == s
    (warning,) = loaded.warnings
    assert "generation.temperature" in warning and "not 9" in warning
    assert "a number from 0 to 5" in warning and str(p.settings_file) in warning


def test_a_file_that_is_not_toml_is_still_kept_aside(caplog) -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text('[routing]\nreview = "xeon"\n[model\n')
    assert config.load_settings() == config.Settings()
    aside = p.settings_file.with_name("settings.toml.corrupt")
    assert aside.read_text() == '[routing]\nreview = "xeon"\n[model\n'
    assert "unusable" in caplog.text


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
    assert any("model.threads" in w for w in config.read_settings().warnings)
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
    s = config.load_settings()
    # The bad value alone is left out; a backend keeps its good values.
    assert replace(s, backends={}) == config.Settings()
    assert all(b.model == "" for b in s.backends.values())
    assert f"Setting {name} must be" in caplog.text
    assert p.settings_file.read_text() == text + "\n"
    assert not p.settings_file.with_name("settings.toml.corrupt").exists()


def test_every_field_is_type_checked_wherever_settings_come_from() -> None:
    with pytest.raises(ConfigError, match=r"Setting model\.path must be text"):
        config.with_overrides(config.Settings(), path=5)
    bad = replace(config.Settings(), prompts=config.PromptSettings(review=["x"]))
    with pytest.raises(ConfigError, match=r"Setting prompts\.review must be text"):
        config.validate(bad)
    assert config.validate(config.Settings()) == config.Settings()


def test_prompts_and_routing_accept_any_job_name() -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text(
        '[prompts]\nask = "Be brief."\nsummarize = "Summarize."\n'
        '[routing]\nsummarize = "box"\nfailover = true\n'
        '[backends.box]\nurl = "http://h:1"\n'
    )
    s = config.load_settings()
    # A job registered after this code was written needs no edit in config.
    assert s.prompts.summarize == "Summarize." and s.prompts.ask == "Be brief."
    assert s.prompts.review == "" and getattr(s.prompts, "review", "x") == ""
    assert s.routing.for_job("summarize") == "box" and s.routing.summarize == "box"
    assert s.routing.for_job("ask") == "local" and s.routing.failover is True
    config.save_settings(s)
    assert config.load_settings() == s
    # dataclasses.replace keeps working, per job and for failover.
    routed = replace(s.routing, ask="box", failover=False)
    assert (routed.ask, routed.summarize, routed.failover) == ("box", "box", False)
    assert replace(routed, ask="local") == replace(s.routing, failover=False)
    assert config.RoutingSettings(ask="local") == config.RoutingSettings()
    with pytest.raises(AttributeError):
        _ = s.prompts._private


def test_a_key_that_cannot_name_a_job_is_dropped_alone(caplog) -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text('[prompts]\n"Bad Job" = "x"\nask = "ok"\n[routing]\nreview = 5\n')
    loaded = config.read_settings()
    assert loaded.settings.prompts.ask == "ok"
    assert loaded.settings.prompts.as_dict() == {"ask": "ok"}
    assert loaded.settings.routing == config.RoutingSettings()
    said = "\n".join(loaded.warnings)
    assert "prompts.Bad Job" in said and "job's name" in said
    assert "Setting routing.review must be text" in said


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # A key named like a credential: its value is never shown, whatever it is.
        ("[prompts]\napi_token = 123456789", "123456789"),
        ('[routing]\npassword = ["hunter2-hunter2"]', "hunter2-hunter2"),
        # A value shaped like a token, in an ordinary key.
        ('[model]\nthreads = "hf_abcdefghijklmnopqrstuvwxyz012345"', "hf_abcdefghijklmnop"),
        # Credentials in a URL that is refused.
        ('[backends.box]\nurl = "ftp://ann:s3cretpass@h:1"', "s3cretpass"),
    ],
)
def test_a_secret_is_never_echoed_in_a_warning(text: str, secret: str, caplog) -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text(text + "\n")
    loaded = config.read_settings()
    config.load_settings()
    assert loaded.warnings, "the bad value is still reported"
    said = "\n".join(loaded.warnings)
    assert secret not in said and secret not in caplog.text
    assert "[REDACTED]" in said


def test_every_setting_declares_its_help_and_validate_follows_the_rules() -> None:
    for section in ("model", "generation", "ui", "prompts", "sandbox", "logging", "models"):
        for d in config.declared(section):
            assert d.about.strip(), f"{d.key} has no help text"
    assert all(d.about for d in config.declared(config.RemoteBackendSettings))
    temperature = next(d for d in config.declared("generation") if d.name == "temperature")
    assert temperature.rule.allows(5) and not temperature.rule.allows(5.01)
    with pytest.raises(ConfigError, match=r"generation\.temperature must be a number from 0 to 5"):
        config.validate(replace(config.Settings(), generation=config.GenerationSettings(9)))
    runtime = next(d for d in config.declared("model") if d.name == "runtime")
    assert runtime.rule.choices == config.RUNTIMES


def test_window_state_has_its_own_file_and_settings_toml_keeps_the_users_words() -> None:
    p = config.ensure_dirs()
    s = replace(config.Settings(), ui=replace(config.UiSettings(), theme="dark"))
    config.save_settings(s)
    written = p.settings_file.read_bytes()
    assert b"geometry" not in written and b"recent_files" not in written
    assert not p.state_file.exists(), "no state file while the state is the default"
    moved = replace(s, ui=replace(s.ui, geometry="900x600+10+20", recent_files=("/a.py",)))
    config.save_window_state(moved)
    assert p.settings_file.read_bytes() == written
    assert config.load_settings() == moved
    # Saving settings later writes the state too when it changed (a model chosen).
    chosen = replace(moved, ui=replace(moved.ui, recent_models=("/m.gguf",)))
    config.save_settings(chosen)
    assert config.load_settings() == chosen
    assert b"/m.gguf" not in p.settings_file.read_bytes()


def test_ui_state_in_an_old_settings_file_is_still_read(caplog) -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text('[ui]\ngeometry = "800x500"\neditor_width = 300\ntheme = "dark"\n')
    s = config.load_settings()
    assert (s.ui.geometry, s.ui.editor_width, s.ui.theme) == ("800x500", 300, "dark")
    config.save_window_state(replace(s, ui=replace(s.ui, editor_width=420)))
    s = config.load_settings()
    assert (s.ui.geometry, s.ui.editor_width) == ("800x500", 420)  # the state file wins
    assert not caplog.text


@pytest.mark.parametrize(
    "content", [b"{not json", b"[1, 2]", b"\xff\xfe", b'{"editor_width": "wide", "geometry": 5}']
)
def test_a_corrupt_state_file_is_ignored_with_a_warning(content: bytes, caplog) -> None:
    p = config.ensure_dirs()
    p.settings_file.write_text('[ui]\ntheme = "dark"\n')
    p.state_file.write_bytes(content)
    s = config.load_settings()
    assert s.ui == replace(config.UiSettings(), theme="dark")
    assert str(p.state_file) in caplog.text
    assert config.read_settings().warnings == (), "not the user's file: logged, not theirs to fix"
    config.save_window_state(s)  # the next close writes a good one
    assert config.load_settings() == s


def test_the_machine_wide_file_names_the_shared_models_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    system = tmp_path / "config.toml"
    monkeypatch.setenv(config.SYSTEM_CONFIG_ENV, str(system))
    assert config.system_models().shared_folder is None
    system.write_text('[models]\nshared_folder = "/srv/models"\n')
    assert config.system_models().shared_folder == "/srv/models"
    system.write_text("[models]\nshared_folder = 3\n")
    assert config.system_models().shared_folder is None
    assert "models.shared_folder" in caplog.text
    system.write_text("[models\n")
    assert config.system_models() == config.SystemModelsSettings()
    assert system.read_text() == "[models\n"  # the system's file: never set aside
