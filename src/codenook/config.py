"""Settings and every path codenook uses.

All paths come from here. ``CODENOOK_HOME`` moves all of them under one folder
(tests set it to a temp dir); otherwise they follow the platform's user dirs.

Each setting is declared once, at its field (``setting``): default, rule and help text.
Reading settings.toml, the command line's overrides, the settings dialog and the model
catalog all check against those declarations; a bad value in the file is left out alone,
with a warning that names it and its rule.
"""

from __future__ import annotations

import logging
import math
import os
import re
import stat
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from codenook import uistate
from codenook.errors import ConfigError
from codenook.redact import PLACEHOLDER, redact
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
    def state_file(self) -> Path:
        """The window's state between runs (size, panes, recent files): not user settings."""
        return self.data / "state.json"

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


# -- declaring a setting ------------------------------------------------------------------
# Each setting says once, at its field, what it may hold and what it is for
# (``setting(default, "help", rule=...)``): the checks below, the settings dialog and the
# model catalog's loader all read these declarations.


@dataclass(frozen=True)
class Rule:
    """What a value must be, as a check and in words ("a number from 0 to 5").

    A rule checks the value's type itself, so a loader without type hints (the model
    catalog) can use it alone.
    """

    says: str
    check: Callable[[Any], bool]
    #: The values a chooser offers; empty: any value that passes ``check``.
    choices: tuple[str, ...] = ()

    def allows(self, value: Any) -> bool:
        """Whether ``value`` keeps this rule."""
        try:
            return bool(self.check(value))
        except (TypeError, ValueError):
            return False


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    # bool is an int subclass; `true` in TOML must not pass as a number.
    return isinstance(value, int) and not isinstance(value, bool)


def number_in(low: float, high: float, says: str, *, above_low: bool = False) -> Rule:
    """A number from ``low`` (excluded with ``above_low``) to ``high``."""
    if above_low:
        return Rule(says, lambda v: _number(v) and low < v <= high)
    return Rule(says, lambda v: _number(v) and low <= v <= high)


def whole_from(low: int, says: str, high: float = math.inf) -> Rule:
    """A whole number from ``low`` to ``high``."""
    return Rule(says, lambda v: _is_int(v) and low <= v <= high)


def one_of(*choices: str) -> Rule:
    """One of ``choices``, exactly."""
    return Rule(" or ".join(choices), lambda v: v in choices, choices)


def text(says: str, *, pattern: re.Pattern[str] | None = None) -> Rule:
    """Text that is not blank (and matches ``pattern`` when one is given)."""
    return Rule(
        says,
        lambda v: (
            isinstance(v, str)
            and bool(v.strip())
            and (pattern is None or pattern.fullmatch(v) is not None)
        ),
    )


def setting(
    default: Any = MISSING,
    about: str = "",
    *,
    rule: Rule | None = None,
    state: bool = False,
    label: str = "",
    jobs: bool = False,
) -> Any:
    """Declare a settings field: its default, the rule its value keeps, and its help text.

    ``state``: the window writes it as it closes (kept in the state file, not in
    settings.toml). ``jobs``: the field holds one value per job (``[prompts]``, ``[routing]``).
    """
    metadata = {"about": about, "rule": rule, "state": state, "label": label, "jobs": jobs}
    return field(default=default, metadata=metadata)


