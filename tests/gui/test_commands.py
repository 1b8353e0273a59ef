"""Commands declared once become menu entries and key bindings."""

from __future__ import annotations

import tkinter as tk

from codenook.gui.commands import Command, bind_keys, build_menu_bar


def test_menus_follow_the_declared_order_and_keys_respect_enabled() -> None:
    root = tk.Tk()
    try:
        ran: list[str] = []
        allowed = {"on": False}
        commands = [
            Command("Later", lambda: ran.append("later"), menu="View"),
            Command("New", lambda: ran.append("new"), "File", "<Control-n>", "Ctrl+N"),
            Command(
                "Guarded",
                lambda: ran.append("guarded"),
                "File",
                "<Control-g>",
                "Ctrl+G",
                lambda: allowed["on"],
                separator=True,
            ),
            Command("Key only", lambda: ran.append("key"), key="<Control-k>"),
        ]
        bar = build_menu_bar(root, commands, ("File", "Edit", "View"))
        entries = [i for i in range(bar.index("end") + 1) if bar.type(i) == "cascade"]
        assert [bar.entrycget(i, "label") for i in entries] == ["File", "View"]  # no Edit
        file_menu = root.nametowidget(bar.entrycget(entries[0], "menu"))
        labels = [
            file_menu.entrycget(i, "label") if file_menu.type(i) != "separator" else "-"
            for i in range(file_menu.index("end") + 1)
        ]
        assert labels == ["New", "-", "Guarded"]
        assert file_menu.entrycget(0, "accelerator") == "Ctrl+N"
        file_menu.invoke(0)
        file_menu.invoke(2)  # disabled now: nothing runs
        assert ran == ["new"]
        bind_keys(root, commands)
        root.focus_force()
        root.update()
        for seq in ("<Control-n>", "<Control-g>", "<Control-k>"):
            root.event_generate(seq)
        allowed["on"] = True
        root.event_generate("<Control-g>")
        root.update()
        assert ran == ["new", "new", "key", "guarded"]
        file_menu.tk.eval(str(file_menu.cget("postcommand")))  # the menu opening
        assert file_menu.entrycget(2, "state") == "normal"
        allowed["on"] = False
        file_menu.tk.eval(str(file_menu.cget("postcommand")))
        assert file_menu.entrycget(2, "state") == "disabled"
    finally:
        root.destroy()
