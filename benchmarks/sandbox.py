"""Extra start-up time of a sandboxed `print(1)` over a plain `python -c 'print(1)'`.

Both run with the interpreter codenook runs under, interleaved so that load on the
machine falls on both alike; the figure is the difference of the medians (must be
under 100 ms). Before it, for the record: how fast a run that forks six 300 MB
children is stopped at a 512 MB total cap, and how much it held (each way of
holding the total that works here).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from codenook.assist.tools import sandbox

ROUNDS = 15
SIX_FORKS = """\
import os, time
for n in range(6):
    if os.fork() == 0:
        block = bytearray(300 * 1024 * 1024)
        time.sleep(8)
        os._exit(0)
for _ in range(6):
    os.wait()
"""


def plain() -> float:
    """Seconds for a plain `python -c 'print(1)'`."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", "print(1)"], capture_output=True, check=True)
    elapsed = time.perf_counter() - start
    assert proc.stdout == b"1\n"
    return elapsed


def sandboxed() -> tuple[float, sandbox.Isolation]:
    """Seconds for the same program through the sandbox, from call to result."""
    start = time.perf_counter()
    result = sandbox.run_code("print(1)", language="python")
    elapsed = time.perf_counter() - start
    if (result.exit_code, result.stdout) != (0, "1\n"):
        sys.exit(f"sandboxed print(1) failed: {result}")
    return elapsed, result.isolation


def memory_cap() -> None:
    """Print how each memory guard that works here stops six 300 MB forks."""
    guards = [sandbox.Guard.SUPERVISOR]
    if sandbox.cgroup_problem() is None:
        guards.insert(0, sandbox.Guard.CGROUP)
    limits = sandbox.Limits(memory_bytes=512 * sandbox.MiB, timeout=30)
    for guard in guards:
        r = sandbox.run_code(SIX_FORKS, language="python", limits=limits, memory_guard=guard)
        peak = (r.memory_peak_bytes or 0) / sandbox.MiB
        print(
            f"six 300 MB forks, 512 MB cap, {guard}: {r.detail} "
            f"after {r.wall_seconds:.2f} s, peak {peak:.0f} MB"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        # The user's settings must not change the figure.
        os.environ["CODENOOK_HOME"] = home
        sandboxed()  # probe the isolation once, outside the measurement
        memory_cap()
        plain()
        plain_s: list[float] = []
        sandbox_s: list[float] = []
        isolation = sandbox.Isolation.NONE
        for _ in range(ROUNDS):
            plain_s.append(plain())
            seconds, isolation = sandboxed()
            sandbox_s.append(seconds)
    plain_ms = statistics.median(plain_s) * 1000
    sandbox_ms = statistics.median(sandbox_s) * 1000
    print(f"isolation: {isolation}")
    print(f"plain python -c 'print(1)': median {plain_ms:.1f} ms over {ROUNDS} runs")
    print(f"sandboxed print(1): median {sandbox_ms:.1f} ms over {ROUNDS} runs")
    overhead = sandbox_ms - plain_ms
    print(f"sandbox_overhead_ms: {overhead:.1f}")
    if overhead >= 100:
        sys.exit(1)


if __name__ == "__main__":
    main()