#: The model runtimes a setting may name ("auto": chosen by what the model location is).
RUNTIMES = ("auto", "llama.cpp", "transformers")
#: How the window's size and place are written (Tk's WIDTHxHEIGHT+X+Y).
_GEOMETRY = re.compile(r"\d+x\d+(?:[+-]-?\d+[+-]-?\d+)?")
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class ModelSettings:
    """How the model is loaded. ``None`` means: choose for this machine."""

    path: str | None = setting(
        None, "A GGUF file or a model folder; empty: the embedded model.", label="Model"
    )
    context_length: int = setting(
        4096,
        "Tokens the model holds at once: the conversation, attached files and the answer.",
        rule=whole_from(64, "an integer of at least 64"),
    )
    threads: int | None = setting(
        None,
        "CPU threads for llama.cpp; empty: the machine's physical cores.",
        rule=whole_from(1, "a positive integer"),
    )
    gpu_layers: int | None = setting(
        None,
        "Layers on the GPU: -1 all, 0 none (CPU only); empty: as many as fit.",
        rule=whole_from(-1, "-1 (all), 0 (CPU) or a number of layers"),
        label="GPU layers",
    )
    chat_format: str | None = setting(
        None,
        "A prompt format name (codenook prompt --list); empty: the model file decides.",
        rule=text("a prompt format name (see 'codenook prompt --list')"),
    )
    runtime: str = setting(
        "auto", "Which runtime opens the model; auto chooses by what it is.", rule=one_of(*RUNTIMES)
    )
    kv_cache: str = setting(
        "f16",
        "llama.cpp's attention cache: f16 (the best answers) or q8_0 (half the memory; "
        "drafted answers are then token for token the plain ones).",
        rule=one_of("f16", "q8_0"),
        label="KV cache",
    )
    four_bit: bool = setting(
        False,
        "transformers on CUDA: load the weights in 4 bits to fit a smaller GPU.",
        label="4-bit weights",
    )
    adapter: str | None = setting(
        None,
        "A LoRA adapter from 'codenook tune' (its name); empty: none.",
        rule=text("an adapter name (see 'codenook tune list')"),
        label="LoRA adapter",
    )


@dataclass(frozen=True)
class GenerationSettings:
    """How answers are sampled."""

    temperature: float = setting(
        0.2,
        "Randomness of the answer: 0 always takes the likeliest word.",
        rule=number_in(0, 5, "a number from 0 to 5"),
    )
    top_p: float = setting(
        0.95,
        "Sample only from the likeliest words that together reach this share.",
        rule=number_in(0, 1, "a number above 0 and at most 1", above_low=True),
        label="Top p",
    )
    max_tokens: int = setting(
        1024,
        "The longest answer, in tokens.",
        rule=whole_from(1, "a positive integer"),
        label="Max new tokens",
    )
    stop: tuple[str, ...] = setting(
        (), 'Texts that end an answer when the model writes them, as a list: ["END"].'
    )
    seed: int | None = setting(None, "A fixed seed makes answers repeatable; empty: random.")
    draft: str = setting(
        "auto",
        "Prompt-lookup drafting: copy runs of the prompt in batches. auto: the edit jobs "
        "(review, debug, doc); on: every answer; off: never.",
        rule=one_of("auto", "on", "off"),
        label="Drafting",
    )
    edit_grammar: bool = setting(
        True,
        "Hold review and debug diffs to a grammar drawn from the file, so every hunk reads "
        "the file's own lines and applies (runtimes with grammars: llama.cpp, codenook serve).",
        label="Edit grammar",
    )


@dataclass(frozen=True)
class ModelsSettings:
    """Where model weights live. ``None`` means the data folder's ``models/``."""

    folder: str | None = setting(
        None,
        "Where model weights are kept; empty: the data folder's models/.",
        rule=text("the path of a folder"),
    )
    first_run_done: bool = setting(
        False, "The window's first-run question (embedded, a folder, a download) was answered."
    )

    def folder_path(self, p: Paths | None = None) -> Path:
        """The weights folder in force."""
        return Path(self.folder).expanduser() if self.folder else (p or paths()).models


#: Machine-wide settings, written by the Debian package (its debconf question; changed with
#: ``dpkg-reconfigure codenook``); ``CODENOOK_SYSTEM_CONFIG`` names another file (tests).
SYSTEM_CONFIG = Path("/etc/codenook/config.toml")
SYSTEM_CONFIG_ENV = "CODENOOK_SYSTEM_CONFIG"


