"""Managing models: what is available and installed, what fits here, pull, use, remove.

The command line calls these now; the window's model manager and first-run dialog will
call the same (``register_folder``, ``pull`` with ``on_progress`` and ``cancel``,
``recommend``). Long calls (``pull``, ``register_folder``) belong in a worker thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from codenook import config
from codenook.engine import hardware as hw_module
from codenook.engine.catalog import CatalogEntry, CatalogError, Choice, load_catalog, parse_spec
from codenook.engine.download import Progress, download
from codenook.engine.embedded import embedded_model_path
from codenook.engine.fit import Fit, ModelFigures, figures_from_metadata, plan
from codenook.engine.gguf_meta import GGUFMetadata, read_metadata
from codenook.errors import CodenookError, ModelError
from codenook.library import hftoken
from codenook.library.registry import (
    InstalledModel,
    find_installed,
    forget,
    load_registry,
    register_file,
    register_folder,
)

__all__ = [
    "ModelRow",
    "PullResult",
    "Resolved",
    "catalog_rows",
    "fit_for_choice",
    "fit_for_file",
    "pull",
    "recommend",
    "register_folder",
    "remove",
    "resolve",
    "shared_folder",
    "use",
    "weights_folder",
    "weights_folders",
]


class NotInstalledError(CodenookError):
    """A catalog model that has not been downloaded yet."""


def weights_folder(settings: config.Settings | None = None, *, shared: bool = False) -> Path:
    """Where pulled models go: setting ``models.folder``, or (``shared``) the machine's shared
    folder, which must exist and take this person's files (group codenook)."""
    if not shared:
        settings = settings or config.load_settings()
        return settings.models.folder_path()
    folder = shared_folder()
    if folder is None:
        raise ModelError(
            "This machine has no shared models folder: it is [models] shared_folder in "
            f"{config.system_config_file()} (the Debian package asks: dpkg-reconfigure codenook)."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ModelError(
            f"You cannot add models to the shared folder {folder}: join the group codenook "
            "(sudo adduser $USER codenook, then log in again)."
        )
    return folder


def shared_folder() -> Path | None:
    """The models folder shared by everyone on this machine, where one is set and exists."""
    where = config.system_models().shared_folder
    folder = Path(where) if where else None
    return folder if folder is not None and folder.is_dir() else None


def weights_folders(settings: config.Settings | None = None) -> list[tuple[str, Path]]:
    """The folders models can go to, labelled: this person's, and the machine's shared one."""
    folders = [("yours", weights_folder(settings))]
    shared = shared_folder()
    if shared is not None:
        folders.append(("shared", shared))
    return folders


def figures_for_choice(choice: Choice) -> ModelFigures:
    """Memory figures of a catalog model at one quantization (before it is downloaded)."""
    e = choice.entry
    return ModelFigures(
        name=choice.spec,
        weights_bytes=choice.quant.size,
        layers=e.layers,
        kv_heads=e.kv_heads,
        head_dim=e.head_dim,
        heads=e.heads,
        vocab=e.vocab,
        params=e.params,
        trained_context=e.context,
    )


def fit_for_choice(choice: Choice, hw: hw_module.Hardware, *, context: int) -> Fit:
    """How a catalog model would run here."""
    return plan(figures_for_choice(choice), hw, context=min(context, choice.entry.context))


def fit_for_file(meta: GGUFMetadata, hw: hw_module.Hardware, *, context: int) -> Fit | None:
    """How a model file runs here (None when its metadata lacks the figures)."""
    try:
        figures = figures_from_metadata(meta)
    except ValueError:
        return None
    trained = figures.trained_context or context
    return plan(figures, hw, context=min(context, trained))


@dataclass(frozen=True)
class ModelRow:
    """One line of ``models list``: a catalog choice or an installed file, and its fit."""

    name: str
    quant: str | None
    size: int
    installed: str
    fit: Fit | None
    good_for: str = ""


def catalog_rows(hw: hw_module.Hardware, *, context: int) -> list[ModelRow]:
    """Every catalog model (default and installed quantizations) and every other installed file."""
    catalog = load_catalog()
    installed = [m for m in load_registry() if m.exists]
    rows = []
    for entry in catalog:
        quants = {entry.default_quant} | {m.quant for m in installed if m.catalog == entry.name}
        for qname in [q for q in entry.quants if q in quants]:
            choice = Choice(entry, entry.quants[qname])
            where = next(
                (m.path for m in installed if m.catalog == entry.name and m.quant == qname), ""
            )
            if choice.quant.embedded:
                where = "embedded"
            rows.append(
                ModelRow(
                    choice.spec,
                    qname,
                    choice.quant.size,
                    where,
                    fit_for_choice(choice, hw, context=context),
                    entry.good_for,
                )
            )
    for m in installed:
        if m.catalog is None:
            try:
                fit = fit_for_file(read_metadata(m.path), hw, context=context)
            except ModelError:
                fit = None
            rows.append(ModelRow(m.name, m.quant, m.file_size, m.path, fit))
    return rows


@dataclass(frozen=True)
class Resolved:
    """What ``NAME|PATH`` names: a file (maybe not downloaded yet) and its catalog entry."""

    path: Path | None
    choice: Choice | None
    installed: InstalledModel | None
    embedded: bool = False


def resolve(name_or_path: str) -> Resolved:
    """Find a model by path, installed name, or catalog ``NAME[:QUANT]``."""
    text = name_or_path.strip()
    candidate = Path(text).expanduser()
    if candidate.suffix.lower() == ".gguf" or "/" in text or candidate.exists():
        if not candidate.exists():
            # A bare file name may be an installed file's (models list shows them so).
            installed = None if "/" in text else find_installed(text)
            if installed is None:
                raise ModelError(f"Model file not found: {candidate}.")
            candidate = Path(installed.path)
        path = candidate.absolute()
        known = next((m for m in load_registry() if Path(m.path) == path), None)
        choice = load_catalog().by_file(path.name)
        embedded = path.resolve() == embedded_model_path().resolve()
        return Resolved(path, choice, known, embedded=embedded)
    installed = find_installed(text)
    catalog = load_catalog()
    if installed is not None:
        choice = catalog.resolve(installed.name) if installed.catalog else None
        return Resolved(Path(installed.path), choice, installed)
    choice = catalog.resolve(text)
    if choice.quant.embedded:
        return Resolved(embedded_model_path(), choice, None, embedded=True)
    return Resolved(None, choice, None)


@dataclass(frozen=True)
class PullResult:
    """A finished pull."""

    choice: Choice
    path: Path
    already: bool
    model: InstalledModel | None


def pull(
    spec: str,
    *,
    folder: Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    endpoint: str | None = None,
) -> PullResult:
    """Download catalog model ``NAME[:QUANT]`` into the weights folder and register it.

    Safe to call from a worker thread; ``on_progress`` runs in that thread.
    """
    choice = load_catalog().resolve(spec)
    if choice.quant.embedded:
        return PullResult(choice, embedded_model_path(), True, None)
    folder = folder or weights_folder()
    dest = folder / choice.quant.file
    known = next((m for m in load_registry() if Path(m.path) == dest), None)
    if dest.is_file() and known is not None:
        return PullResult(choice, dest, True, known)
    if not dest.is_file():
        token = hftoken.load_token()
        result = download(
            choice.entry.repo,
            choice.quant.file,
            dest,
            token=token.value if token else None,
            endpoint=endpoint,
            on_progress=on_progress,
            cancel=cancel,
        )
        sha = result.sha256
    else:
        sha = None  # placed by hand before: registered as it is
    model = register_file(dest, source="pull", sha256=sha)
    return PullResult(choice, dest, False, model)


def use(name_or_path: str) -> tuple[Resolved, Path]:
    """Make a model the one ``ask``/``chat`` load (setting ``model.path``); the settings file."""
    found = resolve(name_or_path)
    if found.path is None:
        assert found.choice is not None
        raise NotInstalledError(
            f"{found.choice.spec} is not downloaded yet: run 'codenook models pull "
            f"{found.choice.spec}' first."
        )
    settings = config.load_settings()
    if found.embedded:
        model = replace(settings.model, path=None)
    else:
        if found.installed is None:
            register_file(found.path, source="use")
        model = replace(settings.model, path=str(found.path))
    return found, config.save_settings(replace(settings, model=model))


def remove(name: str) -> tuple[InstalledModel, bool]:
    """Forget an installed model; delete its file when it is in the weights folder.

    Files found by a scan elsewhere are the user's own: they are only forgotten.
    Returns the entry and whether the file was deleted.
    """
    installed = find_installed(name)
    if installed is None:
        base, _ = parse_spec(name)
        entry = load_catalog().get(base)
        if entry is not None and entry.embedded:
            raise ModelError(f"{entry.name} ships inside codenook and cannot be removed.")
        raise ModelError(f"No installed model called {name!r} (see 'codenook models list').")
    path = Path(installed.path)
    inside = weights_folder().resolve() in path.resolve().parents if path.exists() else False
    if inside:
        path.unlink()
    forget(installed.path)
    settings = config.load_settings()
    if settings.model.path and Path(settings.model.path) == path:
        config.save_settings(replace(settings, model=replace(settings.model, path=None)))
    return installed, inside


def recommend(hw: hw_module.Hardware, *, context: int = 4096) -> Choice:
    """The chat model to download for this machine: the strongest that runs well here.

    Strongest first (Qwen2.5-Coder 7B, Mistral v0.3, ...): the first expected to write at
    least 10 tokens/s (faster than people read), else the first reaching 5, else the
    embedded model.
    """
    catalog = load_catalog()
    order = [
        "qwen2.5-coder-7b-instruct",
        "mistral-7b-instruct-v0.3",
        "deepseek-coder-6.7b-instruct",
        "codellama-7b-instruct",
        "mistral-7b-instruct-v0.2",
        "qwen2.5-coder-1.5b-instruct",
    ]
    entries: list[CatalogEntry] = [e for name in order if (e := catalog.get(name))]
    choices = [Choice(e, e.quant()) for e in entries]
    speeds = [fit_for_choice(c, hw, context=context).tokens_per_second[0] for c in choices]
    for floor in (10.0, 5.0):
        for choice, speed in zip(choices, speeds, strict=True):
            if speed >= floor:
                return choice
    embedded = next((e for e in catalog if e.embedded), None)
    if embedded is None:
        raise CatalogError("The catalog has no embedded model to fall back on.")
    return Choice(embedded, embedded.quant())
