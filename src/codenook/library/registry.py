"""The model files codenook knows: a TOML list in the config folder (``models.toml``).

Files come in by ``models pull`` (into the weights folder) or ``models scan FOLDER`` (left
where they are). Each entry keeps what the file's metadata says, so listing needs no reading.
"""

from __future__ import annotations

import logging
import re
import time
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from codenook import config
from codenook.engine.catalog import Catalog, load_catalog, parse_spec
from codenook.engine.gguf_meta import GGUFMetadata, read_metadata
from codenook.errors import ModelError
from codenook.safefile import write_file

log = logging.getLogger(__name__)

# llama.cpp opens a split model from its first part; the other parts are not models alone.
_LATER_SPLIT = re.compile(r"-(\d{5})-of-\d{5}\.gguf$", re.IGNORECASE)


@dataclass(frozen=True)
class InstalledModel:
    """A GGUF file codenook knows, with what its metadata said."""

    path: str
    #: ``catalog-name:QUANT`` for a catalog file, else the file name without ``.gguf``.
    name: str
    architecture: str
    family: str
    file_size: int
    source: str
    added: float
    catalog: str | None = None
    quant: str | None = None
    size_label: str | None = None
    context: int | None = None
    sha256: str | None = None

    @property
    def exists(self) -> bool:
        """Whether the file is still there."""
        return Path(self.path).is_file()


@dataclass
class ScanResult:
    """What a scan found: files added, files already known (refreshed), files skipped and why."""

    added: list[InstalledModel] = field(default_factory=list)
    known: list[InstalledModel] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def registry_file() -> Path:
    """The registry's path."""
    return config.paths().model_registry


def load_registry() -> list[InstalledModel]:
    """Every registered model; an unreadable registry is kept aside and starts empty."""
    path = registry_file()
    if not path.exists():
        return []
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(InstalledModel)}
        return [
            InstalledModel(**{k: v for k, v in item.items() if k in known})
            for item in raw.get("model", [])
        ]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, TypeError, AttributeError) as exc:
        aside = path.with_name(path.name + ".corrupt")
        path.replace(aside)
        log.warning(
            "Model list %s is unusable (%s); kept as %s, starting afresh.", path, exc, aside
        )
        return []


def save_registry(models: Iterable[InstalledModel]) -> Path:
    """Write the registry atomically."""
    config.ensure_dirs()
    path = registry_file()
    data: dict[str, Any] = {
        "model": [{k: v for k, v in asdict(m).items() if v is not None} for m in models]
    }
    write_file(
        path, "# Model files codenook knows; written by 'codenook models'.\n" + tomli_w.dumps(data)
    )
    return path


def _absolute(path: str | Path) -> Path:
    # Absolute but not resolved: a link in the user's folder stays the name they chose.
    return Path(path).expanduser().absolute()


def describe(
    meta: GGUFMetadata,
    *,
    path: Path,
    source: str,
    catalog: Catalog | None = None,
    sha256: str | None = None,
) -> InstalledModel:
    """A registry entry for a file, named after its catalog entry when the file name matches."""
    catalog = catalog or load_catalog()
    choice = catalog.by_file(path.name)
    return InstalledModel(
        path=str(path),
        name=choice.spec if choice else path.name.removesuffix(".gguf"),
        architecture=meta.architecture,
        family=choice.entry.family if choice else meta.family,
        file_size=meta.file_size,
        source=source,
        added=round(time.time(), 3),
        catalog=choice.entry.name if choice else None,
        quant=choice.quant.name if choice else meta.quantization,
        size_label=meta.size_label,
        context=meta.context_length,
        sha256=sha256,
    )


def _usable(meta: GGUFMetadata) -> str | None:
    """Why a GGUF file cannot be used as a model, or None."""
    if meta.tensor_count == 0:
        return f"vocabulary only ({meta.architecture}, no weights)"
    if not meta.block_count:
        return f"no layer count for architecture {meta.architecture!r}"
    return None


