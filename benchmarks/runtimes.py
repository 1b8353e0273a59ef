"""The transformers runtime against llama.cpp on the embedded model, same threads.

Prints each runtime's generation speed (tokens/s after the first token) and their ratio
(a figure to know: transformers runs the dequantized float32 weights, llama.cpp the 4-bit
ones), then a 12-turn conversation on the transformers runtime, and last
``transformers_turn12_over_turn1_ttft: X``: turn 12's time to first token over turn 1's
(at most 1.5: the past keys and values are kept between turns).
"""

from __future__ import annotations

import os
import tempfile

from codenook.engine.backend import GenerationOptions, Message

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

THREADS = int(os.environ.get("CODENOOK_BENCH_THREADS") or 2)
QUESTION = [Message("user", "Write a Python function that reads a CSV file and sums a column.")]
TOKENS = 96
QUESTIONS = [
    "How do I read a text file line by line in Python?",
    "How do I do the same in Bash?",
    "How can I skip empty lines in both versions?",
    "How do I count the words in each line in Python?",
    "Write a Bash function that prints the longest line of a file.",
    "How do I handle a file that does not exist in Python?",
    "And in Bash, how do I check that a file exists before reading it?",
    "How do I write the results to a CSV file in Python?",
    "How do I sort the CSV rows by the second column in Bash?",
    "How do I time a Python function?",
    "How do I run the Python script from a Bash loop over many files?",
    "Summarise the best approach for processing large files in both languages.",
]


def speed(backend: object) -> float:
    """Best tokens/s of three seeded greedy answers (the first also warms up)."""
    options = GenerationOptions(max_tokens=TOKENS, temperature=0.0, seed=1, stop=())
    best = 0.0
    for _ in range(3):
        stream = backend.stream_chat(QUESTION, options=options)  # type: ignore[attr-defined]
        stream.read()
        best = max(best, stream.result.tokens_per_second)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["CODENOOK_HOME"] = home
        from codenook.assist.session import ChatSession
        from codenook.auth import Auth
        from codenook.engine.embedded import embedded_model_path
        from codenook.engine.llama import LlamaBackend
        from codenook.engine.transformers_backend import TransformersBackend
        from codenook.store.db import open_database

        path = embedded_model_path()
        with LlamaBackend(path, context_length=8192, threads=THREADS, gpu_layers=0) as llama:
            llama_tps = speed(llama)
        hf = TransformersBackend(
            path, layout="gguf", context_length=8192, threads=THREADS, gpu=False, embedded=True
        )
        hf_tps = speed(hf)
        print(f"threads: {THREADS}")
        print(f"llama.cpp: {llama_tps:.1f} tokens/s; transformers ({hf.info.device}): {hf_tps:.1f}")
        print(f"transformers_over_llama_cpp_tokens_per_second: {hf_tps / llama_tps:.2f}")

        db = open_database()
        user = Auth(db).create_user("bench", "benchmark-pass-phrase-1")
        session = ChatSession(db, user, hf, GenerationOptions(max_tokens=48, temperature=0.0))
        ttft = []
        for n, question in enumerate(QUESTIONS, 1):
            r = session.send(question, on_text=lambda _: None).result
            ttft.append(r.time_to_first_token or 0.0)
            print(
                f"turn {n:>2}: prompt {r.prompt_tokens:>5} tokens, {r.cached_tokens:>5} cached, "
                f"first token after {ttft[-1] * 1000:6.1f} ms"
            )
        hf.close()
        db.close()
    print(f"transformers_turn12_over_turn1_ttft: {ttft[-1] / ttft[0]:.2f}")


if __name__ == "__main__":
    main()
