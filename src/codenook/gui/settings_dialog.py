"""The Settings dialog: model, sampling, look and system prompts.

Its rows and their help come from config's declarations (``config.declared``): a setting
added there shows up here, with its help text under it and its rule checked on Apply.
"""

from __future__ import annotations

import json
import tkinter as tk
import types
import typing
from collections.abc import Callable
from dataclasses import replace
from tkinter import filedialog, ttk
from typing import Any

from codenook import config
from codenook.assist.session import DEFAULT_SYSTEM_PROMPT
from codenook.errors import CodenookError

#: The settings sections the dialog shows, each on its own page, with the page's title.
SECTIONS = (("model", "Model"), ("generation", "Sampling"), ("ui", "Look"))
HELP_COLOUR = "#6b7280"


def _job_names() -> tuple[str, ...]:
    """The jobs whose system prompt the dialog edits: every registered job, read now."""
    from codenook.assist.jobs import registry

    return registry.names()


def shown(section: str) -> list[config.Declared]:
    """The settings of ``section`` the dialog has a row for: all but the window's state."""
    return [d for d in config.declared(section) if not d.state]


def _plain(hint: Any) -> tuple[Any, bool]:
    """A field's type without ``None``, and whether it may be left empty (None)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0], True
    return hint, False


def as_text(value: Any) -> str:
    """A setting's value as its row shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return json.dumps(list(value), ensure_ascii=False)
    return str(value)


def parse(d: config.Declared, text: str) -> Any:
    """The value a row's ``text`` means for setting ``d`` (CodenookError if it means none)."""
    kind, optional = _plain(d.hint)
    if optional and text == "":
        return None
    try:
        if kind is bool:
            return text == "true"
        if kind is int or kind is float:
            return kind(text)
        if typing.get_origin(kind) is tuple:
            items = json.loads(text or "[]")
            if not isinstance(items, list):
                raise ValueError(text)
            return tuple(items)
    except ValueError:
        raise CodenookError(f"'{text}' is not a valid value for {d.name}.") from None
    return text


