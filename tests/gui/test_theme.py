"""The dark theme reaches every kind of widget: ttk styles, menus, a combobox's list."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from codenook.gui.theme import THEMES
from tests.gui.test_models_view import make_app

DARK = THEMES["dark"]


def test_the_dark_theme_paints_buttons_fields_lists_tables_scrollbars_and_menus() -> None:
    root, app = make_app()
    try:
        app.set_theme("dark")
        style = app.style
        assert style.lookup("TButton", "background") == DARK.panel
        assert style.lookup("TButton", "foreground") == DARK.fg
        assert style.lookup("TEntry", "fieldbackground") == DARK.input_bg
        assert style.lookup("TCombobox", "fieldbackground") == DARK.input_bg
        assert style.lookup("Treeview", "background") == DARK.bg
        assert style.lookup("Treeview.Heading", "background") == DARK.panel
        assert style.lookup("Vertical.TScrollbar", "troughcolor") == DARK.bg
        assert style.lookup("Horizontal.TScrollbar", "troughcolor") == DARK.bg
        assert str(app.menu.cget("background")) == DARK.panel
        submenu = next(w for w in app.menu.winfo_children() if isinstance(w, tk.Menu))
        assert str(submenu.cget("background")) == DARK.panel
        # Made after the switch: a context menu and a combobox's drop-down list.
        popup = tk.Menu(root)
        assert str(popup.cget("background")) == DARK.panel
        box = ttk.Combobox(root, values=("a", "b"))
        popdown = root.tk.call("ttk::combobox::PopdownWindow", box)
        listbox = f"{popdown}.f.l"
        assert str(root.tk.call(listbox, "cget", "-background")) == DARK.input_bg
        app.set_theme("light")
        assert style.lookup("TButton", "background") == THEMES["light"].panel
        assert str(app.menu.cget("background")) == THEMES["light"].panel
    finally:
        app.close()