@dataclass(frozen=True)
class SystemModelsSettings:
    """The ``[models]`` table of the machine-wide settings file."""

    shared_folder: str | None = setting(
        None,
        "A models folder shared by everyone on this machine (group codenook may add to it); "
        "empty: none.",
        rule=text("the path of a folder"),
    )


def system_config_file() -> Path:
    """The machine-wide settings file in force."""
    return Path(os.environ.get(SYSTEM_CONFIG_ENV) or SYSTEM_CONFIG)


def system_models() -> SystemModelsSettings:
    """The machine-wide ``[models]`` settings; defaults (with a warning) where unreadable.

    The file belongs to the system: it is read, never written or set aside here.
    """
    file = system_config_file()
    problems: list[str] = []
    raw: dict[str, Any] = {}
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8")) if file.is_file() else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"cannot be read ({exc})")
    values = _values(SystemModelsSettings, raw.get("models", {}), "models", problems)
    for problem in problems:
        _warn_once(f"Machine-wide settings file {file}: {problem}.")
    return SystemModelsSettings(**values)


@dataclass(frozen=True)
class UiSettings:
    """How the window looks, and (``state``) what it remembers between runs."""

    theme: str = setting("light", "The window's colours.", rule=one_of("light", "dark"))
    font_size: int = setting(
        11, "Text size in points.", rule=whole_from(6, "an integer from 6 to 40", 40)
    )
    geometry: str = setting(
        "1100x760",
        "The window's size and place, as it was closed.",
        rule=text("a size and place such as 1100x760+0+0", pattern=_GEOMETRY),
        state=True,
    )
    sidebar_width: int = setting(
        240,
        "The conversation list's width, as it was closed.",
        rule=whole_from(0, "a width in pixels"),
        state=True,
    )
    recent_models: tuple[str, ...] = setting((), "Models chosen lately.", state=True)
    editor_width: int = setting(
        560,
        "The editor pane's width, as it was last shown.",
        rule=whole_from(100, "a width in pixels of at least 100"),
        state=True,
    )
    recent_files: tuple[str, ...] = setting((), "Files opened lately in the editor.", state=True)
    autocomplete: bool = setting(True, "Ghost-text completion in the editor after a pause.")
    autocomplete_delay_ms: int = setting(
        400,
        "How long typing pauses before a completion is asked for, in milliseconds.",
        rule=whole_from(50, "milliseconds from 50 to 10000", 10_000),
        label="Completion delay (ms)",
    )


@dataclass(frozen=True)
class SandboxSettings:
    """Limits for code that codenook runs, and whether an unisolated run is allowed."""

    timeout: float = setting(
        10.0,
        "Seconds a run may take.",
        rule=number_in(0, 3600, "a number of seconds above 0 and at most 3600", above_low=True),
    )
    memory_mb: int = setting(
        512, "Memory a run may use, in MB.", rule=whole_from(32, "an integer of at least 32")
    )
    processes: int = setting(
        64, "Processes a run may start.", rule=whole_from(1, "a positive integer")
    )
    file_size_mb: int = setting(
        10, "The largest file a run may write, in MB.", rule=whole_from(1, "a positive integer")
    )
    output_kb: int = setting(
        1024, "Output kept from a run, in KB.", rule=whole_from(1, "a positive integer")
    )
    # Where no isolation works, run with limits only (every result says so) or refuse.
    allow_unisolated: bool = setting(
        True, "Where no isolation works, run with limits only (each result says so)."
    )


@dataclass(frozen=True)
class LoggingSettings:
    """What the error log may hold."""

    # Off by default: message content in a log file outlives the history the user deletes.
    debug: bool = setting(
        False, "Write message content to the error log (off: it outlives deletes)."
    )


#: The routing value that means: the model in this process.
LOCAL = "local"
#: What a key in [prompts] and [routing] looks like: a job's name.
JOB_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_JOB_KEY_SAYS = "a job's name (lower-case letters, digits and '_')"