class SettingsDialog(tk.Toplevel):
    """Edit settings; ``on_apply`` gets the new settings once they validate."""

    def __init__(
        self,
        master: tk.Misc,
        settings: config.Settings,
        *,
        on_apply: Callable[[config.Settings], None],
    ) -> None:
        super().__init__(master)
        self.title("codenook settings")
        self.transient(master)
        self.settings = settings
        self.on_apply = on_apply
        self.prompts = {job: settings.prompts.get(job, "") for job in _job_names()}
        #: Each row's text, by field name (unique across the sections shown).
        self.vars: dict[str, tk.StringVar] = {}
        #: Each row's label, input and help, by ``section.name``.
        self.rows: dict[str, tuple[ttk.Label, tk.Widget, ttk.Label]] = {}
        body = ttk.Frame(self, padding=12)
        body.pack(fill="both", expand=True)
        self.pages = ttk.Notebook(body)
        self.pages.pack(fill="both", expand=True)
        for section, title in SECTIONS:
            page = ttk.Frame(self.pages, padding=8)
            self.pages.add(page, text=title)
            for d in shown(section):
                self._row(page, d, getattr(getattr(settings, section), d.name))
            page.columnconfigure(1, weight=1)
        self._build_prompts()
        self.error = ttk.Label(body, text="", foreground="#dc2626", wraplength=460)
        self.error.pack(fill="x", pady=(6, 0))
        buttons = ttk.Frame(body)
        buttons.pack(fill="x", pady=(8, 0))
        ttk.Button(buttons, text="Cancel", command=self.destroy).pack(side="right")
        ttk.Button(buttons, text="Apply", command=self.apply).pack(side="right", padx=6)
        self._current_job = _job_names()[0]
        self.job.set(self._current_job)
        self._show_prompt(keep=False)
        self.bind("<Escape>", lambda _e: self.destroy())

    def _row(self, page: ttk.Frame, d: config.Declared, value: Any) -> None:
        """A label, an input and the setting's help under it, from its declaration."""
        r = 2 * len(page.grid_slaves(column=0))  # two grid rows per setting: input, help
        label = ttk.Label(page, text=d.label)
        label.grid(row=r, column=0, sticky="w", pady=(4, 0), padx=(0, 8))
        var = tk.StringVar(value=as_text(value))
        self.vars[d.name] = var
        kind, _optional = _plain(d.hint)
        widget: tk.Widget
        if d.key == "model.path":
            recent = self.settings.ui.recent_models
            widget = ttk.Combobox(page, textvariable=var, values=recent, width=44)
            ttk.Button(page, text="Browse…", command=self._browse).grid(row=r, column=2, padx=4)
        elif kind is bool:
            widget = ttk.Checkbutton(page, variable=var, onvalue="true", offvalue="false")
        elif d.rule is not None and d.rule.choices:
            widget = ttk.Combobox(page, textvariable=var, values=d.rule.choices, state="readonly")
        else:
            widget = ttk.Entry(page, textvariable=var, width=46)
        widget.grid(row=r, column=1, sticky="ew", pady=(4, 0))
        about = ttk.Label(page, text=d.about, foreground=HELP_COLOUR, wraplength=500)
        about.grid(row=r + 1, column=1, columnspan=2, sticky="w")
        self.rows[d.key] = (label, widget, about)

    def _build_prompts(self) -> None:
        """The system prompts page: a job chooser, its prompt, and the help for both."""
        page = ttk.Frame(self.pages, padding=8)
        self.pages.add(page, text="Prompts")
        (d,) = config.declared("prompts")
        ttk.Label(page, text="System prompt for").grid(row=0, column=0, sticky="w")
        self.job = ttk.Combobox(page, values=_job_names(), state="readonly", width=14)
        self.job.grid(row=0, column=1, sticky="w")
        self.job.bind("<<ComboboxSelected>>", lambda _e: self._show_prompt())
        about = ttk.Label(page, text=d.about, foreground=HELP_COLOUR, wraplength=500)
        about.grid(row=1, column=0, columnspan=2, sticky="w")
        self.prompt = tk.Text(page, height=8, width=60, wrap="word")
        self.prompt.grid(row=2, column=0, columnspan=2, sticky="nsew")
        ttk.Button(page, text="Reset to default", command=self._reset_prompt).grid(
            row=3, column=0, sticky="w", pady=4
        )
        page.columnconfigure(1, weight=1)
        page.rowconfigure(2, weight=1)
        self.rows[d.key] = (ttk.Label(page, text="System prompt"), self.job, about)

    def _browse(self) -> None:
        path = filedialog.askopenfilename(
            parent=self, filetypes=[("GGUF models", "*.gguf"), ("All files", "*")]
        )
        if path:
            self.vars["path"].set(path)

    def _keep_prompt(self) -> None:
        text = self.prompt.get("1.0", "end-1c").strip()
        self.prompts[self._current_job] = "" if text == DEFAULT_SYSTEM_PROMPT else text

    def _show_prompt(self, *, keep: bool = True) -> None:
        if keep:
            self._keep_prompt()
        self._current_job = self.job.get()
        self.prompt.delete("1.0", "end")
        self.prompt.insert("1.0", self.prompts[self._current_job] or DEFAULT_SYSTEM_PROMPT)

    def _reset_prompt(self) -> None:
        self.prompts[self._current_job] = ""
        self.prompt.delete("1.0", "end")
        self.prompt.insert("1.0", DEFAULT_SYSTEM_PROMPT)

    def collect(self) -> config.Settings:
        """The settings as entered, validated (raises CodenookError naming the bad one)."""
        self._keep_prompt()
        s = self.settings
        sections = {
            section: replace(
                getattr(s, section),
                **{d.name: parse(d, self.vars[d.name].get().strip()) for d in shown(section)},
            )
            for section, _title in SECTIONS
        }
        path = sections["model"].path or None
        recent = tuple(dict.fromkeys([p for p in (path, *s.ui.recent_models) if p]))[:8]
        sections["model"] = replace(sections["model"], path=path)
        sections["ui"] = replace(sections["ui"], recent_models=recent)
        # Prompts of jobs the chooser does not list stay as they are.
        prompts = config.PromptSettings({**s.prompts.as_dict(), **self.prompts})
        return config.validate(replace(s, prompts=prompts, **sections))

    def apply(self) -> None:
        """Validate, hand the settings over, and close; or show what is wrong."""
        try:
            new = self.collect()
        except CodenookError as exc:
            self.error.configure(text=str(exc))
            return
        self.on_apply(new)
        self.destroy()
