"""The window's speed, measured under Xvfb.

Prints: time from process start to the window being mapped (median of 5, ≤ 1.0 s),
the time to render a finished 2,000-token answer holding 10 code blocks (≤ 300 ms),
peak RSS of the window with the embedded model loaded (< 500 MB), and last, alone, the
99th-percentile stall of the Tk event loop while a 1,000-token answer streams from the
embedded model (an after(10) ticker; ≤ 50 ms).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _screen import screen_and_home

PROBE = Path(__file__).with_name("_gui_probe.py")
PASSWORD = "benchmark-pass-phrase-1"


def probe(mode: str, home: str) -> dict:
    """Run one measurement in a fresh process and return its JSON report."""
    # The start is taken here, on the same clock the probe reads when its window maps:
    # a process's own start time from /proc is only known to the whole second (btime).
    env = {**os.environ, "CODENOOK_HOME": home, "CODENOOK_BENCH_T0": repr(time.time())}
    out = subprocess.run(
        [sys.executable, str(PROBE), mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if out.returncode != 0:
        sys.exit(f"probe {mode} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    with screen_and_home(":77") as home:
        from codenook.auth import Auth
        from codenook.store.db import open_database

        db = open_database()
        Auth(db).create_user("bench", PASSWORD)
        db.close()
        mapped = [probe("mapped", home)["seconds"] for _ in range(5)]
        render = probe("render", home)
        stream = probe("stream", home)
    print(
        f"window mapped after (median of 5): {statistics.median(mapped):.3f} s "
        f"(all: {', '.join(f'{m:.3f}' for m in mapped)})"
    )
    print(f"render of a 2,000-token answer with 10 code blocks: {render['ms']:.0f} ms")
    print(
        f"streamed {stream['tokens']} tokens in {stream['answers']} answer(s) "
        f"at {stream['tokens_per_second']:.1f} tok/s; "
        f"ticks {stream['ticks']}, median stall {stream['median_stall_ms']:.1f} ms"
    )
    print(f"peak RSS with the model loaded: {stream['peak_rss_mb']:.0f} MB")
    print(f"event_loop_stall_p99_ms: {stream['p99_stall_ms']:.1f}")


if __name__ == "__main__":
    main()