def _job_pairs(
    given: Iterable[tuple[str, Any]] | Mapping[str, Any], more: Mapping[str, Any], default: str
) -> tuple[tuple[str, Any], ...]:
    """Job values as sorted pairs, those that say the default left out (so equal means same)."""
    merged = dict(given.items() if isinstance(given, Mapping) else given)
    merged.update(more)
    return tuple(sorted((k, v) for k, v in merged.items() if v != default))


class JobTable:
    """A frozen table of values by job name that accepts any job.

    A job registered later needs no edit here: ``table.ask`` (any job's name) reads its
    value, or the table's default when the settings name none.
    """

    _jobs: tuple[tuple[str, Any], ...]
    _default = ""

    def __getattr__(self, name: str) -> Any:
        # Only for job names: anything else (copy's and pickle's probes) is really missing.
        if name.startswith("_") or not JOB_KEY.fullmatch(name):
            raise AttributeError(name)
        return self.get(name)

    def get(self, job: str, default: Any = None) -> Any:
        """The value for ``job``: the setting, else ``default``, else the table's default."""
        for key, value in self._jobs:
            if key == job:
                return value
        return self._default if default is None else default

    def as_dict(self) -> dict[str, Any]:
        """The jobs the settings name, with their values."""
        return dict(self._jobs)


@dataclass(frozen=True, init=False)
class PromptSettings(JobTable):
    """System prompts by job; empty means codenook's built-in prompt for that job."""

    _jobs: tuple[tuple[str, Any], ...] = setting(
        (), "The system prompt for this job; empty: codenook's built-in prompt.", jobs=True
    )

    def __init__(self, _jobs: Iterable[tuple[str, Any]] = (), **by_job: Any) -> None:
        object.__setattr__(self, "_jobs", _job_pairs(_jobs, by_job, ""))


@dataclass(frozen=True, init=False)
class RoutingSettings(JobTable):
    """Which backend each job uses: "local" or the name of a ``[backends.NAME]``."""

    _default = LOCAL
    _jobs: tuple[tuple[str, Any], ...] = setting(
        (), 'Where the job is answered: "local" or the name of a [backends.NAME].', jobs=True
    )
    failover: bool = setting(
        False, "When a remote backend is down or times out, answer with the local model."
    )

    def __init__(
        self, _jobs: Iterable[tuple[str, Any]] = (), *, failover: bool = False, **by_job: Any
    ) -> None:
        object.__setattr__(self, "_jobs", _job_pairs(_jobs, by_job, LOCAL))
        object.__setattr__(self, "failover", failover)

    def for_job(self, job: str) -> str:
        """The backend name for ``job`` (a job the settings do not route runs locally)."""
        return self.get(job)


@dataclass(frozen=True)
class RemoteBackendSettings:
    """A named OpenAI-compatible server (``[backends.NAME]``). Its API key is never here."""

    url: str = setting(
        about="The server's address.", rule=text("an http:// or https:// URL", pattern=_URL)
    )
    model: str = setting("", "The server's model to use; empty: the first one it lists.")
    connect_timeout: float = setting(
        5.0,
        "Seconds to wait for a connection.",
        rule=number_in(0, 600, "a number of seconds above 0 and at most 600", above_low=True),
    )
    read_timeout: float = setting(
        120.0,
        "Seconds without a byte from the server before the request counts as timed out.",
        rule=number_in(0, 3600, "a number of seconds above 0 and at most 3600", above_low=True),
    )
    context_length: int = setting(
        4096,
        "The context the server's model holds (OpenAI-compatible servers do not say).",
        rule=whole_from(64, "an integer of at least 64"),
    )
    #: "chat" (an instruction), "suffix" (the completions endpoint's suffix field: Ollama,
    #: llama-cpp-python) or a FIM format name sent as a raw prompt.
    fill: str = setting(
        "chat",
        'Fill-in-the-middle: "chat", "suffix" or a FIM format name.',
        rule=text('"chat", "suffix" or a FIM format'),
    )
    # A pooled model ('codenook backends add-pool'): codenook runs llama.cpp's llama-server
    # on loopback (url) with the file's layers split over these rpc-servers.
    rpc: tuple[str, ...] = setting(
        (), "A pooled model's rpc-servers (HOST:PORT); empty: a server at url."
    )
    gguf: str = setting("", "A pooled model's GGUF file.")
    gpu_layers: int | None = setting(
        None,
        "A pooled model's layers on the devices; empty: as many as fit.",
        rule=whole_from(0, "a whole number of layers, 0 or more"),
    )


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


