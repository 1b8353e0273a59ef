"""The Settings dialog: model, sampling, system prompts, look."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from dataclasses import replace
from tkinter import filedialog, ttk

from codenook import config
from codenook.assist.session import DEFAULT_SYSTEM_PROMPT
from codenook.errors import CodenookError

JOB_NAMES = ("ask", "generate", "complete", "review", "debug", "document")


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
        self.prompts = {job: getattr(settings.prompts, job) for job in JOB_NAMES}
        m, g, ui = settings.model, settings.generation, settings.ui
        body = ttk.Frame(self, padding=12)
        body.pack(fill="both", expand=True)
        self.vars: dict[str, tk.StringVar] = {}

        def row(
            r: int, label: str, key: str, value: object, widget: str = "entry", values: tuple = ()
        ) -> ttk.Widget:
            ttk.Label(body, text=label).grid(row=r, column=0, sticky="w", pady=2)
            var = tk.StringVar(value="" if value is None else str(value))
            self.vars[key] = var
            if widget == "combo":
                w = ttk.Combobox(body, textvariable=var, values=values, width=44)
            else:
                w = ttk.Entry(body, textvariable=var, width=46)
            w.grid(row=r, column=1, sticky="ew", pady=2)
            return w

        row(
            0,
            "Model (GGUF file or model folder; empty: embedded)",
            "path",
            m.path,
            "combo",
            ui.recent_models,
        )
        ttk.Button(body, text="Browse…", command=self._browse).grid(row=0, column=2, padx=4)
        ttk.Label(body, text="Runtime").grid(row=1, column=0, sticky="w", pady=2)
        self.vars["runtime"] = tk.StringVar(value=m.runtime)
        ttk.Combobox(
            body, textvariable=self.vars["runtime"], values=config.RUNTIMES, state="readonly"
        ).grid(row=1, column=1, sticky="ew", pady=2)
        row(2, "Context length", "context_length", m.context_length)
        row(3, "GPU layers (-1 all, 0 none, empty auto)", "gpu_layers", m.gpu_layers)
        row(4, "Threads (empty: physical cores)", "threads", m.threads)
        row(5, "Temperature", "temperature", g.temperature)
        row(6, "Max new tokens", "max_tokens", g.max_tokens)
        row(7, "Theme", "theme", ui.theme, "combo", ("light", "dark"))
        row(8, "Font size", "font_size", ui.font_size)
        ttk.Label(body, text="System prompt for").grid(row=9, column=0, sticky="w", pady=(10, 2))
        self.job = ttk.Combobox(body, values=JOB_NAMES, state="readonly", width=12)
        self.job.set("ask")
        self.job.grid(row=9, column=1, sticky="w", pady=(10, 2))
        self.job.bind("<<ComboboxSelected>>", lambda _e: self._show_prompt())
        self.prompt = tk.Text(body, height=6, width=60, wrap="word")
        self.prompt.grid(row=10, column=0, columnspan=3, sticky="nsew")
        ttk.Button(body, text="Reset to default", command=self._reset_prompt).grid(
            row=11, column=0, sticky="w", pady=4
        )
        self.error = ttk.Label(body, text="", foreground="#dc2626", wraplength=460)
        self.error.grid(row=12, column=0, columnspan=3, sticky="w")
        buttons = ttk.Frame(body)
        buttons.grid(row=13, column=0, columnspan=3, sticky="e", pady=(8, 0))
        ttk.Button(buttons, text="Cancel", command=self.destroy).pack(side="right")
        ttk.Button(buttons, text="Apply", command=self.apply).pack(side="right", padx=6)
        body.columnconfigure(1, weight=1)
        body.rowconfigure(10, weight=1)
        self._current_job = "ask"
        self._show_prompt()
        self.bind("<Escape>", lambda _e: self.destroy())

    def _browse(self) -> None:
        path = filedialog.askopenfilename(
            parent=self, filetypes=[("GGUF models", "*.gguf"), ("All files", "*")]
        )
        if path:
            self.vars["path"].set(path)

    def _keep_prompt(self) -> None:
        text = self.prompt.get("1.0", "end-1c").strip()
        self.prompts[self._current_job] = "" if text == DEFAULT_SYSTEM_PROMPT else text

    def _show_prompt(self) -> None:
        if hasattr(self, "_current_job"):
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
        v = {k: var.get().strip() for k, var in self.vars.items()}

        def number(key: str, kind: type, *, optional: bool = False) -> object:
            if optional and v[key] == "":
                return None
            try:
                return kind(v[key])
            except ValueError:
                raise CodenookError(f"'{v[key]}' is not a valid value for {key}.") from None

        s = self.settings
        path = v["path"] or None
        recent = tuple(dict.fromkeys([p for p in (path, *s.ui.recent_models) if p]))[:8]
        new = replace(
            s,
            model=replace(
                s.model,
                path=path,
                runtime=v["runtime"] or "auto",
                context_length=number("context_length", int),
                gpu_layers=number("gpu_layers", int, optional=True),
                threads=number("threads", int, optional=True),
            ),
            generation=replace(
                s.generation,
                temperature=number("temperature", float),
                max_tokens=number("max_tokens", int),
            ),
            ui=replace(
                s.ui, theme=v["theme"], font_size=number("font_size", int), recent_models=recent
            ),
            prompts=config.PromptSettings(**self.prompts),
        )
        return config.validate(new)

    def apply(self) -> None:
        """Validate, hand the settings over, and close; or show what is wrong."""
        try:
            new = self.collect()
        except CodenookError as exc:
            self.error.configure(text=str(exc))
            return
        self.on_apply(new)
        self.destroy()
