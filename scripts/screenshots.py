"""Make the pictures in docs/ (under Xvfb: DISPLAY set): the window in the light and dark
themes, with the editor open at the default width, the first start, and the Models window.

The conversation shown is written here, not generated, so the pictures show the
window's rendering of Python and Bash code rather than the tiny test model's skill.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import tkinter as tk
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
QUESTION = "How do I count the lines of every .py file under a folder, in Python and in Bash?"
ANSWER = """In **Python**, walk the tree with `pathlib` and sum the lines:

```python
from pathlib import Path


def count_lines(root: str) -> dict[str, int]:
    \"\"\"Lines per Python file under root.\"\"\"
    return {
        str(p): sum(1 for _ in p.open(encoding="utf-8", errors="replace"))
        for p in Path(root).rglob("*.py")
    }
```

In **Bash**, let `find` hand the files to `wc`:

```bash
#!/usr/bin/env bash
set -euo pipefail
find "${1:-.}" -name '*.py' -print0 | xargs -0 wc -l | sort -n
```

- `-print0` and `xargs -0` keep names with spaces intact.
- `sort -n` puts the largest files last, next to the total.
"""


EDITED = """from pathlib import Path


def count_lines(root: str) -> dict[str, int]:
    \"\"\"Lines per Python file under root.\"\"\"
    counts = {}
    for path in Path(root).rglob("*.py"):
<cursor>
    return counts
""".replace("<cursor>", " " * 8)


def show_editor(app) -> None:
    """The editor beside the chat, a suggestion waiting at the cursor as ghost text."""
    app.root.update()  # the window has its size before the pane takes its width
    app.toggle_editor(show=True)
    editor = app.editor
    editor.ask = lambda *_a, **_k: False
    editor.set_text(EDITED, path="count_lines.py")
    editor.text.mark_set("insert", "8.8")
    editor.completer.ghost.show("insert", "counts[str(path)] = len(path.read_text().splitlines())")
    editor.completer.status = "Tab accepts · Esc dismisses"
    editor.update_status()


#: Each picture: its name, the theme, and what is done before it is taken.
SHOTS = ("light", "dark", "editor", "first-start", "models")


def settle(root: tk.Misc, seconds: float) -> None:
    """Let the window draw (and its workers report) for ``seconds``."""
    for _ in range(int(seconds / 0.02)):
        root.update()
        time.sleep(0.02)


def make_app(shot: str):
    """A window logged in as "you", in the state the picture ``shot`` shows."""
    from codenook import config
    from codenook.auth import User
    from codenook.gui.app import App
    from codenook.gui.events import LoggedIn

    root = tk.Tk(className="codenook")
    settings = config.Settings(
        ui=config.UiSettings(theme="dark" if shot == "dark" else "light", geometry="1100x720+0+0"),
        models=config.ModelsSettings(first_run_done=shot != "first-start"),
    )
    app = App(root, settings=settings)
    app.bus.publish(LoggedIn(User(1, "you", True)))
    settle(root, 2.0)  # the (empty) conversation list and the first-run panel arrive first
    if shot != "first-start":
        app.conversations.conv_list.insert(
            "end",
            "Count lines of .py files",
            "Bash: rename files safely",
            "Decorators with arguments",
        )
        app.conversations.conv_list.selection_set(0)
        app.transcript.add_user(QUESTION)
        app.transcript.add_answer(ANSWER, message_id=2)
        app.answering.state = "ready"
        app.status.configure(
            text="SmolLM2-135M-Instruct · llama.cpp · CPU   ·   ready   ·   "
            "81.2 tok/s   ·   first token 142 ms   ·   context 412/4,096"
        )
    return root, app


def take(window: tk.Misc, out: Path) -> None:
    """Save what ``window`` shows (with its frame when there is one) as ``out``."""
    frame = window.winfo_toplevel().wm_frame()
    subprocess.run(["import", "-window", frame or hex(window.winfo_id()), str(out)], check=True)
    print(out)


def main() -> None:
    os.environ["CODENOOK_HOME"] = tempfile.mkdtemp()
    DOCS.mkdir(exist_ok=True)
    for shot in SHOTS:
        root, app = make_app(shot)
        target: tk.Misc = root
        if shot == "editor":
            show_editor(app)
        if shot == "models":
            target = app.models.open_models()
            target.geometry("980x600+40+40")
        settle(root, 3.0 if shot == "models" else 1.0)
        take(target, DOCS / f"window-{shot}.png")
        app.close()


if __name__ == "__main__":
    sys.exit(main())
