"""The Models window's adapter row: which LoRA adapter from ``codenook tune`` answers.

The list is read on the library worker (a small TOML file, but the Tk thread reads no
files); choosing one sets ``[model] adapter`` and reloads the model, as
``codenook models use BASE --adapter NAME`` does. An adapter made for another base is
refused by the load with a message naming the base it needs.
"""

from __future__ import annotations

import tkinter as tk
from dataclasses import dataclass, replace
from tkinter import ttk
from typing import TYPE_CHECKING

from codenook.gui.bus import Subscriptions
from codenook.gui.events import LibraryFailed
from codenook.library import registry

if TYPE_CHECKING:
    from codenook.gui.host import ModelsHost

#: The choice that means: no adapter.
NONE = "None"


@dataclass(frozen=True)
class AdaptersListed:
    """The registered adapters, read for one row (library worker)."""

    row: object
    adapters: tuple[registry.InstalledAdapter, ...]


def describe(adapter: registry.InstalledAdapter) -> str:
    """One line for the list: name, base, and what training did (perplexity, fim)."""
    figures = adapter.figures()
    return f"{adapter.name} (for {adapter.base_name}{'; ' + figures if figures else ''})"


class AdapterRow(ttk.Frame):
    """ "LoRA adapter: [choice] [Use adapter]" with the adapter in use chosen."""

    def __init__(self, master: tk.Misc, app: ModelsHost, *, say: object) -> None:
        super().__init__(master)
        self.app = app
        self.say = say
        self.names: dict[str, str | None] = {NONE: None}
        ttk.Label(self, text="LoRA adapter:").pack(side="left")
        self.choice = ttk.Combobox(self, values=(NONE,), state="readonly", width=60)
        self.choice.set(NONE)
        self.choice.pack(side="left", padx=6)
        ttk.Button(self, text="Use adapter", command=self.use).pack(side="left")
        self.subscriptions = Subscriptions(app.bus)
        self.subscriptions.add(
            AdaptersListed, lambda e: self._show(e.adapters) if e.row is self else None
        )
        self.refresh()

    def refresh(self) -> None:
        """Read the registered adapters (library worker)."""
        post = self.app.library.post
        self.app.library.submit(
            lambda: post(AdaptersListed(self, tuple(registry.load_adapters()))),
            on_error=LibraryFailed,
        )

    def _show(self, adapters: tuple[registry.InstalledAdapter, ...]) -> None:
        if not self.winfo_exists():
            return
        self.names = {NONE: None, **{describe(a): a.name for a in adapters}}
        self.choice.configure(values=tuple(self.names))
        current = self.app.settings.model.adapter
        shown = next((label for label, name in self.names.items() if name == current), NONE)
        self.choice.set(shown)

    def use(self) -> None:
        """Answer with the chosen adapter (or none): saved, and the model reloads."""
        name = self.names.get(self.choice.get())
        s = self.app.settings
        if name == s.model.adapter:
            return
        self.app.apply_settings(replace(s, model=replace(s.model, adapter=name)))
        self.say(
            f"Loading the model with adapter {name}…" if name else "Loading without an adapter…"
        )

    def destroy(self) -> None:
        """Stop listening on the bus, then go."""
        self.subscriptions.close()
        super().destroy()
