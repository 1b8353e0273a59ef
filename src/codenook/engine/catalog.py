"""The model catalog: which GGUF files of which models codenook can download, and their figures.

The catalog ships as package data (``codenook/data/catalog.toml``); a ``catalog.toml`` in
the config folder adds entries of the same shape.
"""

from __future__ import annotations

import importlib.resources
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

from codenook import config
from codenook.config import setting
from codenook.engine import formats
from codenook.errors import CodenookError, ConfigError

#: Used when a name carries no ``:QUANT`` and the entry names no default.
DEFAULT_QUANT = "Q4_K_M"

# A catalog entry may only name prompt formats that engine/formats implements.
CHAT_FORMATS = frozenset(formats.CHAT_FORMATS)
FILL_FORMATS = frozenset(formats.FILL_FORMATS)

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9.\-]*")
_QUANT_RE = re.compile(r"[A-Z0-9_]+")
_REPO_RE = re.compile(r"[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*")
_GGUF_RE = re.compile(r"[^/]+\.gguf")

# The rules, declared at the fields below with config's helpers, as settings are.
_WORDS = config.text("a non-empty string")
_POSITIVE = config.whole_from(1, "a positive integer")
_FLAG = config.Rule("true or false", lambda v: isinstance(v, bool))


class CatalogError(CodenookError):
    """A model name that is not in the catalog, or a quantization it does not offer."""


@dataclass(frozen=True)
class Quant:
    """One GGUF file of a catalog model."""

    name: str
    file: str = setting(
        about="The GGUF file's name.", rule=config.text(".gguf file name", pattern=_GGUF_RE)
    )
    #: Bytes, as the hub lists it (rounded); the exact figure comes with the download.
    size: int = setting(
        about="Bytes, as the hub lists it.", rule=config.whole_from(1, "a positive number of bytes")
    )
    embedded: bool = setting(False, "Shipped inside a Python package.", rule=_FLAG)


@dataclass(frozen=True)
class CatalogEntry:
    """A model the catalog knows, with the figures the memory estimate needs."""

    name: str = setting(
        about="The name to pull it by.",
        rule=config.text("lower-case letters, digits, '.' and '-'", pattern=_NAME_RE),
    )
    title: str = setting(about="The name people know it by.", rule=_WORDS)
    family: str = setting(about="The model family.", rule=_WORDS)
    repo: str = setting(
        about="The Hugging Face repository.", rule=config.text("owner/name", pattern=_REPO_RE)
    )
    quants: Mapping[str, Quant] = setting(about="Its GGUF files by quantization.")
    default_quant: str = setting(about="The quantization pulled when none is named.")
    context: int = setting(about="The context it was trained for, in tokens.", rule=_POSITIVE)
    params: int = setting(about="Its number of weights.", rule=_POSITIVE)
    layers: int = setting(about="Transformer layers.", rule=_POSITIVE)
    heads: int = setting(about="Attention heads.", rule=_POSITIVE)
    kv_heads: int = setting(about="Key/value heads.", rule=_POSITIVE)
    head_dim: int = setting(about="Size of one head.", rule=_POSITIVE)
    vocab: int = setting(about="Vocabulary size.", rule=_POSITIVE)
    license: str = setting(about="The weights' license.", rule=_WORDS)
    good_for: str = setting(about="What it does well.", rule=_WORDS)
    chat_format: str | None = setting(
        None, "Its chat prompt format.", rule=config.one_of(*sorted(CHAT_FORMATS))
    )
    fill_format: str | None = setting(
        None, "Its fill-in-the-middle format.", rule=config.one_of(*sorted(FILL_FORMATS))
    )
    embedded: bool = setting(False, "Shipped inside a Python package.", rule=_FLAG)
    gated: bool = setting(False, "The hub asks for a login and an accepted license.", rule=_FLAG)

    def quant(self, name: str | None = None) -> Quant:
        """The quantization called ``name`` (case-insensitive), or the default one."""
        wanted = (name or self.default_quant).upper()
        if wanted not in self.quants:
            raise CatalogError(
                f"{self.name} has no {wanted} file in the catalog; "
                f"choose one of: {', '.join(self.quants)}."
            )
        return self.quants[wanted]


@dataclass(frozen=True)
class Choice:
    """A catalog entry and one of its quantizations: what ``NAME[:QUANT]`` means."""

    entry: CatalogEntry
    quant: Quant

    @property
    def spec(self) -> str:
        """``name:QUANT``, the canonical way to write this choice."""
        return f"{self.entry.name}:{self.quant.name}"


def parse_spec(spec: str) -> tuple[str, str | None]:
    """Split ``NAME[:QUANT]`` into a lower-case name and an upper-case quantization."""
    name, _, quant = spec.strip().partition(":")
    return name.strip().lower(), (quant.strip().upper() or None)


