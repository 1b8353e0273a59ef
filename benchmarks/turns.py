"""Time to first token across a 12-turn conversation: the cache keeps turn 12 as quick as turn 1.

Prints each turn's time to first token, then turn 12's prompt evaluated from scratch
(cache cleared) against turn 12 with the cache, and last the ratio of turn 12's time
to first token to turn 1's (must be at most 1.5).
"""

from __future__ import annotations

import os
import tempfile

from codenook.assist.session import ChatSession
from codenook.auth import Auth
from codenook.engine.backend import GenerationOptions, Message
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend, default_threads
from codenook.store.db import open_database

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
ANSWER_TOKENS = 110  # with a ~40-token question, about 150 tokens per turn


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["CODENOOK_HOME"] = home
        db = open_database()
        user = Auth(db).create_user("bench", "benchmark-pass-phrase-1")
        backend = LlamaBackend(
            embedded_model_path(), context_length=8192, threads=default_threads(), gpu_layers=0
        )
        options = GenerationOptions(max_tokens=ANSWER_TOKENS, temperature=0.0, seed=1)
        session = ChatSession(db, user, backend, options)
        ttft = []
        for n, question in enumerate(QUESTIONS, 1):
            answer = session.send(question, on_text=lambda _: None)
            r = answer.result
            ttft.append(r.time_to_first_token or 0.0)
            print(
                f"turn {n:>2}: prompt {r.prompt_tokens:>5} tokens, {r.cached_tokens:>5} cached, "
                f"answer {r.completion_tokens:>3}, first token after {ttft[-1] * 1000:6.1f} ms"
            )

        # Turn 12's prompt again, first with the cache as the conversation left it ...
        pairs = session.turns()
        prompt = [
            Message("system", session.system_prompt),
            *(m for pair in pairs[:-1] for m in pair),
            pairs[-1][0],
        ]
        one = GenerationOptions(max_tokens=1, temperature=0.0)
        warm = backend.stream_chat(
            prompt, options=one, cache_key=f"conversation:{answer.conversation_id}"
        )
        warm.read()
        # ... then with the cache cleared, so the whole prompt is evaluated.
        backend._llm.reset()
        cold = backend.stream_chat(prompt, options=one, cache_key="cold")
        cold.read()
        backend.close()
        db.close()
    cold_s = cold.result.time_to_first_token or 0.0
    print(f"turn 12 prompt: {cold.result.prompt_tokens} tokens")
    print(
        f"turn 12 first token: cache cleared {cold_s * 1000:.1f} ms, with the cache "
        f"{ttft[-1] * 1000:.1f} ms; cleared/cached = {cold_s / ttft[-1]:.1f}"
    )
    print(f"turn12_over_turn1_ttft: {ttft[-1] / ttft[0]:.2f}")


if __name__ == "__main__":
    main()
