"""gpt4all's side of benchmarks/peers.py, run in its own process (and interpreter).

gpt4all bundles its own, older llama.cpp: loading it next to llama-cpp-python's in one
process would mix two libllama builds, so peers.py talks to this worker over pipes.
argv: MODEL_PATH THREADS N_CTX. stdin: one JSON request a line; stdout: one JSON reply a line.
Requests: {"prompt": TEXT, "max_tokens": N} (a fresh chat) and
{"turns": [TEXT, ...], "max_tokens": N} (one chat; the reply has each turn's first token).
It never downloads anything (``allow_download=False``).
"""

from __future__ import annotations

import json
import os
import sys
import time

# ChatML, the format of the models peers.py runs; gpt4all 2.8 does not read a GGUF's template.
SYSTEM = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
TEMPLATE = "<|im_start|>user\n{0}<|im_end|>\n<|im_start|>assistant\n"


def reply(obj: dict) -> None:
    """One JSON line to peers.py."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def answer(model: object, prompt: str, max_tokens: int) -> dict:
    """Stream one answer: when it started, its first and last piece, and its text."""
    start = time.perf_counter()
    first = last = None
    text = []
    for piece in model.generate(prompt, max_tokens=max_tokens, temp=0.0, streaming=True):
        last = time.perf_counter()
        first = first or last
        text.append(piece)
    return {"start": start, "first": first, "last": last, "text": "".join(text)}


def main() -> None:
    """Load the model (or say why not), then answer requests until stdin ends."""
    path, threads, n_ctx = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    try:
        from gpt4all import GPT4All

        model = GPT4All(
            os.path.basename(path),
            model_path=os.path.dirname(path),
            allow_download=False,
            device="cpu",
            n_threads=threads,
            n_ctx=n_ctx,
            verbose=False,
        )
    except Exception as exc:
        reply({"error": f"{type(exc).__name__}: {exc}"})
        return
    reply({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        with model.chat_session(system_prompt=SYSTEM, prompt_template=TEMPLATE):
            if "turns" in request:
                got = [answer(model, q, request["max_tokens"]) for q in request["turns"]]
                reply({"turns": got})
            else:
                reply(answer(model, request["prompt"], request["max_tokens"]))


if __name__ == "__main__":
    main()
