"""The Tune window's material: repository folders, a documentation folder, Q&A datasets,
and the user's liked answers, as ``codenook tune data`` takes them.

The pickers only collect paths (file dialogs, or :meth:`TuneSources.add_repo` and its
siblings from code); the dataset itself is built by :mod:`codenook.tuning.session`.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from tkinter import filedialog, ttk

#: Rows each list shows before it scrolls.
LIST_ROWS = 3


@dataclass(frozen=True)
class Material:
    """What the user picked: the arguments of ``tune data``."""

    repos: tuple[str, ...]
    docs: str | None
    qa: tuple[str, ...]
    liked: bool

    @property
    def empty(self) -> bool:
        """Nothing to learn from."""
        return not (self.repos or self.docs or self.qa or self.liked)


class TuneSources(ttk.LabelFrame):
    """Lists of repository folders and Q&A files, a documentation folder, and liked answers."""

    def __init__(self, master: tk.Misc) -> None:
        super().__init__(master, text="Learn from", padding=6)
        self.repos = self._list_row("Repository folders", self._browse_repo)
        self.qa = self._list_row("Q&A datasets (JSONL)", self._browse_qa)
        row = ttk.Frame(self)
        row.pack(fill="x", pady=2)
        ttk.Label(row, text="Documentation folder", width=22).pack(side="left")
        self.docs = ttk.Entry(row)
        self.docs.pack(side="left", fill="x", expand=True, padx=4)
        ttk.Button(row, text="Browse…", command=self._browse_docs).pack(side="left")
        self.liked = tk.BooleanVar(self, value=False)
        ttk.Checkbutton(self, text="Include my liked answers (👍)", variable=self.liked).pack(
            anchor="w", pady=(2, 0)
        )

    def _list_row(self, label: str, browse: Callable[[], None]) -> tk.Listbox:
        row = ttk.Frame(self)
        row.pack(fill="x", pady=2)
        ttk.Label(row, text=label, width=22).pack(side="left", anchor="n")
        box = tk.Listbox(row, height=LIST_ROWS, exportselection=False)
        box.pack(side="left", fill="x", expand=True, padx=4)
        buttons = ttk.Frame(row)
        buttons.pack(side="left", anchor="n")
        ttk.Button(buttons, text="Add…", command=browse).pack(fill="x")
        ttk.Button(buttons, text="Remove", command=lambda: self._remove(box)).pack(fill="x")
        return box

    @staticmethod
    def _add(box: tk.Listbox, path: str) -> None:
        if path and str(path) not in [str(p) for p in box.get(0, "end")]:
            box.insert("end", path)

    @staticmethod
    def _remove(box: tk.Listbox) -> None:
        for index in reversed(box.curselection()):
            box.delete(index)

    def add_repo(self, folder: str) -> None:
        """Add a repository folder (once)."""
        self._add(self.repos, folder)

    def add_qa(self, path: str) -> None:
        """Add a Q&A dataset file (once)."""
        self._add(self.qa, path)

    def set_docs(self, folder: str) -> None:
        """Choose the documentation folder ("" for none)."""
        self.docs.delete(0, "end")
        self.docs.insert(0, folder)

    def _browse_repo(self) -> None:
        self.add_repo(filedialog.askdirectory(parent=self, title="Repository to learn from"))

    def _browse_qa(self) -> None:
        for path in filedialog.askopenfilenames(
            parent=self, title="Q&A datasets", filetypes=[("JSON lines", "*.jsonl")]
        ):
            self.add_qa(path)

    def _browse_docs(self) -> None:
        folder = filedialog.askdirectory(parent=self, title="Documentation folder")
        if folder:
            self.set_docs(folder)

    def material(self) -> Material:
        """What is picked now."""
        # Plain Python values, made on the Tk thread: the tune thread reads them.
        return Material(
            repos=tuple(str(p) for p in self.repos.get(0, "end")),
            docs=self.docs.get().strip() or None,
            qa=tuple(str(p) for p in self.qa.get(0, "end")),
            liked=bool(self.liked.get()),
        )
