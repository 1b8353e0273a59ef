"""Login: the login screen, the first account, and logging out."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from codenook.auth import Auth
from codenook.gui.commands import Command
from codenook.gui.events import Accounts, LoggedIn, LoggedOut, LoginFailed
from codenook.gui.host import Host


class LoginController:
    """The login frame; a checked login is announced on the bus as :class:`LoggedIn`."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.creating = False
        bus = host.bus
        bus.subscribe(Accounts, self._on_accounts)
        bus.subscribe(LoginFailed, self._on_failed)
        bus.subscribe(LoggedIn, self._on_logged_in)

    def commands(self) -> list[Command]:
        """Log out, in the File menu."""
        return [Command("Log out", self.logout, menu="File", separator=True)]

    def build(self, master: tk.Misc) -> tk.Frame:
        """The login frame (not packed)."""
        f = tk.Frame(master)
        box = tk.Frame(f, padx=24, pady=24)
        box.place(relx=0.5, rely=0.4, anchor="center")
        self.title = tk.Label(box, text="codenook", font=("TkDefaultFont", 20, "bold"))
        self.title.grid(row=0, column=0, columnspan=2, pady=(0, 12))
        self.hint = tk.Label(box, text="Log in", wraplength=320)
        self.hint.grid(row=1, column=0, columnspan=2, pady=(0, 8))
        tk.Label(box, text="User name").grid(row=2, column=0, sticky="e", padx=4, pady=3)
        self.name_entry = ttk.Entry(box, width=28)
        self.name_entry.grid(row=2, column=1, pady=3)
        tk.Label(box, text="Password").grid(row=3, column=0, sticky="e", padx=4, pady=3)
        self.password_entry = ttk.Entry(box, width=28, show="•")
        self.password_entry.grid(row=3, column=1, pady=3)
        self.repeat_label = tk.Label(box, text="Repeat")
        self.repeat_entry = ttk.Entry(box, width=28, show="•")
        self.button = ttk.Button(box, text="Log in", command=self.submit)
        self.button.grid(row=5, column=1, sticky="e", pady=8)
        self.error = tk.Label(box, text="", foreground="#dc2626", wraplength=340)
        self.error.grid(row=6, column=0, columnspan=2)
        for w in (self.name_entry, self.password_entry, self.repeat_entry):
            w.bind("<Return>", lambda _e: self.submit())
        self.name_entry.focus_set()
        self.frame = f
        return f

    def check_accounts(self) -> None:
        """Ask the store whether any account exists (the first one is created here)."""
        store, db = self.host.store, self.host.store_db
        store.submit(lambda: store.post(Accounts(Auth(db.get()).has_users())))

    def submit(self) -> None:
        """Log in, or create the first account."""
        name = self.name_entry.get().strip()
        password = self.password_entry.get()
        if self.creating and password != self.repeat_entry.get():
            self.error.configure(text="The two passwords differ.")
            return
        self.button.state(["disabled"])
        self.error.configure(text="Checking…")
        creating, store, db = self.creating, self.host.store, self.host.store_db

        def job() -> None:
            auth = Auth(db.get())
            user = auth.create_user(name, password) if creating else auth.verify(name, password)
            store.post(LoggedIn(user))

        store.submit(job, on_error=LoginFailed)

    def logout(self) -> None:
        """Back to the login screen (the other controllers hear :class:`LoggedOut`)."""
        self.host.bus.publish(LoggedOut())
        self.name_entry.focus_set()

    def _on_accounts(self, event: Accounts) -> None:
        self.creating = not event.has_users
        if self.creating:
            self.hint.configure(text="No account yet: create the first one (admin).")
            self.repeat_label.grid(row=4, column=0, sticky="e", padx=4, pady=3)
            self.repeat_entry.grid(row=4, column=1, pady=3)
            self.button.configure(text="Create account")

    def _on_failed(self, event: LoginFailed) -> None:
        self.error.configure(text=str(event.error))
        self.button.state(["!disabled"])

    def _on_logged_in(self, _event: LoggedIn) -> None:
        self.password_entry.delete(0, "end")
        self.repeat_entry.delete(0, "end")
        self.error.configure(text="")
        self.button.state(["!disabled"])