def register_file(path: str | Path, *, source: str, sha256: str | None = None) -> InstalledModel:
    """Read a GGUF file's metadata and add it (or refresh it) in the registry."""
    target = _absolute(path)
    meta = read_metadata(target)
    why = _usable(meta)
    if why:
        raise ModelError(f"{target} cannot be used as a model: {why}.")
    entry = describe(meta, path=target, source=source, sha256=sha256)
    models = [m for m in load_registry() if Path(m.path) != target]
    save_registry([*models, entry])
    return entry


def register_folder(folder: str | Path) -> ScanResult:
    """Find GGUF files under ``folder`` (its subfolders too), read them and register them.

    Reads only each file's header, but a big folder on a slow disk takes a while: the
    window calls this from a worker thread.
    """
    root = _absolute(folder)
    if not root.is_dir():
        raise ModelError(f"{root} is not a folder: give the folder that holds the .gguf files.")
    catalog = load_catalog()
    existing = {Path(m.path): m for m in load_registry()}
    result = ScanResult()
    for path in sorted(root.rglob("*")):
        if not path.name.lower().endswith(".gguf") or not path.is_file():
            continue
        if any(part.startswith(".") for part in path.relative_to(root).parts[:-1]):
            continue
        split = _LATER_SPLIT.search(path.name)
        if split and split.group(1) != "00001":
            result.skipped.append((path, "a later part of a split model (the first part counts)"))
            continue
        try:
            meta = read_metadata(path)
        except ModelError as exc:
            result.skipped.append((path, str(exc)))
            continue
        why = _usable(meta)
        if why:
            result.skipped.append((path, why))
            continue
        before = existing.get(path)
        entry = describe(
            meta,
            path=path,
            source=before.source if before else "scan",
            catalog=catalog,
            sha256=before.sha256 if before else None,
        )
        (result.known if before else result.added).append(entry)
        existing[path] = entry
    save_registry(existing.values())
    return result


def forget(path: str | Path) -> bool:
    """Drop a file from the registry (the file stays); whether it was there."""
    target = _absolute(path)
    models = load_registry()
    kept = [m for m in models if Path(m.path) != target]
    if len(kept) != len(models):
        save_registry(kept)
    return len(kept) != len(models)


def find_installed(
    name: str, *, models: list[InstalledModel] | None = None
) -> InstalledModel | None:
    """The registered model called ``name`` (``catalog:QUANT``, a catalog name, a file name)."""
    models = load_registry() if models is None else models
    wanted = name.strip()
    for m in models:
        if m.name.lower() == wanted.lower() or Path(m.path).name == wanted:
            return m
    base, quant = parse_spec(wanted)
    matches = [m for m in models if m.catalog == base and (quant is None or m.quant == quant)]
    if quant is None and len(matches) > 1:
        entry = load_catalog().get(base)
        preferred = [m for m in matches if entry and m.quant == entry.default_quant]
        matches = preferred or matches
    return matches[0] if matches else None


# -- LoRA adapters (codenook tune) -------------------------------------------------------


@dataclass(frozen=True)
class InstalledAdapter:
    """A LoRA adapter trained by ``codenook tune``, tied to the base model it was trained on."""

    name: str
    #: The GGUF adapter llama.cpp loads.
    path: str
    #: The PEFT folder transformers loads.
    peft: str
    base_name: str
    base_sha256: str
    added: float
    ppl_before: float | None = None
    ppl_after: float | None = None
    summary: str | None = None
    #: The ``fim`` suite on the held-out files: gaps, exact matches and mean edit
    #: similarity, base alone (before) and with the adapter (after), and the eval runs.
    fim_tasks: int | None = None
    fim_exact_before: int | None = None
    fim_exact_after: int | None = None
    fim_similarity_before: float | None = None
    fim_similarity_after: float | None = None
    eval_before: int | None = None
    eval_after: int | None = None

    def figures(self) -> str:
        """What training did, before → after: held-out perplexity and fim (may be empty)."""
        parts = []
        if self.ppl_before is not None and self.ppl_after is not None:
            parts.append(f"held-out perplexity {self.ppl_before:.1f} → {self.ppl_after:.1f}")
        if self.fim_tasks and self.fim_similarity_before is not None:
            parts.append(
                f"fim exact {self.fim_exact_before}/{self.fim_tasks} → "
                f"{self.fim_exact_after}/{self.fim_tasks}, similarity "
                f"{self.fim_similarity_before:.2f} → {self.fim_similarity_after:.2f}"
            )
        if self.eval_before and self.eval_after:
            parts.append(f"eval runs {self.eval_before}, {self.eval_after}")
        return "; ".join(parts)


