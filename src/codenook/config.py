"""Settings and every path codenook uses.

All paths come from here. ``CODENOOK_HOME`` moves all of them under one folder
(tests set it to a temp dir); otherwise they follow the platform's user dirs.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import tomllib
import types
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from codenook.errors import ConfigError
from codenook.safefile import write_file

APP = "codenook"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Paths:
    """Where codenook keeps its files."""

    data: Path
    config: Path
    cache: Path
    logs: Path

    @property
    def settings_file(self) -> Path:
        """The TOML settings file."""
        return self.config / "settings.toml"

    @property
    def database(self) -> Path:
        """The SQLite database file."""
        return self.data / "codenook.db"

    @property
    def models(self) -> Path:
        """The default folder for model weights."""
        return self.data / "models"

    @property
    def model_registry(self) -> Path:
        """The TOML list of model files codenook knows (pulled or found by a scan)."""
        return self.config / "models.toml"


def paths() -> Paths:
    """Return the paths in force now (reads ``CODENOOK_HOME`` each call)."""
    home = os.environ.get("CODENOOK_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(root / "data", root / "config", root / "cache", root / "logs")
    return Paths(
        Path(platformdirs.user_data_dir(APP)),
        Path(platformdirs.user_config_dir(APP)),
        Path(platformdirs.user_cache_dir(APP)),
        Path(platformdirs.user_log_dir(APP)),
    )


def ensure_dirs(p: Paths | None = None) -> Paths:
    """Create codenook's folders; the data, config and logs folders are private (0700).

    Folders that exist and are private are left as they are (a folder the user made
    read-only stays read-only), and a folder that cannot be created or changed (a
    read-only disk) is not an error here: whatever then needs to write says so.
    """
    p = p or paths()
    for folder in (p.data, p.config, p.cache, p.logs):
        if not folder.is_dir():
            try:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                log.debug("Cannot create %s: %s", folder, exc)
    # Conversations and accounts live here: nobody else may read them.
    for folder in (p.data, p.config, p.logs):
        make_private(folder)
    return p


def make_private(path: Path, mode: int = 0o700) -> None:
    """Give ``path`` ``mode`` if group or others have any access to it; else leave it be."""
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(mode)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("Cannot make %s private (%s); others may be able to read it.", path, exc)


#: The model runtimes a setting may name ("auto": chosen by what the model location is).
RUNTIMES = ("auto", "llama.cpp", "transformers")


@dataclass(frozen=True)
class ModelSettings:
    """How the model is loaded. ``None`` means: choose for this machine."""

    path: str | None = None
    context_length: int = 4096
    threads: int | None = None
    gpu_layers: int | None = None
    #: A prompt format name (``codenook prompt --list``); None: the model file decides.
    chat_format: str | None = None
    #: Which runtime opens the model (engine/runtimes.py): "auto" chooses by what it is.
    runtime: str = "auto"
    #: transformers on CUDA: load the weights in 4 bits (bitsandbytes) to fit a smaller GPU.
    four_bit: bool = False
    #: A LoRA adapter from 'codenook tune' (its name; a checked file path once resolved).
    adapter: str | None = None


@dataclass(frozen=True)
class GenerationSettings:
    """How answers are sampled."""

    temperature: float = 0.2
    top_p: float = 0.95
    max_tokens: int = 1024
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True)
class ModelsSettings:
    """Where model weights live. ``None`` means the data folder's ``models/``."""

    folder: str | None = None
    #: The window's first-run question (embedded, a folder, or a download) was answered.
    first_run_done: bool = False

    def folder_path(self, p: Paths | None = None) -> Path:
        """The weights folder in force."""
        return Path(self.folder).expanduser() if self.folder else (p or paths()).models


@dataclass(frozen=True)
class UiSettings:
    """How the window looks; remembered between runs."""

    theme: str = "light"
    font_size: int = 11
    geometry: str = "1100x760"
    sidebar_width: int = 240
    recent_models: tuple[str, ...] = ()
    #: The editor pane beside the chat (Ctrl+E): its width and the files opened last.
    editor_width: int = 560
    recent_files: tuple[str, ...] = ()
    #: Ghost-text completion after typing pauses for ``autocomplete_delay_ms``.
    autocomplete: bool = True
    autocomplete_delay_ms: int = 400


@dataclass(frozen=True)
class PromptSettings:
    """System prompts per job; empty means codenook's built-in prompt for that job."""

    ask: str = ""
    generate: str = ""
    complete: str = ""
    review: str = ""
    debug: str = ""
    document: str = ""


@dataclass(frozen=True)
class SandboxSettings:
    """Limits for code that codenook runs, and whether an unisolated run is allowed."""

    timeout: float = 10.0
    memory_mb: int = 512
    processes: int = 64
    file_size_mb: int = 10
    output_kb: int = 1024
    # Where no isolation works, run with limits only (every result says so) or refuse.
    allow_unisolated: bool = True


