"""The window's side of project context: which project grounds the jobs, and source links.

:class:`ProjectChooser` is the combobox in the answering row: the user's indexed projects
(``codenook project add``), "All projects" (the default, as on the command line) and
"None" (as ``--no-context``). The passages an answer was grounded on come back from the
job as ``path:line`` sources; :func:`resolve` finds each one's file in the user's
projects (model worker) and :class:`SourceOpener` opens a clicked one in the editor pane
at its line.
"""

from __future__ import annotations

import inspect
import re
import sqlite3
import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from tkinter import ttk
from typing import Any

from codenook.gui.dispatch import JobRequest
from codenook.gui.editor_io import FileRead
from codenook.gui.events import AnswerDone, AnswerFailed, LoggedIn, LoggedOut, ModelReady
from codenook.gui.host import Host
from codenook.store import projects as store

ALL = "All projects"
NONE = "None"
_SOURCE = re.compile(r"^(?P<path>.+):(?P<line>\d+)$")


@dataclass(frozen=True)
class SourceLink:
    """One passage an answer was grounded on: what is shown, and where it opens."""

    label: str
    path: str
    line: int


@dataclass(frozen=True)
class SourcesFound:
    """The project passages behind the answer being given (model worker)."""

    links: tuple[SourceLink, ...]
    #: The other sources (pydoc, help, man), shown as they are.
    others: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectsListed:
    """The user's indexed projects, by name (store worker)."""

    names: tuple[str, ...]


def resolve(
    db: sqlite3.Connection, user_id: int, sources: list[str], *, project: str | None = None
) -> tuple[SourceLink, ...]:
    """The ``path:line`` sources that are files of the user's projects, as links.

    Other sources (``pydoc subprocess.run``, ``man rsync``) are not files: left out.
    """
    roots = [
        Path(p.root)
        for p in store.list_projects(db, user_id)
        if project is None or project in (p.name, p.root)
    ]
    links: list[SourceLink] = []
    for source in sources:
        m = _SOURCE.match(source)
        if m is None:
            continue
        for root in roots:
            path = root / m.group("path")
            if path.is_file():
                links.append(SourceLink(source, str(path), int(m.group("line"))))
                break
    return tuple(links)


def grounded(request: JobRequest, choice: str) -> JobRequest:
    """``request`` with the chooser's choice, for jobs that ground (model worker)."""
    from codenook.assist.jobs import registry

    accepts = inspect.signature(registry.get(request.name).run).parameters
    if "context" not in accepts or "project" not in accepts:
        return request
    options = dict(request.options)
    if choice == NONE:
        options["context"] = False
    elif choice != ALL:
        options["project"] = choice
    return replace(request, options=options)


def project_of(choice: str) -> str | None:
    """The project a choice names (None for all projects or none)."""
    return None if choice in (ALL, NONE) else choice


class ProjectChooser:
    """The combobox of projects that ground the jobs; its list is read on the store worker."""

    def __init__(self, host: Host, master: tk.Misc) -> None:
        self.host = host
        self.box = ttk.Combobox(master, values=(ALL, NONE), state="readonly", width=13)
        self.box.set(ALL)
        # Read again each time the list opens: a project added on the command line shows.
        self.box.configure(postcommand=self.refresh)
        host.bus.subscribe(ProjectsListed, self._on_listed)
        host.bus.subscribe(ModelReady, lambda _e: self.refresh())
        # After the login controller has made the account the window's user.
        host.bus.subscribe(LoggedIn, lambda _e: host.root.after_idle(self.refresh))
        host.bus.subscribe(LoggedOut, lambda _e: self._on_listed(ProjectsListed(())))

    def get(self) -> str:
        """The choice: a project's name, ALL or NONE."""
        return self.box.get()

    def refresh(self) -> None:
        """Read the user's projects on the store worker (the list follows)."""
        user, store_worker, db = self.host.user, self.host.store, self.host.store_db
        if user is None:
            return
        store_worker.submit(
            lambda: store_worker.post(
                ProjectsListed(tuple(p.name for p in store.list_projects(db.get(), user.id)))
            )
        )

    def _on_listed(self, event: ProjectsListed) -> None:
        self.box.configure(values=(ALL, *event.names, NONE))
        if self.box.get() not in (ALL, NONE, *event.names):
            self.box.set(ALL)  # the chosen project was removed


class SourceOpener:
    """Opens a source link in the editor pane and puts the cursor on its line."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self._wanted: SourceLink | None = None
        host.bus.subscribe(FileRead, self._on_read)

    def open(self, link: SourceLink) -> None:
        """Show the editor with ``link``'s file; its line once the file is read."""
        self._wanted = link
        self.host.open_in_editor(link.path)

    def _on_read(self, event: FileRead) -> None:
        link, self._wanted = self._wanted, None
        if link is None or event.path != link.path:
            self._wanted = link
            return
        # After the editor's own handler has put the text in (it may subscribe later).
        self.host.root.after_idle(lambda: self._go(event.files.buffer.text, link.line))

    @staticmethod
    def _go(text: tk.Text, line: int) -> None:
        text.mark_set("insert", f"{line}.0")
        text.see(f"{line}.0")
        text.focus_set()


class SourceLinks:
    """The answer's sources as links under it, each opening its file at its line."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.opener = SourceOpener(host)
        self.pending: SourcesFound | None = None
        host.bus.subscribe(SourcesFound, lambda e: setattr(self, "pending", e))
        # Subscribed after the answering controller's AnswerDone: the answer is drawn first.
        host.bus.subscribe(AnswerDone, lambda _e: self._show())
        host.bus.subscribe(AnswerFailed, lambda _e: setattr(self, "pending", None))

    def finder(self, user: Any, chooser: ProjectChooser) -> Callable[[Any], bool]:
        """For the model worker: whether a job event was sources that became links."""
        self.pending = None
        user_id, project = (user.id if user else 0), project_of(chooser.get())
        model_db, post = self.host.model_db, self.host.model.post

        def found(event: Any) -> bool:
            if event.kind != "sources":
                return False
            sources = list(event.data or ())
            links = resolve(model_db.get(), user_id, sources, project=project)
            if links:
                linked = {k.label for k in links}
                post(SourcesFound(links, tuple(s for s in sources if s not in linked)))
            return bool(links)

        return found

    def _show(self) -> None:
        found, self.pending = self.pending, None
        if found is not None:
            shown: list[tuple[str, Callable[[], None] | None]] = [
                (k.label, lambda k=k: self.opener.open(k)) for k in found.links
            ]
            self.host.transcript.add_links("Sources:", shown + [(s, None) for s in found.others])
