"""The conversation transcript: a read-only Text widget showing rendered Markdown."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from tkinter import font as tkfont
from typing import Any

from codenook.assist.finish import finish_note
from codenook.engine.backend import StreamResult
from codenook.gui.markdown import CodeBlock, to_blocks
from codenook.gui.theme import Theme, code_colours

CodeAction = Callable[[CodeBlock], None]


def finish_label(figures: dict[str, Any]) -> str:
    """What is said under an answer about how it ended, from its figures.

    The same for Stop, Esc and closing; the token limit in the words every face uses
    (:func:`codenook.assist.finish.finish_note`). Empty for an answer that ended itself.
    """
    reason = figures.get("finish_reason")
    if reason == "cancelled":
        return "(stopped)"
    if reason == "length":
        tokens = int(figures.get("answer_tokens") or 0)
        result = StreamResult(finish_reason="length", completion_tokens=tokens)
        return finish_note(result, longer='a larger "Max new tokens" (Settings, Sampling)') or ""
    return ""


@dataclass
class Actions:
    """What the buttons in the transcript do (set by the window)."""

    copy: CodeAction
    save: CodeAction
    run: CodeAction
    vote: Callable[[int, int], None]
    open_link: Callable[[str], None]
    #: "Insert into editor" (shown on code blocks when the window has an editor).
    insert: CodeAction | None = None


class Transcript(tk.Frame):
    """Messages one after another; the answer being streamed is plain text until it ends."""

    def __init__(self, master: tk.Misc, *, actions: Actions, theme: Theme, size: int) -> None:
        super().__init__(master)
        self.actions = actions
        self.text = tk.Text(
            self,
            wrap="word",
            padx=12,
            pady=8,
            borderwidth=0,
            highlightthickness=0,
            cursor="arrow",
            undo=False,
        )
        bar = tk.Scrollbar(self, command=self.text.yview)
        self.text.configure(yscrollcommand=bar.set, state="disabled")
        bar.pack(side="right", fill="y")
        self.text.pack(side="left", fill="both", expand=True)
        self.code_blocks: list[CodeBlock] = []
        self._links: dict[str, str] = {}
        self._buttons: list[tk.Widget] = []
        #: Each answer's ▲ and ▼ buttons, by message id, to show its vote.
        self.vote_buttons: dict[int, dict[int, tk.Button]] = {}
        self.streaming = False
        self._streamed_any = False
        #: Where the last answer begins: (buttons, code blocks) shown before it.
        self._last_answer: tuple[int, int] | None = None
        #: The code block whose Run was clicked last: its output goes under it.
        self._ran: CodeBlock | None = None
        self._outputs: dict[int, str] = {}  # id(block) -> the mark under its code
        self.apply_theme(theme, size)
        # Read-only but selectable: block typing, keep copy and selection keys.
        self.text.bind("<Key>", self._readonly)

    @staticmethod
    def _readonly(event: tk.Event) -> str | None:
        ctrl = bool(event.state & 0x4)
        if ctrl and event.keysym.lower() in ("c", "a"):
            return None
        if event.keysym in ("Up", "Down", "Left", "Right", "Prior", "Next", "Home", "End"):
            return None
        return "break"

    # -- look ----------------------------------------------------------------------

    def apply_theme(self, theme: Theme, size: int) -> None:
        """Colours and fonts for every tag."""
        self.theme = theme
        family = tkfont.nametofont("TkDefaultFont").actual("family")
        mono = tkfont.nametofont("TkFixedFont").actual("family")
        t = self.text
        t.configure(
            background=theme.bg,
            foreground=theme.fg,
            insertbackground=theme.fg,
            selectbackground=theme.accent,
            font=(family, size),
        )
        t.tag_configure("bold", font=(family, size, "bold"))
        t.tag_configure("italic", font=(family, size, "italic"))
        t.tag_configure("h1", font=(family, size + 6, "bold"), spacing1=6, spacing3=4)
        t.tag_configure("h2", font=(family, size + 4, "bold"), spacing1=6, spacing3=3)
        t.tag_configure("h3", font=(family, size + 2, "bold"), spacing1=4, spacing3=2)
        t.tag_configure("code", font=(mono, size), background=theme.code_bg)
        t.tag_configure(
            "codeblock",
            font=(mono, size),
            background=theme.code_bg,
            lmargin1=18,
            lmargin2=18,
            spacing1=0,
            spacing3=0,
        )
        t.tag_configure("link", foreground=theme.accent, underline=True)
        t.tag_configure("bullet", foreground=theme.muted)
        t.tag_configure("quote", foreground=theme.muted, lmargin1=20, lmargin2=20)
        t.tag_configure("who", font=(family, size, "bold"), foreground=theme.accent, spacing1=10)
        t.tag_configure("user", background=theme.user_bg, lmargin1=6, lmargin2=6)
        t.tag_configure("meta", foreground=theme.muted, font=(family, max(size - 2, 7)))
        t.tag_configure("error", foreground="#dc2626")
        for tag, opts in code_colours(theme).items():
            t.tag_configure(tag, **opts)
        t.tag_raise("sel")
        for b in self._buttons:
            b.configure(background=theme.panel, foreground=theme.fg)
        for message_id in self.vote_buttons:  # a pressed vote keeps its mark
            self.show_vote(message_id, self.vote_shown(message_id))

    # -- content -------------------------------------------------------------------

    def clear(self) -> None:
        """Remove every message."""
        self._edit(lambda: self.text.delete("1.0", "end"))
        for b in self._buttons:
            b.destroy()
        self._buttons.clear()
        self.vote_buttons.clear()
        self.code_blocks.clear()
        self._links.clear()
        self._outputs.clear()
        self._ran, self._last_answer = None, None
        self.streaming = False

    def drop_last_answer(self) -> None:
        """Remove the last answer (Regenerate): the earlier turns and the question stay."""
        if self._last_answer is None:
            return
        buttons, blocks = self._last_answer
        self._edit(lambda: self.text.delete("last_answer", "end-1c"))
        for b in self._buttons[buttons:]:
            b.destroy()
        del self._buttons[buttons:]
        for block in self.code_blocks[blocks:]:
            self._outputs.pop(id(block), None)
        del self.code_blocks[blocks:]
        self._last_answer = None

    def _mark_answer(self) -> None:
        """Remember where the answer about to be shown begins (Tk editing in progress)."""
        self.text.mark_set("last_answer", "end-1c")
        self.text.mark_gravity("last_answer", "left")
        self._last_answer = (len(self._buttons), len(self.code_blocks))

    def _edit(self, fn: Callable[[], None]) -> None:
        self.text.configure(state="normal")
        try:
            fn()
        finally:
            self.text.configure(state="disabled")

    def _button(self, text: str, command: Callable[[], None], tip: str) -> tk.Button:
        b = tk.Button(
            self.text,
            text=text,
            command=command,
            padx=4,
            pady=0,
            borderwidth=1,
            relief="flat",
            cursor="hand2",
            background=self.theme.panel,
            foreground=self.theme.fg,
        )
        Tooltip(b, tip)
        self._buttons.append(b)
        return b

    def add_user(self, content: str) -> None:
        """Show a question, as typed."""

        def put() -> None:
            self.text.insert("end", "You\n", ("who",))
            self.text.insert("end", content.rstrip("\n") + "\n", ("user",))

        self._edit(put)
        self.text.see("end")

    def add_answer(self, markdown: str, *, message_id: int | None, note: str = "") -> None:
        """Show a finished answer, rendered."""
        self._edit(lambda: self._put_answer_header(message_id))
        self._render(markdown)
        if note:
            self._edit(lambda: self.text.insert("end", note + "\n", ("meta",)))
        self.text.see("end")

    def _put_answer_header(self, message_id: int | None) -> None:
        self._mark_answer()
        self.text.insert("end", "codenook ", ("who",))
        if message_id is not None:
            # Plain symbols: emoji fonts are often missing on a Linux desktop.
            for label, value, tip in (("▲", 1, "Good answer"), ("▼", -1, "Bad answer")):
                b = self._button(label, lambda v=value: self.actions.vote(message_id, v), tip)
                self.vote_buttons.setdefault(message_id, {})[value] = b
                self.text.window_create("end", window=b, padx=2)
        self.text.insert("end", "\n")

    def show_vote(self, message_id: int, value: int) -> None:
        """Mark the answer's pressed vote button (1 up, -1 down, 0 none) and unmark the other."""
        for v, b in self.vote_buttons.get(message_id, {}).items():
            pressed = v == value
            b.configure(
                relief="sunken" if pressed else "flat",
                background=self.theme.accent if pressed else self.theme.panel,
                foreground=self.theme.bg if pressed else self.theme.fg,
            )

    def vote_shown(self, message_id: int) -> int:
        """The vote an answer's buttons show (0 when neither is pressed)."""
        buttons = self.vote_buttons.get(message_id, {})
        return next((v for v, b in buttons.items() if b.cget("relief") == "sunken"), 0)

    def begin_answer(self) -> None:
        """Start streaming an answer: its text arrives with ``append``."""
        self.streaming = True
        self._streamed_any = False

        def put() -> None:
            self._mark_answer()
            self.text.insert("end", "codenook\n", ("who",))
            self.text.mark_set("answer_start", "end-1c")
            self.text.mark_gravity("answer_start", "left")

        self._edit(put)
        self.text.see("end")

    def append(self, piece: str) -> None:
        """Add streamed text at the end (cheap: no Markdown until the answer ends)."""
        at_bottom = self.text.yview()[1] > 0.98
        self._streamed_any = True
        self._edit(lambda: self.text.insert("end-1c", piece))
        if at_bottom:
            self.text.see("end")

    def finish_answer(self, markdown: str, *, message_id: int | None, note: str = "") -> None:
        """Replace the streamed text with the rendered answer."""
        if self.streaming:
            self._edit(lambda: self.text.delete("answer_start -1 lines linestart", "end-1c"))
        self.streaming = False
        self.add_answer(markdown, message_id=message_id, note=note)

    def _render(self, markdown: str) -> None:
        def put() -> None:
            for block in to_blocks(markdown):
                if isinstance(block, CodeBlock):
                    self._put_code(block)
                    continue
                # One insert call per block: each Tcl call costs, and runs are many.
                pairs: list[object] = []
                for run in block.runs:
                    tags = run.tags
                    if run.href:
                        tag = f"href{len(self._links)}"
                        self._links[tag] = run.href
                        self.text.tag_bind(
                            tag, "<Button-1>", lambda _e, h=run.href: self.actions.open_link(h)
                        )
                        tags = (*tags, tag)
                    pairs += [run.text, tags]
                if pairs:
                    self.text.insert("end", *pairs)
            if self.text.get("end-2c") != "\n":
                self.text.insert("end", "\n")

        self._edit(put)

    def _put_code(self, block: CodeBlock) -> None:
        self.code_blocks.append(block)
        if self.text.get("end-2c") != "\n":
            self.text.insert("end", "\n")
        label = block.language or "code"
        self.text.insert("end", f" {label} ", ("meta",))
        buttons = [
            ("Copy", self.actions.copy, "Copy the code"),
            ("Save as…", self.actions.save, "Save the code to a file"),
        ]
        if (block.language or "").lower() in ("python", "py", "python3", "bash", "sh", "shell"):
            buttons.append(("Run", self._run_action, "Run in the sandbox"))
        if self.actions.insert is not None:
            buttons.append(
                ("Insert into editor", self.actions.insert, "At the cursor, or over the selection")
            )
        for text, action, tip in buttons:
            b = self._button(text, lambda a=action, blk=block: a(blk), tip)
            self.text.window_create("end", window=b, padx=2)
        self.text.insert("end", "\n")
        pairs: list[object] = []
        for tag, text in block.runs:
            pairs += [text, ("codeblock", tag)]
        if pairs:
            self.text.insert("end", *pairs)
        if not block.code.endswith("\n"):
            self.text.insert("end", "\n", ("codeblock",))
        self.text.insert("end", "\n")  # air between the code and what follows
        # A Run's output goes here, under its code: before the air, so that what follows
        # the block does not move the mark; outputs stack in order (right gravity).
        mark = self._outputs[id(block)] = f"output{len(self._outputs)}"
        self.text.mark_set(mark, "end-2c")
        self.text.mark_gravity(mark, "right")

    def _run_action(self, block: CodeBlock) -> None:
        self._ran = block
        self.actions.run(block)

    def add_output(self, text: str, *, error: bool = False) -> None:
        """Show a sandbox run's output under the block whose Run was clicked last.

        The view moves only as far as needed to show the output, never to the bottom;
        without a Run clicked (a job's late note) the output goes at the end.
        """
        mark = self._outputs.get(id(self._ran)) if self._ran is not None else None
        at = mark or "end"
        tags = ("codeblock", "error") if error else ("codeblock",)
        self._edit(lambda: self.text.insert(at, text.rstrip("\n") + "\n", tags))
        if mark is None:
            self.text.see("end")
        else:
            self.text.see(f"{mark} -1 lines")

    def add_note(self, text: str) -> None:
        """Show what a tool said after the answer, at the end."""
        self._edit(lambda: self.text.insert("end", text.rstrip("\n") + "\n", ("codeblock",)))
        self.text.see("end")

    def add_tool_note(self, text: str) -> bool:
        """Show what a tool found above the answer being started; False once it streams.

        The streamed part is replaced when the answer ends, so a note can only go in
        while nothing has streamed yet (it then sits above the answer's header).
        """
        if not self.streaming or self._streamed_any:
            return False
        self._edit(
            lambda: self.text.insert(
                "answer_start -1 lines linestart", text.rstrip("\n") + "\n", ("codeblock",)
            )
        )
        self.text.see("end")
        return True

    def add_links(self, head: str, links: list[tuple[str, Callable[[], None] | None]]) -> None:
        """A line of labels after the answer (its sources); those with a callback are links."""

        def put() -> None:
            self.text.insert("end", head, ("codeblock",))
            for i, (label, on_click) in enumerate(links):
                self.text.insert("end", ", " if i else " ", ("codeblock",))
                if on_click is None:
                    self.text.insert("end", label, ("codeblock",))
                    continue
                tag = f"href{len(self._links)}"
                self._links[tag] = label
                self.text.tag_bind(tag, "<Button-1>", lambda _e, f=on_click: f())
                self.text.insert("end", label, ("codeblock", "link", tag))
            self.text.insert("end", "\n")

        self._edit(put)
        self.text.see("end")

    def add_error(self, message: str) -> None:
        """Show an error line in the transcript."""
        self._edit(lambda: self.text.insert("end", message + "\n", ("error",)))
        self.text.see("end")

    def content(self) -> str:
        """All the text shown (for tests and copy-all)."""
        return self.text.get("1.0", "end-1c")


class Tooltip:
    """A small hint shown when the pointer rests on a widget."""

    def __init__(self, widget: tk.Widget, text: str) -> None:
        self.widget, self.text = widget, text
        self.tip: tk.Toplevel | None = None
        widget.bind("<Enter>", self.show, add="+")
        widget.bind("<Leave>", self.hide, add="+")

    def show(self, _event: tk.Event | None = None) -> None:
        """Show the hint."""
        if self.tip is not None:
            return
        x = self.widget.winfo_rootx() + 10
        y = self.widget.winfo_rooty() + self.widget.winfo_height() + 4
        self.tip = tk.Toplevel(self.widget)
        self.tip.wm_overrideredirect(True)
        self.tip.wm_geometry(f"+{x}+{y}")
        tk.Label(
            self.tip, text=self.text, background="#ffffe0", relief="solid", borderwidth=1, padx=4
        ).pack()

    def hide(self, _event: tk.Event | None = None) -> None:
        """Hide the hint."""
        if self.tip is not None:
            self.tip.destroy()
            self.tip = None