@dataclass(frozen=True)
class LoggingSettings:
    """What the error log may hold."""

    # Off by default: message content in a log file outlives the history the user deletes.
    debug: bool = False


#: The jobs that can each be routed to a backend (``[routing]``).
JOB_NAMES = ("ask", "generate", "complete", "review", "debug", "document")
#: The routing value that means: the model in this process.
LOCAL = "local"


@dataclass(frozen=True)
class RemoteBackendSettings:
    """A named OpenAI-compatible server (``[backends.NAME]``). Its API key is never here."""

    url: str
    #: The server's model to use; empty: the first one the server lists.
    model: str = ""
    connect_timeout: float = 5.0
    #: Seconds without a byte from the server before the request counts as timed out.
    read_timeout: float = 120.0
    #: The context the server's model holds (OpenAI-compatible servers do not say).
    context_length: int = 4096
    #: Fill-in-the-middle: "chat" (an instruction), "suffix" (the completions endpoint's
    #: suffix field: Ollama, llama-cpp-python) or a FIM format name sent as a raw prompt.
    fill: str = "chat"


@dataclass(frozen=True)
class RoutingSettings:
    """Which backend each job uses: "local" or the name of a ``[backends.NAME]``."""

    ask: str = LOCAL
    generate: str = LOCAL
    complete: str = LOCAL
    review: str = LOCAL
    debug: str = LOCAL
    document: str = LOCAL
    #: When a remote backend is down or times out, answer with the local model instead.
    failover: bool = False

    def for_job(self, job: str) -> str:
        """The backend name for ``job`` (jobs outside the list run locally)."""
        return getattr(self, job, LOCAL) if job in JOB_NAMES else LOCAL


