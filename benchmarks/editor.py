"""The editor pane's speed, measured in the real window under Xvfb.

Prints: the overhead from a keystroke to the completion request being sent when
auto-complete fires, beyond the debounce delay (≤ 20 ms); the time from Ctrl+Space to
the first ghost-text character with the embedded model (reported, no bar); and last,
alone, the 99th-percentile stall of the Tk event loop while 2,000 characters are typed
into a 5,000-line Python file with highlighting on (an after(10) ticker; ≤ 30 ms).
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
import tkinter as tk

from _screen import screen_and_home

PASSWORD = "benchmark-pass-phrase-1"
DELAY_MS = 400
KEY_EVERY_MS = 15
TYPED = (
    "    total = compute(values, limit=10)  # keep it\n"
    "    if total > 3:\n"
    "        name = f'item {total}'\n"
    "    result.append([total, name])\n"
)
KEYSYMS = {
    " ": "space",
    "\n": "Return",
    "(": "parenleft",
    ")": "parenright",
    "[": "bracketleft",
    "]": "bracketright",
    "{": "braceleft",
    "}": "braceright",
    ",": "comma",
    ".": "period",
    "=": "equal",
    ">": "greater",
    "#": "numbersign",
    ":": "colon",
    "'": "apostrophe",
    "_": "underscore",
}


def big_file(lines: int = 5000) -> str:
    """A Python file of ``lines`` lines: classes, methods, docstrings, strings."""
    out: list[str] = ['"""A generated module."""\n', "import os\n", "\n"]
    i = 0
    while len(out) < lines:
        out += [
            f"class Thing{i}:\n",
            f'    """Thing number {i}."""\n',
            "\n",
            "    def method(self, values: list[int], limit: int = 3) -> int:\n",
            "        total = 0\n",
            "        for v in values:\n",
            f"            total += v * {i}  # a comment\n",
            "        return min(total, limit)\n",
            "\n",
        ]
        i += 1
    return "".join(out[:lines])


def pump(root: tk.Tk, until, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            sys.exit("timed out")
        root.update()
        time.sleep(0.002)


def measure() -> None:
    from codenook import config
    from codenook.auth import Auth
    from codenook.gui.app import App
    from codenook.store.db import open_database

    db = open_database()
    Auth(db).create_user("bench", PASSWORD)
    db.close()
    root = tk.Tk()
    settings = config.Settings(
        generation=config.GenerationSettings(max_tokens=32, temperature=0.0, seed=1),
        ui=config.UiSettings(autocomplete=True, autocomplete_delay_ms=DELAY_MS),
    )
    app = App(root, settings=settings)
    pump(root, lambda: app.backend is not None and not app.login.creating)
    app.login.name_entry.insert(0, "bench")
    app.login.password_entry.insert(0, PASSWORD)
    app.login.submit()
    pump(root, lambda: app.user is not None)
    app.toggle_editor(show=True)
    editor, completer = app.editor, app.editor.completer
    editor.ask = lambda *_a, **_k: False
    editor.set_text("def add(a, b):\n    \n\n\nprint(add(1, 2))\n", path="add.py")
    editor.text.focus_force()
    root.update()

    def finished() -> bool:
        return completer.generation in completer.timings.finished

    # 1. Auto-complete: keystroke -> request sent, minus the delay.
    overheads = []
    for _ in range(8):
        editor.text.mark_set("insert", "2.4")
        sent_before = completer.timings.sent
        editor.text.event_generate("<Key>", keysym="r")
        pump(root, lambda s=sent_before: completer.timings.sent > s)
        overheads.append((completer.timings.sent - completer.timings.key) * 1000 - DELAY_MS)
        pump(root, finished)
        completer.dismiss()
        editor.undo()
    # 2. Ctrl+Space -> first ghost character, with the embedded model.
    first = []
    for _ in range(5):
        editor.text.mark_set("insert", "2.4")
        start = time.perf_counter()
        editor.text.event_generate("<Control-space>")
        pump(root, finished)
        if completer.ghost.visible:
            first.append((completer.timings.first_ghost - start) * 1000)
        completer.dismiss()
    # 3. Typing 2,000 characters into a 5,000-line file, highlighting on.
    completer.auto = False  # the stall of typing and highlighting, not of the model
    editor.set_text(big_file(), path="big.py")
    pump(root, lambda: not editor.highlight_busy)
    editor.text.mark_set("insert", "2500.0")
    editor.text.see("insert")
    editor.text.focus_force()
    root.update()
    keys = list(itertools.islice(itertools.cycle(TYPED), 2000))
    ticks: list[float] = []
    state = {"typed": 0}

    def tick() -> None:
        ticks.append(time.perf_counter())
        if state["typed"] < len(keys) or editor.highlight_busy:
            root.after(10, tick)

    def type_one() -> None:
        ch = keys[state["typed"]]
        editor.text.event_generate("<Key>", keysym=KEYSYMS.get(ch, ch))
        state["typed"] += 1
        if state["typed"] < len(keys):
            root.after(KEY_EVERY_MS, type_one)

    lines_before = int(editor.text.index("end-1c").split(".")[0])
    root.after(10, tick)
    root.after(KEY_EVERY_MS, type_one)
    pump(root, lambda: state["typed"] == len(keys) and not editor.highlight_busy)
    for _ in range(5):
        root.update()
        time.sleep(0.012)
    added = int(editor.text.index("end-1c").split(".")[0]) - lines_before
    stalls = sorted(max(0.0, (b - a) * 1000 - 10) for a, b in itertools.pairwise(ticks))
    p99 = stalls[min(len(stalls) - 1, int(len(stalls) * 0.99))]
    app.close()

    print(
        f"auto-complete: keystroke -> request sent, beyond the {DELAY_MS} ms delay: "
        f"median {statistics.median(overheads):.1f} ms, max {max(overheads):.1f} ms "
        f"({len(overheads)} requests; bar 20 ms)"
    )
    if first:
        print(
            f"Ctrl+Space -> first ghost-text character (embedded model): "
            f"median {statistics.median(first):.0f} ms "
            f"(all: {', '.join(f'{f:.0f}' for f in first)})"
        )
    else:
        print("Ctrl+Space -> first ghost-text character: the model suggested nothing")
    print(
        f"typed {len(keys)} characters ({added} new lines) into a 5,000-line file: "
        f"ticks {len(ticks)}, median stall {stalls[len(stalls) // 2]:.1f} ms, "
        f"max {stalls[-1]:.1f} ms"
    )
    print(f"editor_stall_p99_ms: {p99:.1f}")


def main() -> None:
    with screen_and_home(":78"):
        measure()


if __name__ == "__main__":
    main()