def adapter_registry_file() -> Path:
    """The adapters' list (beside the models' list)."""
    return config.paths().config / "adapters.toml"


def load_adapters() -> list[InstalledAdapter]:
    """Every registered adapter; an unreadable list is kept aside and starts empty."""
    path = adapter_registry_file()
    if not path.exists():
        return []
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(InstalledAdapter)}
        return [
            InstalledAdapter(**{k: v for k, v in item.items() if k in known})
            for item in raw.get("adapter", [])
        ]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, TypeError, AttributeError) as exc:
        aside = path.with_name(path.name + ".corrupt")
        path.replace(aside)
        log.warning("Adapter list %s is unusable (%s); kept as %s.", path, exc, aside)
        return []


def register_adapter(adapter: InstalledAdapter) -> None:
    """Add ``adapter`` (replacing one of the same name)."""
    config.ensure_dirs()
    path = adapter_registry_file()
    kept = [a for a in load_adapters() if a.name != adapter.name]
    data = {
        "adapter": [{k: v for k, v in asdict(a).items() if v is not None} for a in [*kept, adapter]]
    }
    write_file(path, "# LoRA adapters; written by 'codenook tune'.\n" + tomli_w.dumps(data))


def adapter_for(name: str, *, base_path: str | Path, base_sha256: str | None = None) -> Path:
    """The GGUF file of adapter ``name`` checked against the base it will be applied to.

    Refuses (ModelError, one line) an unknown name, a different base, and a missing or
    corrupt adapter file.
    """
    from codenook.engine.gguf_meta import read_metadata
    from codenook.engine.model_hash import sha256_of

    adapter = next((a for a in load_adapters() if a.name == name), None)
    if adapter is None:
        known = ", ".join(a.name for a in load_adapters()) or "none yet ('codenook tune run')"
        raise ModelError(f"No adapter called {name!r}; known: {known}.")
    digest = base_sha256 or sha256_of(base_path)
    if digest != adapter.base_sha256:
        raise ModelError(
            f"Adapter {name!r} was trained on {adapter.base_name} "
            f"(sha256 {adapter.base_sha256[:12]}…), not on {Path(base_path).name}: "
            f"use it with that base ('codenook models use {adapter.base_name} --adapter {name}')."
        )
    path = Path(adapter.path)
    if not path.is_file():
        raise ModelError(f"Adapter {name!r}: its file {path} is missing; train it again.")
    try:
        meta = read_metadata(path)
    except ModelError as exc:
        raise ModelError(f"Adapter {name!r}: its file {path} is corrupt; train it again.") from exc
    if meta.fields.get("general.type") != "adapter":
        raise ModelError(f"Adapter {name!r}: {path} is not a LoRA adapter file; train it again.")
    return path


def resolve_adapter(model: Any) -> Any:
    """``model`` settings with the adapter's name replaced by its checked GGUF file."""
    from dataclasses import replace

    from codenook.engine.embedded import embedded_model_path

    if not model.adapter or Path(model.adapter).suffix == ".gguf":
        return model
    base = Path(model.path) if model.path else embedded_model_path()
    return replace(model, adapter=str(adapter_for(model.adapter, base_path=base)))
