"""Wall time of ``codenook stats`` over a store holding 1,000 logged answers.

Fills a temporary store with 1,000 answers (and their questions) in 100 conversations,
with realistic figures: six jobs, three models, time to first token and tokens/s spread
like real runs, tool results on generate answers, some thumbs. Then runs the installed
``codenook stats`` as a logged-in user 5 times and prints the median; the last line is
``stats_seconds: VALUE`` (must be below 0.5).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codenook.auth import Auth, save_token
from codenook.store import conversations as store
from codenook.store.db import open_database

ANSWERS = 1000
RUNS = 5
JOBS = ["ask"] * 4 + ["generate"] * 3 + ["complete"] * 3 + ["review", "debug", "document"]
MODELS = [
    ("Qwen2.5 Coder 7B Instruct", "qwen2.5-coder-7b-instruct-q4_k_m.gguf", 48.0),
    ("CodeLlama 7B Instruct", "codellama-7b-instruct.Q4_K_M.gguf", 45.0),
    ("SmolLM2 135M Instruct", "SmolLM2-135M-Instruct.Q4_1.gguf", 80.0),
]


def fill(db, user_id: int, rng: random.Random) -> None:
    """Insert ANSWERS answers with their questions, as a session would have stored them."""
    db.execute("BEGIN")
    for n in range(ANSWERS):
        if n % 10 == 0:
            conv = store.create_conversation(
                db, user_id, title=f"conversation {n // 10}", system_prompt="You are codenook."
            )
        job = rng.choice(JOBS)
        name, file, speed = rng.choice(MODELS)
        tools = None
        if job == "generate":
            tools = {
                "lint_findings": rng.choice([0, 0, 0, 1, 2, 5]),
                "validation_passed": rng.random() < 0.8,
                "sandbox_exit": rng.choice([0, 0, 0, 1]),
            }
        question = f"Question {n}: how do I parse a CSV file in Python? " * rng.randint(1, 4)
        store.add_message(db, user_id, conv, role="user", content=question)
        tokens = rng.randint(20, 600)
        store.add_message(
            db,
            user_id,
            conv,
            role="assistant",
            content="```python\nimport csv\n```\n" * (tokens // 8),
            task=job,
            language=rng.choice(["python", "bash"]),
            model=name,
            model_file=file,
            model_sha256=f"{rng.getrandbits(256):064x}",
            backend="llama.cpp",
            settings={"max_tokens": 1024, "temperature": 0.2, "top_p": 0.95, "seed": None},
            tool_results=tools,
            prompt_tokens=rng.randint(60, 3000),
            answer_tokens=tokens,
            time_to_first_token=rng.lognormvariate(-1.6, 0.6),
            tokens_per_second=max(1.0, rng.gauss(speed, speed * 0.08)),
            finish_reason=rng.choice(["stop"] * 8 + ["length", "cancelled"]),
            turns_dropped=0,
            cached_tokens=rng.randint(0, 2000),
        )
    db.execute(
        "UPDATE messages SET vote = CASE abs(random()) % 10 WHEN 0 THEN 1 WHEN 1 THEN 1 "
        "WHEN 2 THEN -1 ELSE 0 END WHERE role = 'assistant'"
    )
    db.execute("COMMIT")


def main() -> None:
    codenook = Path(sys.executable).with_name("codenook")
    with tempfile.TemporaryDirectory() as home:
        os.environ["CODENOOK_HOME"] = home
        for var in ("CODENOOK_USER", "CODENOOK_PASSWORD"):
            os.environ.pop(var, None)
        db = open_database()
        auth = Auth(db)
        user = auth.create_user("bench", "benchmark-pass-phrase-1")
        fill(db, user.id, random.Random(7))
        # A saved login, as after `codenook login`: stats itself is what is timed.
        save_token(auth.start_session(user))
        db.close()
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            proc = subprocess.run(
                [str(codenook), "stats", "--json"], capture_output=True, check=False
            )
            times.append(time.perf_counter() - started)
            if proc.returncode != 0:
                sys.exit(f"codenook stats failed: {proc.stderr.decode()}")
        figures = json.loads(proc.stdout)
    assert figures["answers"] == ANSWERS, figures["answers"]
    print(
        f"{figures['answers']} answers, {len(figures['groups'])} job/model groups, "
        f"median first token {figures['overall']['ttft_median']:.3f} s, "
        f"validation pass rate {figures['validation_pass_rate']:.0%}"
    )
    print("runs: " + ", ".join(f"{t:.3f}" for t in times) + " s")
    print(f"stats_seconds: {statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
