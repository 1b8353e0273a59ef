"""One measurement of the window in a fresh process (run by benchmarks/gui.py)."""

from __future__ import annotations

import itertools
import json
import os
import resource
import sys
import time

# benchmarks/gui.py sets the moment it started this process; run alone, the probe counts
# from its own first line.
STARTED = float(os.environ.get("CODENOOK_BENCH_T0") or time.time())


import tkinter as tk  # noqa: E402

from codenook import config  # noqa: E402
from codenook.gui.app import App  # noqa: E402

PASSWORD = "benchmark-pass-phrase-1"


def report(data: dict) -> None:
    print(json.dumps(data), flush=True)


def mapped() -> None:
    """Seconds from process start until the window is on screen."""
    root = tk.Tk(className="codenook")
    seen: list[float] = []
    root.bind("<Map>", lambda _e: seen or seen.append(time.time() - STARTED))
    App(root)
    while not seen:
        root.update()
    report({"seconds": seen[0]})
    root.after(10, root.destroy)
    root.mainloop()
    sys.stdout.flush()


def answer_markdown() -> str:
    """About 2,000 tokens of Markdown with 10 code blocks."""
    parts = []
    for i in range(10):
        parts.append(
            f"## Step {i + 1}\n\nHere is **part {i + 1}** of the solution, with "
            "`inline code`, a [link](https://docs.python.org) and a list:\n\n"
            "- first point about the code\n- second point\n\n"
        )
        parts.append(
            "```python\n"
            + "\n".join(
                f"def step_{i}_{j}(values: list[int]) -> int:\n    return sum(v * {j} for v in "
                f"values if v % 2)"
                for j in range(4)
            )
            + "\n```\n\n"
        )
        parts.append("That explains this step in more detail than strictly needed. " * 5 + "\n\n")
    return "".join(parts)


def render() -> None:
    """Milliseconds to render a finished long answer (the slowest step the user sees)."""
    root = tk.Tk()
    app = App(root)
    while not (app.backend and app.tools.idle):  # as when a real answer arrives
        root.update()
        time.sleep(0.01)
    time.sleep(0.2)
    text = answer_markdown()
    app.transcript.begin_answer()
    app.transcript.append(text)
    root.update()
    start = time.perf_counter()
    app.transcript.finish_answer(text, message_id=1)
    root.update_idletasks()
    ms = (time.perf_counter() - start) * 1000
    assert len(app.transcript.code_blocks) == 10
    report({"ms": ms, "chars": len(text)})
    app.close()


def stream() -> None:
    """Event-loop stalls while 1,000 tokens stream (over one or more answers), and peak memory."""
    root = tk.Tk()
    settings = config.Settings(
        generation=config.GenerationSettings(max_tokens=1000, temperature=0.0)
    )
    app = App(root, settings=settings)
    while app.backend is None or app.login.creating:
        root.update()
        time.sleep(0.005)
    app.login.name_entry.insert(0, "bench")
    app.login.password_entry.insert(0, PASSWORD)
    app.login.submit()
    while app.user is None:
        root.update()
        time.sleep(0.005)
    ticks: list[float] = []
    running = {"on": True}

    def tick() -> None:
        ticks.append(time.perf_counter())
        if running["on"]:
            root.after(10, tick)

    # The small model stops when it likes; questions follow one another (as a user's
    # would) until 1,000 tokens have streamed, the ticker running throughout.
    questions = [
        "Count from 1 to 500, one number per line.",
        "Write a long Python tutorial with many examples.",
        "List 200 Bash commands, one per line, each with a short comment.",
    ]
    tokens, seconds, asked = 0, 0.0, 0
    root.after(10, tick)
    while tokens < 1000 and asked < 30:
        app.answering.send(questions[asked % len(questions)])
        asked += 1
        while app.answering.state == "generating" or app.transcript.streaming:
            root.update()
            time.sleep(0.001)
        f = app.answering.last_figures
        tokens += f["answer_tokens"]
        if f["tokens_per_second"]:
            seconds += f["answer_tokens"] / f["tokens_per_second"]
    running["on"] = False
    stalls = sorted(max(0.0, (b - a) * 1000 - 10) for a, b in itertools.pairwise(ticks))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(
        {
            "tokens": tokens,
            "answers": asked,
            "tokens_per_second": tokens / seconds if seconds else 0.0,
            "ticks": len(ticks),
            "median_stall_ms": stalls[len(stalls) // 2],
            "p99_stall_ms": stalls[min(len(stalls) - 1, int(len(stalls) * 0.99))],
            "peak_rss_mb": peak,
        }
    )
    app.close()


if __name__ == "__main__":
    {"mapped": mapped, "render": render, "stream": stream}[sys.argv[1]]()
