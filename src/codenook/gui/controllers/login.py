"""Login: the login screen, the first account (and its recovery code), and logging out."""

from __future__ import annotations

import logging
import tkinter as tk
from dataclasses import dataclass, field
from tkinter import ttk

from codenook.auth import Auth, AuthError, User
from codenook.gui.commands import Command
from codenook.gui.events import Accounts, LoggedIn, LoggedOut, LoginFailed
from codenook.gui.host import Host

log = logging.getLogger(__name__)
CLEARED = " Both password fields were cleared: type the new password in each."


@dataclass(frozen=True)
class RecoveryCodeMade:
    """A new account's one-time recovery code, to show once (store worker)."""

    name: str
    code: str = field(repr=False)


class LoginController:
    """The login frame; a checked login is announced on the bus as :class:`LoggedIn`."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.creating = False
        bus = host.bus
        bus.subscribe(Accounts, self._on_accounts)
        bus.subscribe(LoginFailed, self._on_failed)
        bus.subscribe(LoggedIn, self._on_logged_in)
        bus.subscribe(RecoveryCodeMade, self._show_recovery_code)
        self.code_dialog: RecoveryCodeDialog | None = None

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
            self._clear_passwords()
            self.error.configure(text="The two passwords differ." + CLEARED)
            return
        self.button.state(["disabled"])
        self.error.configure(text="Checking…")
        creating, store, db = self.creating, self.host.store, self.host.store_db

        def job() -> None:
            auth = Auth(db.get())
            try:
                if creating:
                    new = auth.create_user(name, password)
                    user = User(new.id, new.name, new.is_admin)  # the code goes no further
                    store.post(LoggedIn(user))
                    store.post(RecoveryCodeMade(new.name, new.recovery_code))
                else:
                    store.post(LoggedIn(auth.verify(name, password)))
            except AuthError as exc:
                # A person's mistake, not a crash: one line, no traceback (auth logs a
                # refused login as a warning already).
                log.info("%s refused: %s", "Account" if creating else "Login", exc)
                store.post(LoginFailed(exc))

        store.submit(job, on_error=LoginFailed)

    def _clear_passwords(self) -> None:
        """Empty both password fields (a refused password must not stay to be typed onto)."""
        self.password_entry.delete(0, "end")
        self.repeat_entry.delete(0, "end")
        self.password_entry.focus_set()

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
        text = str(event.error)
        if self.creating and isinstance(event.error, AuthError):
            self._clear_passwords()
            text += CLEARED
        self.error.configure(text=text)
        self.button.state(["!disabled"])

    def _on_logged_in(self, _event: LoggedIn) -> None:
        self.password_entry.delete(0, "end")
        self.repeat_entry.delete(0, "end")
        self.error.configure(text="")
        self.button.state(["!disabled"])

    def _show_recovery_code(self, event: RecoveryCodeMade) -> None:
        self.code_dialog = RecoveryCodeDialog(self.frame.winfo_toplevel(), event.name, event.code)


class RecoveryCodeDialog(tk.Toplevel):
    """Shows a new account's recovery code once, in a field the user can select and copy."""

    def __init__(self, master: tk.Misc, name: str, code: str) -> None:
        super().__init__(master)
        self.title("Recovery code — codenook")
        self.transient(master)
        body = ttk.Frame(self, padding=16)  # ttk throughout: the theme's styles paint it
        body.pack(fill="both", expand=True)
        self.words = [
            f"The recovery code for '{name}' is shown only this once: write it down and "
            "keep it away from this computer.",
            f"If the password is forgotten, 'codenook users recover {name}' sets a new one "
            "with this code (each code works once).",
        ]
        ttk.Label(body, text=self.words[0], justify="left", wraplength=420).pack(anchor="w")
        self.code = ttk.Entry(body, width=len(code) + 2, font=("TkFixedFont", 13))
        self.code.insert(0, code)
        self.code.configure(state="readonly")  # selectable and copyable, not editable
        self.code.pack(pady=10)
        ttk.Label(body, text=self.words[1], justify="left", wraplength=420).pack(anchor="w")
        row = ttk.Frame(body)
        row.pack(fill="x", pady=(10, 0))
        ttk.Button(row, text="Close", command=self.destroy).pack(side="right")
        self.copy_button = ttk.Button(row, text="Copy", command=self.copy)
        self.copy_button.pack(side="right", padx=6)
        self.bind("<Escape>", lambda _e: self.destroy())
        self.code.focus_set()
        self.code.selection_range(0, "end")

    def copy(self) -> None:
        """Put the code on the clipboard."""
        self.clipboard_clear()
        self.clipboard_append(self.code.get())