_SECTIONS: dict[str, type] = {
    "model": ModelSettings,
    "generation": GenerationSettings,
    "ui": UiSettings,
    "prompts": PromptSettings,
    "sandbox": SandboxSettings,
    "logging": LoggingSettings,
    "models": ModelsSettings,
    "routing": RoutingSettings,
}
#: The [ui] fields the window writes as it closes: they live in the state file.
WINDOW_STATE = frozenset(f.name for f in fields(UiSettings) if f.metadata["state"])
_BACKEND_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class Declared:
    """One setting as declared at its field: what the checks and the settings dialog read."""

    section: str
    name: str
    hint: Any
    default: Any
    about: str
    rule: Rule | None
    state: bool
    label: str
    jobs: bool

    @property
    def key(self) -> str:
        """``section.name``, as the settings file and the warnings write it."""
        return f"{self.section}.{self.name}"


def declared(section: str | type) -> tuple[Declared, ...]:
    """The settings of ``[section]`` (a name such as "model", or its class), in order."""
    if isinstance(section, str):
        return _declared(_SECTIONS[section], section)
    return _declared(section, section.__name__)


@cache
def _declared(cls: type, where: str) -> tuple[Declared, ...]:
    hints = typing.get_type_hints(cls)
    found = []
    for f in fields(cls):
        m = f.metadata
        label = m.get("label") or f.name.replace("_", " ").capitalize()
        found.append(
            Declared(
                section=where,
                name=f.name,
                hint=hints[f.name],
                default=f.default,
                about=m.get("about", ""),
                rule=m.get("rule"),
                state=bool(m.get("state")),
                label=label,
                jobs=bool(m.get("jobs")),
            )
        )
    return tuple(found)


def check_backend_name(name: str) -> str:
    """``name`` if it can name a backend (letters, digits, ``_.-``; not "local")."""
    if name == LOCAL or not _BACKEND_NAME.fullmatch(name):
        raise ConfigError(
            f"{name!r} cannot name a backend: use letters, digits, '_', '.' or '-' "
            f"(at most 64), and not {LOCAL!r}."
        )
    return name


# -- checking ----------------------------------------------------------------------------------


def _problem(value: Any, hint: Any, rule: Rule | None) -> str | None:
    """What ``value`` must be instead, in words; None when it is fine."""
    if not _fits(value, hint):
        return _described(hint)
    if value is None or rule is None or rule.allows(value):
        return None
    return rule.says


#: Key names whose values are never echoed in a warning.
_SECRET_KEY = re.compile(r"token|passw|secret|api_?key|credential|auth", re.IGNORECASE)
_URL_USER = re.compile(r"(//)[^/@\s]+@")


def show_value(key: str, value: Any) -> str:
    """``value`` as a warning may show it: short, and never a secret."""
    if _SECRET_KEY.search(key.rsplit(".", 1)[-1]):
        return PLACEHOLDER
    said = _URL_USER.sub(rf"\1{PLACEHOLDER}@", redact(repr(value))[0])
    return said if len(said) <= 40 else said[:40] + "…"


def _bad(key: str, value: Any, must: str) -> str:
    return f"Setting {key} must be {must}, not {show_value(key, value)}"


def _entries(where: str, section: Any) -> Iterator[tuple[str, Any, str | None]]:
    """Each setting of ``section`` as (key, value, what it must be instead or None)."""
    for d in declared(type(section)):
        value = getattr(section, d.name)
        if d.jobs:
            for job, v in value:
                must = None if JOB_KEY.fullmatch(job) else _JOB_KEY_SAYS
                yield f"{where}.{job}", v, must or _problem(v, str, d.rule)
        else:
            yield f"{where}.{d.name}", value, _problem(value, d.hint, d.rule)


