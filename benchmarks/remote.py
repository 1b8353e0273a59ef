"""Tokens/s of the embedded model through ``codenook serve`` and the remote backend,
against the same model in process, on the same machine.

The server runs in a subprocess on 127.0.0.1 (same threads and context); both sides
answer the same question (seeded, temperature 0) for the same number of tokens, in
turn over five rounds so machine noise hits both alike. Generation speed is counted
after the first token (prompt evaluation excluded) on each side. Prints the median
ratio remote/local last, alone on its line; it must be at least 0.85.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codenook.engine.backend import GenerationOptions, Message
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend
from codenook.engine.remote import RemoteBackend
from codenook.engine.serve import serve_threads

TOKENS = int(os.environ.get("BENCH_TOKENS", "128"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CONTEXT = 2048
QUESTION = "Write a long, detailed Python tutorial about lists, with many code examples."
MESSAGES = [Message("system", "You are a helpful assistant."), Message("user", QUESTION)]


def start_server(threads: int) -> tuple[subprocess.Popen[str], str]:
    """``codenook serve`` on a free loopback port; returns it and its URL."""
    codenook = Path(sys.executable).with_name("codenook")
    command = [str(codenook), "serve", "--port", "0", "--threads", str(threads)]
    command += ["--context", str(CONTEXT), "--gpu-layers", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line:
            break
        if "listening on " in line:
            return server, line.rsplit("listening on ", 1)[1].strip()
    server.kill()
    raise SystemExit("codenook serve did not start")


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["CODENOOK_HOME"] = home
        compare()


def compare() -> None:
    """Run both sides in turn and print the ratio."""
    # What codenook serve picks by default, on both sides.
    threads = int(os.environ.get("BENCH_THREADS", "0")) or serve_threads()
    options = GenerationOptions(max_tokens=TOKENS, temperature=0.0, seed=1)
    server, url = start_server(threads)
    try:
        local = LlamaBackend(
            embedded_model_path(), context_length=CONTEXT, threads=threads, gpu_layers=0
        )
        remote = RemoteBackend(url)
        ratios = []
        for n in range(ROUNDS):
            local._llm.reset()  # both sides evaluate the whole prompt every round
            mine = local.stream_chat(MESSAGES, options=options)
            mine.read()
            theirs = remote.stream_chat(MESSAGES, options=options)
            theirs.read()
            a, b = mine.result, theirs.result
            ratio = b.tokens_per_second / a.tokens_per_second
            ratios.append(ratio)
            print(
                f"round {n + 1}: local {a.tokens_per_second:.1f} tokens/s "
                f"({a.completion_tokens} tokens), remote {b.tokens_per_second:.1f} tokens/s "
                f"({b.completion_tokens} pieces), ratio {ratio:.3f}",
                flush=True,
            )
        remote.close()
        local.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"threads {threads}, {TOKENS} tokens, median of {ROUNDS} rounds")
    print(f"remote_over_local_tps: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
