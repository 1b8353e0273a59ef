"""The model catalog: which GGUF files of which models codenook can download, and their figures.

The catalog ships as package data (``codenook/data/catalog.toml``); a ``catalog.toml`` in
the config folder adds entries of the same shape.
"""

from __future__ import annotations

import importlib.resources
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from codenook import config
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
_INT_FIELDS = ("context", "params", "layers", "heads", "kv_heads", "head_dim", "vocab")


class CatalogError(CodenookError):
    """A model name that is not in the catalog, or a quantization it does not offer."""


@dataclass(frozen=True)
class Quant:
    """One GGUF file of a catalog model."""

    name: str
    file: str
    #: Bytes, as the hub lists it (rounded); the exact figure comes with the download.
    size: int
    embedded: bool = False


@dataclass(frozen=True)
class CatalogEntry:
    """A model the catalog knows, with the figures the memory estimate needs."""

    name: str
    title: str
    family: str
    repo: str
    quants: Mapping[str, Quant]
    default_quant: str
    context: int
    params: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    license: str
    good_for: str
    chat_format: str | None = None
    fill_format: str | None = None
    embedded: bool = False
    gated: bool = False

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


def _entry(raw: Any, where: str) -> CatalogEntry:
    """Check one [[model]] table and build its entry; ConfigError naming the problem."""
    if not isinstance(raw, dict):
        raise _fail(where, "each [[model]] must be a table.")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise _fail(where, f"name {name!r} must be lower-case letters, digits, '.' and '-'.")
    where = f"{where}, model {name!r}"
    for key in ("title", "family", "license", "good_for", "repo"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise _fail(where, f"{key} must be a non-empty string.")
    if not _REPO_RE.fullmatch(raw["repo"]):
        raise _fail(where, f"repo {raw['repo']!r} must look like owner/name.")
    for key in _INT_FIELDS:
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise _fail(where, f"{key} must be a positive integer.")
    chat, fill = raw.get("chat_format"), raw.get("fill_format")
    if chat is not None and chat not in CHAT_FORMATS:
        raise _fail(where, f"chat_format {chat!r} is not one of {sorted(CHAT_FORMATS)}.")
    if fill is not None and fill not in FILL_FORMATS:
        raise _fail(where, f"fill_format {fill!r} is not one of {sorted(FILL_FORMATS)}.")
    if chat is None and fill is None:
        raise _fail(where, "a model needs a chat_format, a fill_format or both.")
    quants_raw = raw.get("quants")
    if not isinstance(quants_raw, dict) or not quants_raw:
        raise _fail(where, "needs at least one [model.quants.NAME] table.")
    quants: dict[str, Quant] = {}
    for qname, q in quants_raw.items():
        if not _QUANT_RE.fullmatch(qname) or not isinstance(q, dict):
            raise _fail(where, f"quantization {qname!r} must be an upper-case name and a table.")
        file, size = q.get("file"), q.get("size")
        if not isinstance(file, str) or not file.endswith(".gguf") or "/" in file:
            raise _fail(where, f"{qname}.file must be a .gguf file name.")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise _fail(where, f"{qname}.size must be a positive number of bytes.")
        quants[qname] = Quant(qname, file, size, bool(q.get("embedded", False)))
    default = raw.get("default_quant") or (
        DEFAULT_QUANT if DEFAULT_QUANT in quants else next(iter(quants))
    )
    if default not in quants:
        raise _fail(where, f"default_quant {default!r} is not among its quantizations.")
    unknown = set(raw) - {
        *_INT_FIELDS,
        "name",
        "title",
        "family",
        "repo",
        "license",
        "good_for",
        "chat_format",
        "fill_format",
        "quants",
        "default_quant",
        "embedded",
        "gated",
    }
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}.")
    return CatalogEntry(
        name=name,
        title=raw["title"],
        family=raw["family"],
        repo=raw["repo"],
        quants=quants,
        default_quant=default,
        chat_format=chat,
        fill_format=fill,
        embedded=bool(raw.get("embedded", False)),
        gated=bool(raw.get("gated", False)),
        license=raw["license"],
        good_for=raw["good_for"],
        **{k: raw[k] for k in _INT_FIELDS},
    )


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