def validate(settings: Settings) -> Settings:
    """Check every setting against its declaration; raise ConfigError naming the first bad one.

    Returns the settings, with what this machine cannot do (too many threads) lowered.
    """
    sections = [(name, getattr(settings, name)) for name in _SECTIONS]
    sections += [(f"backends.{name}", b) for name, b in settings.backends.items()]
    for where, section in sections:
        for key, value, must in _entries(where, section):
            if must is not None:
                raise ConfigError(_bad(key, value, must) + ".")
    return _within_machine(settings)


def _values(cls: type, raw: Any, where: str, problems: list[str]) -> dict[str, Any]:
    """The good values of table ``raw`` for ``cls``; each bad one left out, said in ``problems``."""
    if not isinstance(raw, dict):
        problems.append(f"[{where}] must be a table; all of it is ignored")
        return {}
    declarations = {d.name: d for d in declared(cls)}
    jobs = next((d for d in declarations.values() if d.jobs), None)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        d = declarations.get(key)
        if d is None or d.jobs:
            if jobs is None:
                problems.append(f"Ignoring unknown setting {where}.{key}")
                continue
            if not JOB_KEY.fullmatch(key):
                problems.append(f"Ignoring {where}.{key}: a key there must be {_JOB_KEY_SAYS}")
                continue
            hint, rule = str, jobs.rule
        else:
            hint, rule = d.hint, d.rule
        # TOML has arrays; a settings list is a tuple.
        must = _problem(tuple(value) if isinstance(value, list) else value, hint, rule)
        if must is not None:
            problems.append(_bad(f"{where}.{key}", value, must) + "; that value is ignored")
            continue
        values[key] = tuple(value) if isinstance(value, list) else value
    return values


def _backends(raw: Any, problems: list[str]) -> dict[str, RemoteBackendSettings]:
    """The usable ``[backends.NAME]`` tables; a backend without a usable url is left out."""
    if not isinstance(raw, dict):
        problems.append("[backends] must be a table of tables; all of it is ignored")
        return {}
    found = {}
    for name, table in raw.items():
        try:
            check_backend_name(name)
        except ConfigError as exc:
            problems.append(f"{exc} [backends.{name}] is ignored")
            continue
        values = _values(RemoteBackendSettings, table, f"backends.{name}", problems)
        if "url" not in values:
            problems.append(f'[backends.{name}] needs url = "http://HOST:PORT"; it is ignored')
            continue
        found[name] = RemoteBackendSettings(**values)
    return found


def cpu_count() -> int:
    """How many logical CPUs this machine has."""
    return os.cpu_count() or 1


def _within_machine(settings: Settings, said: list[str] | None = None) -> Settings:
    """``settings`` with what this machine cannot do lowered to what it can, with a warning.

    More llama.cpp threads than logical CPUs only slow it down, and tens of thousands
    crash or hang it; a settings file may come from a bigger machine, so this is no error.
    The warning goes to ``said`` when given, else to the log (once).
    """
    cpus, threads = cpu_count(), settings.model.threads
    if threads is not None and threads > cpus:
        message = (
            f"Setting model.threads = {threads} is more than this machine's {cpus} logical "
            f"CPUs; using {cpus}."
        )
        if said is None:
            _warn_once(message)
        else:
            said.append(message)
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


# -- reading and writing -------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """Settings as read, and what was wrong in the files (each bad value was left out)."""

    settings: Settings
    warnings: tuple[str, ...] = ()


