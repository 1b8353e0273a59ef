"""Tokens/s of the embedded model pooled over an rpc-server on loopback, against the same
model in process: the cost of llama.cpp's RPC hop.

An rpc-server (CPU backend) runs on 127.0.0.1; the pool puts half of the model's layers
(and its output layer) there and the rest in its own llama-server. Both sides continue
the same text (temperature 0) for the same number of tokens, in turn over the rounds so
machine noise hits both alike; speed is counted after the first token. Prints the median
ratio pooled/local last, alone on its line. One thread each side by default
(BENCH_THREADS): on two cores, two processes with two spinning threads each starve.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import tempfile

from codenook.engine import rpc
from codenook.engine.backend import GenerationOptions
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend
from codenook.engine.rpcpool import PooledBackend, PoolSpec

TOKENS = int(os.environ.get("BENCH_TOKENS", "128"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CONTEXT = 2048
PROMPT = "# A long, detailed Python tutorial about lists, with many code examples\n\n"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["CODENOOK_HOME"] = home
        compare()


def compare() -> None:
    """Run both sides in turn and print the ratio."""
    threads = int(os.environ.get("BENCH_THREADS", "1"))
    options = GenerationOptions(max_tokens=TOKENS, temperature=0.0, seed=1)
    port = _free_port()
    server = rpc.start_server("127.0.0.1", port, threads=threads, output=subprocess.DEVNULL)
    local = pool = None
    try:
        model = embedded_model_path()
        local = LlamaBackend(model, context_length=CONTEXT, threads=threads, gpu_layers=0)
        spec = PoolSpec(
            "bench",
            model,
            (rpc.Endpoint("127.0.0.1", port),),
            context_length=CONTEXT,
            gpu_layers=local.info.layer_count // 2 if local.info.layer_count else 15,
            threads=threads,
        )
        pool = PooledBackend(spec)
        print(f"pool: {pool.info.backend}")
        ratios = []
        for n in range(ROUNDS):
            local._llm.reset()  # both sides evaluate the whole prompt every round
            mine = local.stream_completion(PROMPT, options=options)
            mine.read()
            theirs = pool.stream_completion(PROMPT, options=options)
            theirs.read()
            a, b = mine.result, theirs.result
            ratio = b.tokens_per_second / a.tokens_per_second
            ratios.append(ratio)
            print(
                f"round {n + 1}: local {a.tokens_per_second:.1f} tokens/s "
                f"({a.completion_tokens} tokens), pooled {b.tokens_per_second:.1f} tokens/s "
                f"({b.completion_tokens} tokens), ratio {ratio:.3f}"
            )
    finally:
        if pool is not None:
            pool.close()
        if local is not None:
            local.close()
        rpc.stop_server(server)
    print(f"pool_over_local_tps: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
