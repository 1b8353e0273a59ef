"""Commands declared once (label, menu, key, when enabled); menus and keys built from them.

Learnt from Thonny's ``add_command``: each controller lists what it can do, and the
window's shell turns the lists into the menu bar and the key bindings, so a command's
label, accelerator and condition live in one place.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Command:
    """One thing the user can do from a menu, a key, or both."""

    label: str
    run: Callable[[], object]
    #: The menu it is listed in ("File", "Edit", ...); None: a key only.
    menu: str | None = None
    #: The Tk event sequence bound on the whole window, e.g. ``"<Control-n>"``.
    key: str | None = None
    #: The key as the menu shows it, e.g. ``"Ctrl+N"``.
    accelerator: str | None = None
    #: Whether the command can run now (its menu entry is greyed and its key ignored if not).
    enabled: Callable[[], bool] = _always
    #: A separator goes above it in its menu.
    separator: bool = False
    #: A check entry bound to this variable (``run`` is called after each toggle).
    check: tk.BooleanVar | None = None
    #: A submenu, filled by this function each time it opens (``run`` is not used).
    submenu: Callable[[tk.Menu], None] | None = None

    def invoke(self) -> object:
        """Run the command if it is enabled now."""
        return self.run() if self.enabled() else None


def build_menu_bar(root: tk.Misc, commands: Iterable[Command], order: Sequence[str]) -> tk.Menu:
    """The menu bar: one cascade per menu in ``order``, entries in declaration order."""
    bar = tk.Menu(root)
    listed = [c for c in commands if c.menu is not None]
    for name in order:
        entries = [c for c in listed if c.menu == name]
        if entries:
            bar.add_cascade(label=name, menu=_menu(bar, entries))
    return bar


def _menu(bar: tk.Menu, entries: list[Command]) -> tk.Menu:
    menu = tk.Menu(bar, tearoff=False)
    for c in entries:
        if c.separator:
            menu.add_separator()
        if c.submenu is not None:
            fill = c.submenu
            sub = tk.Menu(menu, tearoff=False)
            sub.configure(postcommand=lambda sub=sub, fill=fill: fill(sub))
            menu.add_cascade(label=c.label, menu=sub)
        elif c.check is not None:
            menu.add_checkbutton(label=c.label, variable=c.check, command=c.invoke)
        else:
            extra = {"accelerator": c.accelerator} if c.accelerator else {}
            menu.add_command(label=c.label, command=c.invoke, **extra)

    def refresh() -> None:  # grey what cannot run now, each time the menu opens
        index = 0
        for c in entries:
            index += 1 if c.separator else 0
            state = "normal" if c.enabled() else "disabled"
            menu.entryconfigure(index, state=state)
            index += 1

    menu.configure(postcommand=refresh)
    return menu


def bind_keys(root: tk.Misc, commands: Iterable[Command]) -> None:
    """Bind each command's key on the whole window (ignored while it is disabled)."""
    for c in commands:
        if c.key is not None:
            root.bind(c.key, lambda _e, c=c: c.invoke() and None)
