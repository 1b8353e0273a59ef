"""Tokens/s of codenook's ask path against raw llama_cpp on the same model and settings.

Both generate the same 256 tokens (seeded, temperature 0, same threads and context),
interleaved over several rounds so machine noise hits both alike. Prints the median
ratio codenook/raw last; it must be at least 0.97.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

import llama_cpp

from codenook.assist.session import DEFAULT_SYSTEM_PROMPT, ChatSession
from codenook.auth import Auth
from codenook.engine.backend import GenerationOptions, Message
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend, default_threads
from codenook.store.db import open_database

TOKENS = 256
ROUNDS = 7
CONTEXT = 2048
QUESTION = "Write a long, detailed Python tutorial about lists, with many code examples."


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["CODENOOK_HOME"] = home
        compare()


def compare() -> None:
    """Run both sides in turn and print the ratio."""
    db = open_database()
    user = Auth(db).create_user("bench", "benchmark-pass-phrase-1")
    path = str(embedded_model_path())
    threads = default_threads()
    backend = LlamaBackend(path, context_length=CONTEXT, threads=threads, gpu_layers=0)
    raw = llama_cpp.Llama(
        model_path=path,
        n_ctx=CONTEXT,
        n_threads=threads,
        n_threads_batch=threads,
        n_gpu_layers=0,
        verbose=False,
    )
    options = GenerationOptions(max_tokens=TOKENS, temperature=0.0, seed=1)
    prompt = backend.tokenize_prompt(
        backend.chat_prompt([Message("system", DEFAULT_SYSTEM_PROMPT), Message("user", QUESTION)])
    )

    def run_codenook() -> tuple[float, int, str]:
        backend._llm.reset()  # both sides evaluate the whole prompt every round
        start = time.perf_counter()
        # The whole ask path: a stored conversation, the question committed, the answer
        # streamed and saved as it grows.
        answer = ChatSession(db, user, backend, options).send(QUESTION, on_text=lambda _: None)
        result = answer.result
        return time.perf_counter() - start, result.completion_tokens, result.text

    def run_raw() -> tuple[float, int, str]:
        raw.reset()
        start = time.perf_counter()
        pieces = [
            chunk["choices"][0]["text"]
            for chunk in raw.create_completion(
                prompt,
                max_tokens=TOKENS,
                temperature=0.0,
                top_p=options.top_p,
                top_k=40,
                min_p=0.05,
                repeat_penalty=1.0,
                seed=1,
                stream=True,
            )
        ]
        elapsed = time.perf_counter() - start
        return elapsed, raw.n_tokens - len(prompt) + 1, "".join(pieces)

    run_codenook(), run_raw()  # warm-up: page in the weights for both
    ratios = []
    for i in range(ROUNDS):
        order = (run_codenook, run_raw) if i % 2 == 0 else (run_raw, run_codenook)
        results = {f.__name__: f() for f in order}
        (t_c, n_c, text_c), (t_r, n_r, text_r) = results["run_codenook"], results["run_raw"]
        if text_c != text_r or n_c != n_r:
            sys.exit(f"round {i}: outputs differ ({n_c} vs {n_r} tokens); not comparable")
        ratio = (n_c / t_c) / (n_r / t_r)
        ratios.append(ratio)
        print(
            f"round {i + 1}: {n_c} tokens, codenook {n_c / t_c:.1f} tok/s, "
            f"raw {n_r / t_r:.1f} tok/s, ratio {ratio:.3f}"
        )
    backend.close()
    raw.close()
    db.close()
    print(f"threads {threads}, context {CONTEXT}, {ROUNDS} rounds")
    print(f"throughput_ratio: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
