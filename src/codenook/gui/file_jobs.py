"""Jobs on the editor's file (review, debug, document, explain, ask) and their diffs.

A job runs in the chat (the window's answering controller streams it); what it proposes
comes back here as a diff under the editor, with Apply and Reject. Apply patches on the
tools worker and hands the result back as a typed event (:class:`Patched`).
"""

from __future__ import annotations

import tempfile
import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tkinter import simpledialog
from typing import TYPE_CHECKING, Any, Protocol

from codenook.gui.diff_view import DiffView
from codenook.gui.theme import Theme

if TYPE_CHECKING:  # the jobs and the diff tools load on first use: the window maps sooner
    from codenook.assist.jobs import JobEvent, JobResult

#: Starts job ``name`` in the chat with a label and options; the callback gets its result.
StartJob = Callable[[str, str, dict[str, Any], Callable[[Any, list[Any]], None]], bool]


@dataclass(frozen=True)
class Patched:
    """A diff was applied to ``base`` (tools worker): ``new`` is the text, or ``error``."""

    jobs: FileJobs
    base: str
    new: str = ""
    error: str = ""


class Pane(Protocol):
    """What the file jobs need of the editor pane."""

    path: str | None
    language: str
    status: tk.Label

    @property
    def dirty(self) -> bool:
        """Whether the buffer has changes not saved."""
        ...

    def get_text(self) -> str:
        """The buffer's text."""
        ...

    def selection(self) -> str:
        """The selected text."""
        ...

    def replace_text(self, new: str) -> None:
        """Make the buffer ``new`` as one undo step."""

    def show_message(self, text: str) -> None:
        """A line above the status bar."""

    def update_status(self, *, note: str = "") -> None:
        """Redraw the status bar."""


class FileJobs:
    """The editor's job buttons and menu entries, and the diff view they fill."""

    def __init__(
        self,
        pane: Pane,
        master: tk.Misc,
        *,
        start_job: StartJob,
        run_tools: Callable[[Callable[[], None]], None],
        post: Callable[[object], None],
        subscribe: Callable[..., Any],
        theme: Theme,
        size: int,
    ) -> None:
        self.pane = pane
        self.start_job = start_job
        self.run_tools = run_tools
        self.post = post
        self.diff_view = DiffView(
            master, theme=theme, size=size, on_apply=self.apply_diff, on_reject=self.reject_diff
        )
        self._diff_base = ""
        subscribe(Patched, lambda e: e.jobs is self and self._patched(e))

    def file_name(self) -> str:
        """The file's name, or "untitled"."""
        return Path(self.pane.path).name if self.pane.path else "untitled"

    def _file_options(self) -> dict[str, Any]:
        p = self.pane
        return {"source": p.get_text(), "path": p.path, "language": p.language}

    def _job(self, name: str, label: str, options: dict[str, Any]) -> bool:
        base = self.pane.get_text()
        if not base.strip() and name != "ask":
            self.pane.show_message(f"The file is empty: there is nothing to {name}.")
            return False
        self.pane.show_message("")
        return self.start_job(
            name, label, options, lambda result, events: self.job_done(base, result, events)
        )

    def review(self) -> bool:
        """Review this file: linters, then the model; its diff is offered here."""
        return self._job("review", f"Review {self.file_name()}", self._file_options())

    def document(self) -> bool:
        """Document this file; the docstrings are offered here as a diff."""
        return self._job("document", f"Document {self.file_name()}", self._file_options())

    def debug(self) -> bool:
        """Run this file in the sandbox and debug what fails; the fix is offered as a diff."""
        pane = self.pane
        path = pane.path
        if path is None or pane.dirty:
            # The sandbox runs a file: the buffer as it is now, under the file's name.
            folder = Path(tempfile.mkdtemp(prefix="codenook-editor-"))
            ext = "sh" if pane.language == "bash" else "py"
            copy = folder / self.file_name() if pane.path else folder / f"untitled.{ext}"
            copy.write_text(pane.get_text(), encoding="utf-8")
            path = str(copy)
        return self._job(
            "debug", f"Debug {self.file_name()}", {"path": path, "language": pane.language}
        )

    def explain_selection(self) -> bool:
        """Explain the selected code (or the whole file) in the chat."""
        pane = self.pane
        code = pane.selection() or pane.get_text()
        what = "this selection from" if pane.selection() else "the file"
        fence = f"```{pane.language}\n{code.rstrip()}\n```"
        question = f"Explain what {what} {self.file_name()} does:\n\n{fence}"
        return self._job(
            "ask",
            f"Explain the selection in {self.file_name()}",
            {"question": question, "language": pane.language},
        )

    def ask_selection(self, question: str | None = None, *, parent: tk.Misc | None = None) -> bool:
        """Ask a question about the selected code (or the whole file) in the chat."""
        if question is None:
            question = simpledialog.askstring(
                "Ask about the selection", "Your question:", parent=parent
            )
        if not question or not question.strip():
            return False
        pane = self.pane
        code = pane.selection() or pane.get_text()
        full = f"{question.strip()}\n\n```{pane.language}\n{code.rstrip()}\n```"
        return self._job("ask", question.strip(), {"question": full, "language": pane.language})

    def job_done(self, base: str, result: JobResult, events: list[JobEvent]) -> None:
        """A job on the file finished: offer its change as a diff. Tk thread."""
        said = [e.text for e in events if e.kind in ("findings", "error", "note", "run", "verify")]
        notes = "\n".join(said)
        diff = result.diff
        if diff is None and result.text is not None and result.text != base:
            from codenook.assist.tools.diffs import make_diff

            diff = make_diff(base, result.text, self.file_name())  # document: the new text
        if diff:
            title = f"{result.job.capitalize()}: proposed change to {self.file_name()}"
            self.propose_diff(diff, title=title, notes=notes)
        elif notes and result.job != "ask":
            self.pane.show_message(notes.splitlines()[0])

    def propose_diff(self, diff: str, *, title: str, notes: str = "") -> None:
        """Show ``diff`` under the editor with Apply and Reject."""
        self._diff_base = self.pane.get_text()
        self.diff_view.show(diff, title=title, notes=notes)
        self.diff_view.pack(side="bottom", fill="both", before=self.pane.status)

    def hide_diff(self) -> None:
        """Take the diff view away."""
        self.diff_view.pack_forget()

    def reject_diff(self) -> None:
        """Reject: the buffer is not touched."""
        self.hide_diff()

    def apply_diff(self, diff: str) -> None:
        """Apply the proposed diff to the buffer (patch runs on a worker): one undo step."""
        base = self.pane.get_text()
        name = self.file_name()

        def patch() -> None:
            from codenook.assist.tools.diffs import DiffError, apply_diff

            try:
                new = apply_diff(base, diff, name=name).text
            except DiffError as exc:
                self.post(Patched(self, base, error=str(exc)))
                return
            self.post(Patched(self, base, new))

        self.run_tools(patch)

    def _patched(self, event: Patched) -> None:
        pane = self.pane
        if event.error:
            pane.show_message(event.error)
            return
        if pane.get_text() != event.base:
            pane.show_message("The file changed while the diff was applied; apply it again.")
            return
        pane.replace_text(event.new)
        self.hide_diff()
        pane.update_status(note="Change applied (Ctrl+Z undoes it)")