def read_settings(p: Paths | None = None) -> Loaded:
    """Read settings.toml (and the window's state file) and say what was wrong in them.

    A bad value is left out alone (its default applies) and named in ``warnings`` with
    its rule; everything else in the file applies. A file that is not TOML at all is kept
    aside as ``settings.toml.corrupt`` and the defaults are used.
    """
    p = p or paths()
    raw, warnings = _read_toml(p.settings_file)
    problems: list[str] = []
    values = {
        name: _values(cls, raw.get(name, {}), name, problems) for name, cls in _SECTIONS.items()
    }
    # The state file wins over [ui] keys that older versions wrote into settings.toml.
    values["ui"].update(_window_state(p))
    backends = _backends(raw.get("backends", {}), problems)
    settings = Settings(
        **{name: _SECTIONS[name](**v) for name, v in values.items()}, backends=backends
    )
    warnings += [f"Settings file {p.settings_file}: {m}." for m in problems]
    settings = _within_machine(settings, warnings)
    return Loaded(settings, tuple(warnings))


def load_settings(p: Paths | None = None) -> Settings:
    """Read the settings; each problem found is logged once (see ``read_settings``)."""
    loaded = read_settings(p)
    for warning in loaded.warnings:
        _warn_once(warning)
    return loaded.settings


def _read_toml(file: Path) -> tuple[dict[str, Any], list[str]]:
    """The tables in ``file`` (none when it is missing or unusable), and what went wrong."""
    if not file.exists():
        return {}, []
    try:
        return tomllib.loads(file.read_text(encoding="utf-8")), []
    except OSError as exc:
        return {}, [f"Cannot read the settings file {file} ({exc.strerror}); using defaults."]
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [_set_aside(file, exc)]


def _set_aside(file: Path, problem: Exception) -> str:
    """Keep an unreadable settings file as ``settings.toml.corrupt``; say so."""
    aside = file.with_name(file.name + ".corrupt")
    try:
        file.replace(aside)
    except OSError as exc:
        # A read-only config folder: the file stays where it is, unused.
        return (
            f"Settings file {file} is unusable ({problem}); using defaults (it could not be "
            f"kept aside: {exc.strerror})."
        )
    return f"Settings file {file} is unusable ({problem}); kept as {aside}, using defaults."


def _window_state(p: Paths) -> dict[str, Any]:
    """The good [ui] state values in the state file; a bad one is logged and left out."""
    saved = uistate.read_state(p.state_file)
    problems: list[str] = []
    values = _values(
        UiSettings, {k: v for k, v in saved.items() if k in WINDOW_STATE}, "ui", problems
    )
    for problem in problems:
        log.warning("Window state file %s: %s.", p.state_file, problem)
    return values


def _table(section: Any, *, state: bool = False) -> dict[str, Any]:
    """``section`` as a TOML/JSON table: its window state, or (by default) all but that."""
    table: dict[str, Any] = {}
    for d in declared(type(section)):
        value = getattr(section, d.name)
        if d.jobs:
            table.update(value)
        elif value is not None and d.state == state:
            table[d.name] = list(value) if isinstance(value, tuple) else value
    return table


def save_settings(settings: Settings, p: Paths | None = None) -> Path:
    """Write settings.toml atomically and return its path (FileWriteError when it cannot).

    The window's state goes to its own file, written here only when it changed.
    """
    p = ensure_dirs(p)
    data: dict[str, Any] = {name: _table(getattr(settings, name)) for name in _SECTIONS}
    data["backends"] = {name: _table(b) for name, b in settings.backends.items()}
    # The one safe write: a fresh temporary file, synced, renamed; a link is not followed.
    write_file(p.settings_file, tomli_w.dumps(data))
    saved = uistate.read_state(p.state_file)
    on_disk = {**_table(UiSettings(), state=True)}
    on_disk.update((k, v) for k, v in saved.items() if k in WINDOW_STATE)
    if _table(settings.ui, state=True) != on_disk:
        save_window_state(settings, p)
    return p.settings_file


def save_window_state(settings: Settings, p: Paths | None = None) -> Path:
    """Write the window's state (size, pane widths, recent files and models) to its file.

    settings.toml is left as it is: the user's file changes only when a setting does.
    """
    p = ensure_dirs(p)
    return uistate.write_state(p.state_file, _table(settings.ui, state=True))


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