@dataclass(frozen=True)
class Settings:
    """Everything a user can set in settings.toml."""

    model: ModelSettings = field(default_factory=ModelSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    prompts: PromptSettings = field(default_factory=PromptSettings)
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    models: ModelsSettings = field(default_factory=ModelsSettings)
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    #: Named remote backends, by name.
    backends: dict[str, RemoteBackendSettings] = field(default_factory=dict)


_SECTIONS = {
    "model": ModelSettings,
    "generation": GenerationSettings,
    "ui": UiSettings,
    "prompts": PromptSettings,
    "sandbox": SandboxSettings,
    "logging": LoggingSettings,
    "models": ModelsSettings,
    "routing": RoutingSettings,
}
_BACKEND_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_backend_name(name: str) -> str:
    """``name`` if it can name a backend (letters, digits, ``_.-``; not "local")."""
    if name == LOCAL or not _BACKEND_NAME.fullmatch(name):
        raise ConfigError(
            f"{name!r} cannot name a backend: use letters, digits, '_', '.' or '-' "
            f"(at most 64), and not {LOCAL!r}."
        )
    return name


def _backends(raw: Any) -> dict[str, RemoteBackendSettings]:
    if not isinstance(raw, dict):
        raise ConfigError("[backends] in the settings file must be a table of tables.")
    found = {}
    for name, table in raw.items():
        check_backend_name(name)
        if not isinstance(table, dict) or not isinstance(table.get("url"), str):
            raise ConfigError(f'[backends.{name}] needs url = "http://HOST:PORT".')
        found[name] = _section(RemoteBackendSettings, table, f"backends.{name}")
    return found


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    # bool is an int subclass; `true` in TOML must not pass as a number.
    return isinstance(value, int) and not isinstance(value, bool)


def _section(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{where}] in the settings file must be a table.")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            log.warning("Ignoring unknown setting %s.%s", where, key)
            continue
        if key in ("stop", "recent_models", "recent_files"):
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise ConfigError(f"{where}.{key} must be a list of strings.")
            value = tuple(value)
        values[key] = value
    return cls(**values)


def validate(settings: Settings) -> Settings:
    """Check types and value ranges; raise ConfigError naming the bad setting.

    Returns the settings, with what this machine cannot do (too many threads) lowered.
    """
    _check_types(settings)
    m, g, sb = settings.model, settings.generation, settings.sandbox
    checks = [
        (
            isinstance(m.context_length, int) and m.context_length >= 64,
            "model.context_length",
            "an integer of at least 64",
        ),
        (
            m.threads is None or (isinstance(m.threads, int) and m.threads >= 1),
            "model.threads",
            "a positive integer",
        ),
        (
            m.gpu_layers is None or (isinstance(m.gpu_layers, int) and m.gpu_layers >= -1),
            "model.gpu_layers",
            "-1 (all), 0 (CPU) or a number of layers",
        ),
        (
            m.chat_format is None or (isinstance(m.chat_format, str) and m.chat_format.strip()),
            "model.chat_format",
            "a prompt format name (see 'codenook prompt --list')",
        ),
        (m.runtime in RUNTIMES, "model.runtime", " or ".join(RUNTIMES)),
        (isinstance(m.four_bit, bool), "model.four_bit", "true or false"),
        (
            m.adapter is None or (isinstance(m.adapter, str) and m.adapter.strip()),
            "model.adapter",
            "an adapter name (see 'codenook tune list')",
        ),
        (
            isinstance(g.temperature, int | float) and 0 <= g.temperature <= 5,
            "generation.temperature",
            "a number from 0 to 5",
        ),
        (
            isinstance(g.top_p, int | float) and 0 < g.top_p <= 1,
            "generation.top_p",
            "a number above 0 and at most 1",
        ),
        (
            isinstance(g.max_tokens, int) and g.max_tokens >= 1,
            "generation.max_tokens",
            "a positive integer",
        ),
        (g.seed is None or isinstance(g.seed, int), "generation.seed", "an integer"),
        (settings.ui.theme in ("light", "dark"), "ui.theme", "light or dark"),
        (
            isinstance(settings.ui.font_size, int) and 6 <= settings.ui.font_size <= 40,
            "ui.font_size",
            "an integer from 6 to 40",
        ),
        (
            _is_int(settings.ui.editor_width) and settings.ui.editor_width >= 100,
            "ui.editor_width",
            "a width in pixels of at least 100",
        ),
        (isinstance(settings.ui.autocomplete, bool), "ui.autocomplete", "true or false"),
        (
            _is_int(settings.ui.autocomplete_delay_ms)
            and 50 <= settings.ui.autocomplete_delay_ms <= 10_000,
            "ui.autocomplete_delay_ms",
            "milliseconds from 50 to 10000",
        ),
        (
            _number(sb.timeout) and 0 < sb.timeout <= 3600,
            "sandbox.timeout",
            "a number of seconds above 0 and at most 3600",
        ),
        (
            _is_int(sb.memory_mb) and sb.memory_mb >= 32,
            "sandbox.memory_mb",
            "an integer of at least 32",
        ),
        (_is_int(sb.processes) and sb.processes >= 1, "sandbox.processes", "a positive integer"),
        (
            _is_int(sb.file_size_mb) and sb.file_size_mb >= 1,
            "sandbox.file_size_mb",
            "a positive integer",
        ),
        (_is_int(sb.output_kb) and sb.output_kb >= 1, "sandbox.output_kb", "a positive integer"),
        (isinstance(sb.allow_unisolated, bool), "sandbox.allow_unisolated", "true or false"),
        (isinstance(settings.logging.debug, bool), "logging.debug", "true or false"),
        (
            isinstance(settings.models.first_run_done, bool),
            "models.first_run_done",
            "true or false",
        ),
        (
            settings.models.folder is None
            or (isinstance(settings.models.folder, str) and settings.models.folder.strip()),
            "models.folder",
            "the path of a folder",
        ),
    ]
    r = settings.routing
    checks += [
        (isinstance(getattr(r, job), str), f"routing.{job}", '"local" or a backend name')
        for job in JOB_NAMES
    ]
    checks.append((isinstance(r.failover, bool), "routing.failover", "true or false"))
    for name, b in settings.backends.items():
        where = f"backends.{name}"
        checks += [
            (
                b.url.startswith(("http://", "https://")),
                f"{where}.url",
                "an http:// or https:// URL",
            ),
            (isinstance(b.model, str), f"{where}.model", "a model name"),
            (
                _number(b.connect_timeout) and 0 < b.connect_timeout <= 600,
                f"{where}.connect_timeout",
                "a number of seconds above 0 and at most 600",
            ),
            (
                _number(b.read_timeout) and 0 < b.read_timeout <= 3600,
                f"{where}.read_timeout",
                "a number of seconds above 0 and at most 3600",
            ),
            (
                _is_int(b.context_length) and b.context_length >= 64,
                f"{where}.context_length",
                "an integer of at least 64",
            ),
            (
                isinstance(b.fill, str) and b.fill.strip(),
                f"{where}.fill",
                '"chat", "suffix" or a FIM format',
            ),
        ]
    for ok, name, expected in checks:
        if not ok:
            raise ConfigError(f"Setting {name} must be {expected}.")
    return _within_machine(settings)


def cpu_count() -> int:
    """How many logical CPUs this machine has."""
    return os.cpu_count() or 1


def _within_machine(settings: Settings) -> Settings:
    """``settings`` with what this machine cannot do lowered to what it can, with a warning.

    More llama.cpp threads than logical CPUs only slow it down, and tens of thousands
    crash or hang it; a settings file may come from a bigger machine, so this is no error.
    """
    cpus, threads = cpu_count(), settings.model.threads
    if threads is not None and threads > cpus:
        _warn_once(
            f"Setting model.threads = {threads} is more than this machine's {cpus} logical "
            f"CPUs; using {cpus}."
        )
        settings = replace(settings, model=replace(settings.model, threads=cpus))
    return settings


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    # Settings are read more than once per command; one warning is enough.
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


#: The largest whole number a setting may hold: what the C libraries underneath take.
INT_LIMIT = 2**31 - 1


def _fits(value: Any, hint: Any) -> bool:
    """Whether ``value`` has the type a settings field is declared with."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(hint, types.UnionType) or origin is typing.Union:
        return any(_fits(value, arg) for arg in args)
    if origin is tuple:
        return isinstance(value, tuple | list) and all(_fits(v, args[0]) for v in value)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return _is_int(value) and -INT_LIMIT - 1 <= value <= INT_LIMIT
    if hint is float:
        return _number(value) and abs(value) <= 1e300
    if hint is str:
        # A NUL cannot pass into a path or a C string.
        return isinstance(value, str) and "\x00" not in value
    return True


def _described(hint: Any) -> str:
    """A settings field's type in words."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        named = [_described(arg) for arg in args if arg is not type(None)]
        return " or ".join(named) + (" (or left out)" if type(None) in args else "")
    if typing.get_origin(hint) is tuple:
        return "a list of strings"
    return {
        bool: "true or false",
        int: f"a whole number no larger than {INT_LIMIT}",
        float: "a number",
        str: "text in quotes (without NUL characters)",
    }.get(hint, str(hint))


def _check_types(settings: Settings) -> None:
    """Raise ConfigError naming the first setting whose value is not of its field's type."""
    sections: list[tuple[str, Any]] = [(name, getattr(settings, name)) for name in _SECTIONS]
    sections += [(f"backends.{name}", b) for name, b in settings.backends.items()]
    for where, section in sections:
        hints = typing.get_type_hints(type(section))
        for f in fields(section):
            value = getattr(section, f.name)
            if not _fits(value, hints[f.name]):
                shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
                raise ConfigError(
                    f"Setting {where}.{f.name} must be {_described(hints[f.name])}, not {shown}."
                )


def load_settings(p: Paths | None = None) -> Settings:
    """Read settings.toml; an unreadable file is kept aside and defaults are used."""
    p = p or paths()
    file = p.settings_file
    if not file.exists():
        return Settings()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        _warn_once(f"Cannot read the settings file {file} ({exc.strerror}); using defaults.")
        return Settings()
    except UnicodeDecodeError as exc:
        return _set_aside(file, exc)
    try:
        raw = tomllib.loads(text)
        settings = Settings(
            **{name: _section(cls, raw.get(name, {}), name) for name, cls in _SECTIONS.items()},
            backends=_backends(raw.get("backends", {})),
        )
        return validate(settings)
    except (tomllib.TOMLDecodeError, ConfigError, TypeError) as exc:
        return _set_aside(file, exc)


def _set_aside(file: Path, problem: Exception) -> Settings:
    """Keep an unusable settings file as ``settings.toml.corrupt``; the defaults, with a warning."""
    aside = file.with_name(file.name + ".corrupt")
    try:
        file.replace(aside)
    except OSError as exc:
        # A read-only config folder: the file stays where it is, unused.
        _warn_once(
            f"Settings file {file} is unusable ({problem}); using defaults (it could not be "
            f"kept aside: {exc.strerror})."
        )
    else:
        log.warning(
            "Settings file %s is unusable (%s); kept as %s, using defaults.", file, problem, aside
        )
    return Settings()


def save_settings(settings: Settings, p: Paths | None = None) -> Path:
    """Write settings.toml atomically and return its path (FileWriteError when it cannot)."""
    p = ensure_dirs(p)
    data: dict[str, Any] = {}
    for name in _SECTIONS:
        section = {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(getattr(settings, name)).items()
            if v is not None
        }
        data[name] = section
    data["backends"] = {name: asdict(b) for name, b in settings.backends.items()}
    # The one safe write: a fresh temporary file, synced, renamed; a link is not followed.
    write_file(p.settings_file, tomli_w.dumps(data))
    return p.settings_file


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    """Return settings with model/generation fields replaced where a value is not None."""
    model = {
        k: v
        for k, v in changes.items()
        if v is not None and k in {f.name for f in fields(ModelSettings)}
    }
    gen = {
        k: v
        for k, v in changes.items()
        if v is not None and k in {f.name for f in fields(GenerationSettings)}
    }
    return validate(
        replace(
            settings,
            model=replace(settings.model, **model),
            generation=replace(settings.generation, **gen),
        )
    )
