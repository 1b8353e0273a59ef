"""The Feedback… form: a rating, a category, a comment, and whether to include the chat."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from codenook.assist.feedback import CATEGORIES, MAX_COMMENT


class FeedbackDialog(tk.Toplevel):
    """Ask for feedback on one answer; ``on_submit`` gets the fields when they look right."""

    def __init__(self, master: tk.Misc, *, message_id: int, on_submit: Callable[..., None]) -> None:
        super().__init__(master)
        self.title("Feedback on this answer")
        self.transient(master)
        self.message_id = message_id
        self.on_submit = on_submit
        body = ttk.Frame(self, padding=12)
        body.pack(fill="both", expand=True)
        ttk.Label(body, text="Rating").grid(row=0, column=0, sticky="w")
        self.rating = tk.IntVar(value=3)
        stars = ttk.Frame(body)
        stars.grid(row=0, column=1, sticky="w")
        for n in range(1, 6):
            ttk.Radiobutton(stars, text=str(n), value=n, variable=self.rating).pack(side="left")
        ttk.Label(body, text="What was it?").grid(row=1, column=0, sticky="w", pady=4)
        self.category = ttk.Combobox(body, values=list(CATEGORIES.values()), state="readonly")
        self.category.set(next(iter(CATEGORIES.values())))
        self.category.grid(row=1, column=1, sticky="ew", pady=4)
        ttk.Label(body, text=f"Comment (up to {MAX_COMMENT:,} characters)").grid(
            row=2, column=0, columnspan=2, sticky="w"
        )
        self.comment = tk.Text(body, height=6, width=50, wrap="word")
        self.comment.grid(row=3, column=0, columnspan=2, sticky="nsew")
        self.include = tk.BooleanVar(value=False)
        ttk.Checkbutton(body, text="Include this conversation", variable=self.include).grid(
            row=4, column=0, columnspan=2, sticky="w", pady=4
        )
        self.error = ttk.Label(body, text="", foreground="#dc2626")
        self.error.grid(row=5, column=0, columnspan=2, sticky="w")
        buttons = ttk.Frame(body)
        buttons.grid(row=6, column=0, columnspan=2, sticky="e")
        ttk.Button(buttons, text="Cancel", command=self.destroy).pack(side="right")
        ttk.Button(buttons, text="Send feedback", command=self.submit).pack(side="right", padx=6)
        body.columnconfigure(1, weight=1)
        self.bind("<Escape>", lambda _e: self.destroy())

    def submit(self) -> None:
        """Check the comment's length here; the core checks everything again."""
        comment = self.comment.get("1.0", "end-1c")
        if len(comment) > MAX_COMMENT:
            self.error.configure(
                text=f"The comment is {len(comment):,} characters; the limit is {MAX_COMMENT:,}."
            )
            return
        self.on_submit(
            self.message_id,
            rating=self.rating.get(),
            category=self.category.get(),
            comment=comment,
            include_conversation=self.include.get(),
        )
        self.destroy()