class Catalog:
    """All catalog entries by name."""

    def __init__(self, entries: list[CatalogEntry]) -> None:
        self._entries = {e.name: e for e in entries}

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        """Entry names in catalog order."""
        return list(self._entries)

    def get(self, name: str) -> CatalogEntry | None:
        """The entry called ``name`` (case-insensitive), if any."""
        return self._entries.get(name.strip().lower())

    def resolve(self, spec: str) -> Choice:
        """The entry and quantization that ``NAME[:QUANT]`` names; CatalogError if none."""
        name, quant = parse_spec(spec)
        entry = self.get(name)
        if entry is None:
            raise CatalogError(
                f"No model called {name!r} in the catalog. Known: {', '.join(self.names())} "
                "(codenook models list)."
            )
        return Choice(entry, entry.quant(quant))

    def by_file(self, filename: str) -> Choice | None:
        """The catalog choice whose GGUF file has this name (case-insensitive), if any."""
        wanted = filename.lower()
        for entry in self:
            for quant in entry.quants.values():
                if quant.file.lower() == wanted:
                    return Choice(entry, quant)
        return None


def _fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"Model catalog {where}: {message}")


def _checked(cls: type, raw: dict[str, Any], where: str, *, skip: tuple[str, ...] = ()) -> dict:
    """``raw``'s values for ``cls``, each checked by the rule declared at its field."""
    values = {}
    for d in config.declared(cls):
        if d.name in skip:
            continue
        if d.name not in raw:
            if d.default is MISSING:
                raise _fail(where, f"{d.name} is missing: it must be {d.rule.says}.")
            continue
        value = raw[d.name]
        if d.rule is not None and not d.rule.allows(value):
            raise _fail(where, f"{d.name} must be {d.rule.says}, not {value!r}.")
        values[d.name] = value
    return values


def _quants(raw: Any, where: str) -> dict[str, Quant]:
    """The [model.quants.NAME] tables, each checked."""
    if not isinstance(raw, dict) or not raw:
        raise _fail(where, "needs at least one [model.quants.NAME] table.")
    quants: dict[str, Quant] = {}
    for qname, q in raw.items():
        if not _QUANT_RE.fullmatch(qname) or not isinstance(q, dict):
            raise _fail(where, f"quantization {qname!r} must be an upper-case name and a table.")
        quants[qname] = Quant(qname, **_checked(Quant, q, f"{where}, {qname}", skip=("name",)))
    return quants


def _entry(raw: Any, where: str) -> CatalogEntry:
    """Check one [[model]] table and build its entry; ConfigError naming the problem."""
    if not isinstance(raw, dict):
        raise _fail(where, "each [[model]] must be a table.")
    _checked(CatalogEntry, {"name": raw.get("name")}, where, skip=_ALL_BUT_NAME)
    where = f"{where}, model {raw['name']!r}"
    unknown = set(raw) - {d.name for d in config.declared(CatalogEntry)}
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}.")
    values = _checked(CatalogEntry, raw, where, skip=("quants", "default_quant"))
    if values.get("chat_format") is None and values.get("fill_format") is None:
        raise _fail(where, "a model needs a chat_format, a fill_format or both.")
    quants = _quants(raw.get("quants"), where)
    default = raw.get("default_quant") or (
        DEFAULT_QUANT if DEFAULT_QUANT in quants else next(iter(quants))
    )
    if default not in quants:
        raise _fail(where, f"default_quant {default!r} is not among its quantizations.")
    return CatalogEntry(**values, quants=quants, default_quant=default)


_ALL_BUT_NAME = tuple(f.name for f in fields(CatalogEntry) if f.name != "name")


def parse_catalog(text: str, *, where: str = "catalog.toml") -> list[CatalogEntry]:
    """Entries from catalog TOML text, every one checked; ConfigError on the first problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(where, f"not valid TOML ({exc}).") from exc
    models = data.get("model", [])
    if not isinstance(models, list):
        raise _fail(where, "models must be [[model]] tables.")
    entries = [_entry(raw, where) for raw in models]
    names = [e.name for e in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _fail(where, f"duplicate names {duplicates}.")
    return entries


@cache
def _shipped() -> tuple[CatalogEntry, ...]:
    text = (importlib.resources.files("codenook") / "data" / "catalog.toml").read_text("utf-8")
    return tuple(parse_catalog(text, where="(shipped)"))


def user_catalog_file() -> Path:
    """Where a user's own catalog entries live."""
    return config.paths().config / "catalog.toml"


def load_catalog() -> Catalog:
    """The shipped catalog, with the user's entries added (a user entry may replace one)."""
    entries = {e.name: e for e in _shipped()}
    extra = user_catalog_file()
    if extra.is_file():
        try:
            text = extra.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read the model catalog {extra}: {exc}.") from exc
        for entry in parse_catalog(text, where=str(extra)):
            entries[entry.name] = entry
    return Catalog(list(entries.values()))
