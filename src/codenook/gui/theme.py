"""Light and dark palettes, and Pygments colours for code."""

from __future__ import annotations

import tkinter as tk
from dataclasses import dataclass
from tkinter import ttk

from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES

from codenook.gui.markdown import token_tag


@dataclass(frozen=True)
class Theme:
    """Colours for one theme."""

    name: str
    bg: str
    fg: str
    panel: str
    input_bg: str
    muted: str
    accent: str
    user_bg: str
    code_bg: str
    pygments: str


THEMES = {
    "light": Theme(
        "light",
        "#ffffff",
        "#1f2328",
        "#f3f4f6",
        "#ffffff",
        "#6b7280",
        "#2563eb",
        "#eef2ff",
        "#f6f8fa",
        "default",
    ),
    "dark": Theme(
        "dark",
        "#1e1f22",
        "#e6e6e6",
        "#2b2d31",
        "#26282c",
        "#9ca3af",
        "#60a5fa",
        "#2a3142",
        "#16171a",
        "monokai",
    ),
}


def code_colours(theme: Theme) -> dict[str, dict[str, str]]:
    """Tk tag options for every Pygments token type in the theme's style."""
    style = get_style_by_name(theme.pygments)
    out: dict[str, dict[str, str]] = {}
    for ttype in STANDARD_TYPES:
        spec = style.style_for_token(ttype)
        opts = {"foreground": f"#{spec['color']}" if spec["color"] else theme.fg}
        out[token_tag(ttype)] = opts
    return out


def style_widgets(root: tk.Misc, style: ttk.Style, theme: Theme) -> None:
    """Paint the ttk styles, menus and combobox lists in ``theme`` (they kept Tk's light grey).

    ttk widgets take their colours from the style, tk menus and a combobox's drop-down
    list from the option database; both are set here for every widget, existing or new.
    """
    t = theme
    active = t.user_bg  # a hovered or pressed control: a step from the panel colour
    style.configure(".", background=t.panel, foreground=t.fg, fieldbackground=t.input_bg)
    style.configure("TFrame", background=t.panel)
    style.configure("TLabel", background=t.panel, foreground=t.fg)
    style.configure("TButton", background=t.panel, foreground=t.fg, bordercolor=t.muted)
    style.map("TButton", background=[("pressed", t.accent), ("active", active)])
    style.configure("TEntry", fieldbackground=t.input_bg, foreground=t.fg, insertcolor=t.fg)
    style.configure(
        "TCombobox",
        fieldbackground=t.input_bg,
        background=t.panel,
        foreground=t.fg,
        arrowcolor=t.fg,
    )
    style.map(
        "TCombobox",
        fieldbackground=[("readonly", t.input_bg)],
        foreground=[("readonly", t.fg)],
        selectbackground=[("readonly", t.input_bg)],
        selectforeground=[("readonly", t.fg)],
    )
    style.configure("Treeview", background=t.bg, fieldbackground=t.bg, foreground=t.fg)
    style.configure("Treeview.Heading", background=t.panel, foreground=t.fg)
    style.map("Treeview", background=[("selected", t.accent)])
    for bar in ("Vertical.TScrollbar", "Horizontal.TScrollbar"):
        style.configure(bar, background=t.panel, troughcolor=t.bg, arrowcolor=t.fg)
    style.configure("TProgressbar", troughcolor=t.bg)
    # The option database reaches widgets made later: menus and a combobox's list.
    for pattern, value in (
        ("*Menu.background", t.panel),
        ("*Menu.foreground", t.fg),
        ("*Menu.activeBackground", t.accent),
        ("*Menu.activeForeground", t.bg),
        ("*TCombobox*Listbox.background", t.input_bg),
        ("*TCombobox*Listbox.foreground", t.fg),
        ("*TCombobox*Listbox.selectBackground", t.accent),
        ("*TCombobox*Listbox.selectForeground", t.bg),
    ):
        root.option_add(pattern, value)
    _paint_menus(root, t)


def _paint_menus(widget: tk.Misc, theme: Theme) -> None:
    """Recolour the menus that exist already (the option database only reaches new ones)."""
    for child in widget.winfo_children():
        if isinstance(child, tk.Menu):
            child.configure(
                background=theme.panel,
                foreground=theme.fg,
                activebackground=theme.accent,
                activeforeground=theme.bg,
            )
        _paint_menus(child, theme)
