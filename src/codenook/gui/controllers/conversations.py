"""Conversations: the sidebar, search, open, new, rename, delete and export."""

from __future__ import annotations

import tkinter as tk
from tkinter import filedialog, messagebox, ttk

from codenook import safefile
from codenook.assist import history
from codenook.gui.commands import Command
from codenook.gui.events import (
    AnswerDone,
    AnswerFailed,
    ConversationList,
    ConversationLoaded,
    ConversationOpened,
    ConversationStarted,
    LoggedIn,
    LoggedOut,
    QuestionSent,
    Saved,
)
from codenook.gui.host import Host
from codenook.gui.transcript import Tooltip, finish_label
from codenook.store import conversations as store


class ConversationsController:
    """The sidebar's list of the user's conversations and what can be done with them."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.conversations: list[store.ConversationRow] = []
        #: A new conversation's title, shown at the top until the store lists it.
        self.pending: str | None = None
        bus = host.bus
        bus.subscribe(LoggedIn, lambda e: self.refresh(open_latest=True, user=e.user))
        bus.subscribe(LoggedOut, lambda _e: self._logged_out())
        bus.subscribe(ConversationList, self._on_list)
        bus.subscribe(ConversationLoaded, self._on_loaded)
        bus.subscribe(AnswerDone, self._on_answer_done)
        bus.subscribe(AnswerFailed, lambda _e: self._answer_ended())
        bus.subscribe(QuestionSent, self._on_question_sent)
        bus.subscribe(ConversationStarted, self._on_started)

    def commands(self) -> list[Command]:
        """New, export, and the search box's key."""
        return [
            Command(
                "New conversation",
                self.new_conversation,
                menu="File",
                key="<Control-n>",
                accelerator="Ctrl+N",
            ),
            Command("Export as Markdown…", lambda: self.export("md"), menu="File"),
            Command("Export as JSON…", lambda: self.export("json"), menu="File"),
            Command("Search", lambda: self.search_entry.focus_set(), key="<Control-f>"),
        ]

    def build(self, master: tk.Misc) -> tk.Frame:
        """The sidebar: New, the search box and the list."""
        side = tk.Frame(master)
        top = tk.Frame(side)
        top.pack(fill="x", padx=6, pady=6)
        self.new_button = ttk.Button(top, text="New", command=self.new_conversation, width=6)
        self.new_button.pack(side="left")
        Tooltip(self.new_button, "New conversation (Ctrl+N)")
        self.search_entry = ttk.Entry(top)
        self.search_entry.pack(side="left", fill="x", expand=True, padx=(6, 0))
        self.search_entry.bind("<Return>", lambda _e: self.search())
        self.search_entry.bind("<Escape>", lambda _e: self.clear_search())
        Tooltip(self.search_entry, "Search your conversations (Ctrl+F, Enter)")
        self.conv_list = tk.Listbox(
            side, activestyle="none", borderwidth=0, highlightthickness=0, exportselection=False
        )
        self.conv_list.pack(fill="both", expand=True, padx=6, pady=(0, 6))
        self.conv_list.bind("<<ListboxSelect>>", self._on_pick)
        self.conv_list.bind("<Button-3>", self._context_menu)
        return side

    # -- actions (Tk thread) -----------------------------------------------------------

    def refresh(self, *, open_latest: bool = False, user: object = None) -> None:
        """Reload the sidebar (newest first); after login the newest is opened."""
        user = user or self.host.user
        if user is None:
            return
        store_worker, db, user_id = self.host.store, self.host.store_db, user.id  # type: ignore[attr-defined]

        def job() -> None:
            rows = store.list_conversations(db.get(), user_id)
            store_worker.post(ConversationList(rows, open_latest))

        store_worker.submit(job)

    def open_conversation(self, conv_id: int) -> None:
        """Show a stored conversation and continue it."""
        host = self.host
        user = host.user
        if user is None or host.busy:
            return
        host.conversation_id = conv_id
        host.bus.publish(ConversationOpened(conv_id))
        worker, db = host.store, host.store_db
        worker.submit(
            lambda: worker.post(ConversationLoaded(history.load(db.get(), user.id, conv_id)))
        )

    def new_conversation(self) -> None:
        """Start an empty conversation."""
        if self.host.busy:
            return
        self.host.conversation_id = None
        self.host.transcript.clear()
        self.conv_list.selection_clear(0, "end")
        self.host.bus.publish(ConversationOpened(None))
        self.host.focus_input()

    def search(self) -> None:
        """Full-text search; the sidebar shows matching conversations."""
        user, text = self.host.user, self.search_entry.get().strip()
        if user is None:
            return
        if not text:
            self.refresh()
            return
        worker, db = self.host.store, self.host.store_db

        def job() -> None:
            conn = db.get()
            ids = dict.fromkeys(h.conversation_id for h in store.search(conn, user.id, text))
            rows = [r for i in ids if (r := store.get_conversation(conn, user.id, i))]
            worker.post(ConversationList(rows))

        worker.submit(job)

    def clear_search(self) -> None:
        """Show all conversations again."""
        self.search_entry.delete(0, "end")
        self.refresh()

    def rename(self, conv_id: int, title: str | None = None) -> None:
        """Give a conversation a new title (asks when none is given)."""
        from tkinter import simpledialog

        if title is None:
            title = simpledialog.askstring("Rename", "New title:", parent=self.host.root)
        user = self.host.user
        if not title or not title.strip() or user is None:
            return
        clean = " ".join(title.split())[:200]
        db = self.host.store_db
        self.host.store.submit(lambda: store.rename_conversation(db.get(), user.id, conv_id, clean))
        self.refresh()

    def delete(self, conv_id: int, *, confirm: bool = True) -> None:
        """Delete a conversation after confirmation."""
        user = self.host.user
        if user is None:
            return
        if confirm and not messagebox.askyesno(
            "Delete conversation",
            "Delete this conversation and all its messages?",
            parent=self.host.root,
        ):
            return
        if conv_id == self.host.conversation_id:
            self.new_conversation()
        db = self.host.store_db
        self.host.store.submit(lambda: store.delete_conversation(db.get(), user.id, conv_id))
        self.refresh()

    def export(self, fmt: str) -> None:
        """Save the open conversation as Markdown or JSON."""
        user, conv_id = self.host.user, self.host.conversation_id
        if user is None or conv_id is None:
            return
        path = filedialog.asksaveasfilename(
            parent=self.host.root,
            defaultextension=f".{fmt}",
            filetypes=[("Markdown", "*.md")] if fmt == "md" else [("JSON", "*.json")],
        )
        if not path:
            return
        worker, db = self.host.store, self.host.store_db

        def job() -> None:
            doc = history.load(db.get(), user.id, conv_id)
            text = history.to_markdown(doc) if fmt == "md" else history.to_json(doc)
            # The dialog asked before replacing: a link there is replaced, never followed.
            safefile.write_file(path, text, force=True)
            worker.post(Saved(path))

        worker.submit(job)

    # -- events ------------------------------------------------------------------------

    def _on_pick(self, _event: tk.Event) -> None:
        sel = self.conv_list.curselection()
        index = sel[0] - (self.pending is not None) if sel else -1
        if 0 <= index < len(self.conversations):
            conv = self.conversations[index]
            if conv.id != self.host.conversation_id:
                self.open_conversation(conv.id)

    def _context_menu(self, event: tk.Event) -> None:
        index = self.conv_list.nearest(event.y) - (self.pending is not None)
        if index < 0 or index >= len(self.conversations):
            return
        conv = self.conversations[index]
        menu = tk.Menu(self.host.root, tearoff=False)
        menu.add_command(label="Rename…", command=lambda: self.rename(conv.id))
        menu.add_command(label="Delete…", command=lambda: self.delete(conv.id))
        menu.tk_popup(event.x_root, event.y_root)

    def _on_list(self, event: ConversationList) -> None:
        rows = self.conversations = event.rows
        current = self.host.conversation_id
        if current is not None and any(r.id == current for r in rows):
            self.pending = None  # the store lists it now
        self.conv_list.delete(0, "end")
        if self.pending is not None:
            self.conv_list.insert("end", self.pending)
            self.conv_list.selection_set(0)
        for row in rows:
            self.conv_list.insert("end", row.title)
        if current is not None:
            for i, row in enumerate(rows):
                if row.id == current:
                    self.conv_list.selection_clear(0, "end")
                    self.conv_list.selection_set(i)
        if event.open_latest and rows:
            self.open_conversation(rows[0].id)

    def _on_loaded(self, event: ConversationLoaded) -> None:
        transcript = self.host.transcript
        transcript.clear()
        for m in event.doc["messages"]:
            if m["role"] == "user":
                transcript.add_user(m["content"])
            else:
                note = finish_label(m) or ("" if m["complete"] else "(partial answer)")
                transcript.add_answer(m["content"], message_id=m["id"], note=note)

    def _on_answer_done(self, event: AnswerDone) -> None:
        if self.pending is not None or "message_id" in event.figures:
            # A regenerated answer streamed in place of the old one: nothing to show anew.
            self._answer_ended()

    def _answer_ended(self) -> None:
        self.pending = None  # whatever the store holds now is listed as it is
        self.refresh()

    def _on_question_sent(self, event: QuestionSent) -> None:
        """A new conversation shows in the sidebar as its first question goes out."""
        if event.conversation_id is not None or self.pending is not None:
            return
        self.pending = store.make_title(event.text)
        self.conv_list.selection_clear(0, "end")
        self.conv_list.insert(0, self.pending)
        self.conv_list.selection_set(0)

    def _on_started(self, event: ConversationStarted) -> None:
        # The store has the new conversation now: list it under its real row.
        if self.pending is not None and event.conversation_id is not None:
            self.refresh()

    def _logged_out(self) -> None:
        self.pending = None
        self.host.conversation_id = None
        self.host.transcript.clear()
