"""What the controllers and views need from the window's shell, as small Protocols.

The controllers (``gui/controllers``) and the model views are handed the shell as one of
these, never import it: the shell imports them, not the other way round (IDLE's
``EditorWindow`` seen through ``mock_idle`` in its tests works the same way).
"""

from __future__ import annotations

import sqlite3
import tkinter as tk
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from codenook.auth import User
    from codenook.config import Settings
    from codenook.engine.backend import Backend
    from codenook.gui.bus import Bus
    from codenook.gui.transcript import Transcript
    from codenook.gui.worker import Worker


class WorkerDb:
    """One worker's own database connection, opened on that worker at first use."""

    def __init__(self) -> None:
        self._conn: sqlite3.Connection | None = None

    def get(self) -> sqlite3.Connection:
        """The connection. Call it on the worker that owns it."""
        if self._conn is None:
            from codenook.store.db import open_database

            self._conn = open_database()
        return self._conn


class Host(Protocol):
    """The shell as the controllers see it. Everything here is used on the Tk thread,
    except the workers' ``submit``/``post`` and ``store_db``/``model_db`` (their worker)."""

    root: tk.Tk
    bus: Bus
    settings: Settings
    user: User | None
    conversation_id: int | None
    model: Worker
    store: Worker
    tools: Worker
    library: Worker
    store_db: WorkerDb
    model_db: WorkerDb
    transcript: Transcript

    @property
    def backend(self) -> Backend | None:
        """The chat's loaded backend (None while loading)."""
        ...

    @property
    def busy(self) -> bool:
        """Whether an answer is being generated."""
        ...

    def apply_settings(self, new: Settings) -> None:
        """Use and save new settings."""

    def insert_into_editor(self, code: str) -> None:
        """Show the editor and insert ``code`` at its cursor."""

    def focus_input(self) -> None:
        """Put the keyboard focus in the chat's input box."""

    def first_run_finished(self, what: str) -> None:
        """The first-run question is answered with ``what``."""


class ModelsHost(Protocol):
    """What the model views (Models…, the first-run panel, Evaluate…) need."""

    root: tk.Tk
    bus: Bus
    settings: Settings
    user: User | None
    model: Worker
    library: Worker

    @property
    def backend(self) -> Backend | None:
        """The chat's loaded backend (None while loading)."""
        ...

    @property
    def busy(self) -> bool:
        """Whether an answer is being generated."""
        ...

    def apply_settings(self, new: Settings) -> None:
        """Use and save new settings (a changed model is reloaded)."""

    def first_run_finished(self, what: str) -> None:
        """The first-run question is answered with ``what``."""
