"""Settings and every path codenook uses.

All paths come from here. ``CODENOOK_HOME`` moves all of them under one folder
(tests set it to a temp dir); otherwise they follow the platform's user dirs.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from codenook.errors import ConfigError

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
    """Create codenook's folders; the data folder is private (0700)."""
    p = p or paths()
    for folder in (p.data, p.config, p.cache, p.logs):
        folder.mkdir(parents=True, exist_ok=True)
    # Conversations and accounts live here: nobody else may read them.
    for folder in (p.data, p.config, p.logs):
        folder.chmod(0o700)
    return p


@dataclass(frozen=True)
class ModelSettings:
    """How the model is loaded. ``None`` means: choose for this machine."""

    path: str | None = None
    context_length: int = 4096
    threads: int | None = None
    gpu_layers: int | None = None


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

    def folder_path(self, p: Paths | None = None) -> Path:
        """The weights folder in force."""
        return Path(self.folder).expanduser() if self.folder else (p or paths()).models


@dataclass(frozen=True)
class Settings:
    """Everything a user can set in settings.toml."""

    model: ModelSettings = field(default_factory=ModelSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    models: ModelsSettings = field(default_factory=ModelsSettings)


_SECTIONS = {"model": ModelSettings, "generation": GenerationSettings, "models": ModelsSettings}


def _section(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{where}] in the settings file must be a table.")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            log.warning("Ignoring unknown setting %s.%s", where, key)
            continue
        if key == "stop":
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise ConfigError(f"{where}.stop must be a list of strings.")
            value = tuple(value)
        values[key] = value
    return cls(**values)


def validate(settings: Settings) -> Settings:
    """Check value ranges; raise ConfigError naming the bad setting."""
    m, g = settings.model, settings.generation
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
        (
            settings.models.folder is None
            or (isinstance(settings.models.folder, str) and settings.models.folder.strip()),
            "models.folder",
            "the path of a folder",
        ),
    ]
    for ok, name, expected in checks:
        if not ok:
            raise ConfigError(f"Setting {name} must be {expected}.")
    return settings


def load_settings(p: Paths | None = None) -> Settings:
    """Read settings.toml; an unreadable file is kept aside and defaults are used."""
    p = p or paths()
    file = p.settings_file
    if not file.exists():
        return Settings()
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
        settings = Settings(
            **{name: _section(cls, raw.get(name, {}), name) for name, cls in _SECTIONS.items()}
        )
        return validate(settings)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, ConfigError, TypeError) as exc:
        aside = file.with_name(file.name + ".corrupt")
        file.replace(aside)
        log.warning(
            "Settings file %s is unusable (%s); kept as %s, using defaults.", file, exc, aside
        )
        return Settings()


def save_settings(settings: Settings, p: Paths | None = None) -> Path:
    """Write settings.toml atomically and return its path."""
    p = ensure_dirs(p)
    data: dict[str, Any] = {}
    for name in _SECTIONS:
        section = {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(getattr(settings, name)).items()
            if v is not None
        }
        data[name] = section
    tmp = p.settings_file.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    tmp.replace(p.settings_file)
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
