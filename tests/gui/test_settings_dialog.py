"""The Settings dialog on a real Tk under Xvfb: rows and help from config's declarations."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterator
from dataclasses import replace

import pytest

from codenook import config
from codenook.assist.session import DEFAULT_SYSTEM_PROMPT
from codenook.gui import settings_dialog
from codenook.gui.settings_dialog import SECTIONS, SettingsDialog


@pytest.fixture
def root() -> Iterator[tk.Tk]:
    root = tk.Tk()
    yield root
    root.destroy()


def open_dialog(root: tk.Tk, settings: config.Settings) -> tuple[SettingsDialog, list]:
    applied: list[config.Settings] = []
    dialog = SettingsDialog(root, settings, on_apply=applied.append)
    root.update()
    return dialog, applied


def test_every_declared_setting_of_a_shown_section_has_a_row_and_its_help(root) -> None:
    dialog, _ = open_dialog(root, config.Settings())
    declared = [d for section, _ in SECTIONS for d in config.declared(section) if not d.state]
    assert len(declared) >= 15
    for d in declared:
        label, widget, about = dialog.rows[d.key]
        assert label.cget("text") == d.label
        assert about.cget("text") == d.about and d.about
        assert widget.winfo_manager() == "grid" and about.winfo_manager() == "grid"
        # The help sits right under its row, beside nothing else.
        assert int(about.grid_info()["row"]) == int(label.grid_info()["row"]) + 1
    # The window's state (size, panes, recent files) is not a setting to edit here.
    assert "ui.geometry" not in dialog.rows and "ui.recent_files" not in dialog.rows
    (prompts,) = config.declared("prompts")
    assert dialog.rows[prompts.key][2].cget("text") == prompts.about
    assert tuple(dialog.job.cget("values")) == settings_dialog._job_names()
    # Choices come from the rule: a runtime is chosen from the list, not typed.
    runtime = dialog.rows["model.runtime"][1]
    assert tuple(runtime.cget("values")) == config.RUNTIMES
    assert str(runtime.cget("state")) == "readonly"


def test_apply_reads_every_kind_of_row_and_keeps_what_is_not_shown(root) -> None:
    start = replace(
        config.Settings(),
        prompts=config.PromptSettings(summarize="Short.", review="Be strict."),
        routing=config.RoutingSettings(review="box"),
        ui=replace(config.UiSettings(), geometry="900x600", recent_models=("/old.gguf",)),
    )
    dialog, applied = open_dialog(root, start)
    assert dialog.vars["stop"].get() == "[]" and dialog.vars["threads"].get() == ""
    dialog.vars["path"].set("/m.gguf")
    dialog.vars["threads"].set("1")
    dialog.vars["four_bit"].set("true")
    dialog.vars["stop"].set('["END", "\\n\\n"]')
    dialog.vars["seed"].set("7")
    dialog.vars["autocomplete"].set("false")
    dialog.prompt.delete("1.0", "end")
    dialog.prompt.insert("1.0", "One sentence.")
    dialog.apply()
    (new,) = applied
    assert (new.model.path, new.model.threads, new.model.four_bit) == ("/m.gguf", 1, True)
    assert new.generation.stop == ("END", "\n\n") and new.generation.seed == 7
    assert new.ui.autocomplete is False
    assert new.ui.recent_models == ("/m.gguf", "/old.gguf")
    assert new.ui.geometry == "900x600"
    assert new.prompts.ask == "One sentence."
    assert (new.prompts.review, new.prompts.summarize) == ("Be strict.", "Short.")
    assert new.routing == start.routing


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("temperature", "9", "generation.temperature must be a number from 0 to 5"),
        ("autocomplete_delay_ms", "10", "ui.autocomplete_delay_ms must be milliseconds"),
        ("context_length", "big", "'big' is not a valid value for context_length"),
        ("stop", '"END"', "'\"END\"' is not a valid value for stop"),
        ("stop", '["END", 1]', "generation.stop must be a list of strings"),
    ],
)
def test_a_bad_value_is_refused_with_its_rule(root, name: str, text: str, said: str) -> None:
    dialog, applied = open_dialog(root, config.Settings())
    dialog.vars[name].set(text)
    dialog.apply()
    assert said in dialog.error.cget("text")
    assert not applied and dialog.winfo_exists()


def test_prompts_switch_between_jobs_and_reset_to_the_default(root) -> None:
    dialog, applied = open_dialog(root, config.Settings())
    assert dialog.prompt.get("1.0", "end-1c") == DEFAULT_SYSTEM_PROMPT
    dialog.prompt.delete("1.0", "end")
    dialog.prompt.insert("1.0", "Ask prompt.")
    dialog.job.set("review")
    dialog._show_prompt()
    dialog.prompt.delete("1.0", "end")
    dialog.prompt.insert("1.0", "Review prompt.")
    dialog.job.set("ask")
    dialog._show_prompt()
    assert dialog.prompt.get("1.0", "end-1c") == "Ask prompt."
    dialog._reset_prompt()
    dialog.apply()
    (new,) = applied
    assert new.prompts.ask == "" and new.prompts.review == "Review prompt."
