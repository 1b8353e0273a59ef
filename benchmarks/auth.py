"""Median time of one password verification (Argon2id); must be 50 ms to 1 s here."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from codenook.auth import Auth
from codenook.store.db import open_database

ROUNDS = 15
PASSWORD = "benchmark-pass-phrase-1"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "bench.db")
        auth = Auth(db)
        auth.create_user("bench", PASSWORD)
        times = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            auth.verify("bench", PASSWORD)
            times.append(time.perf_counter() - start)
        db.close()
    print(f"{ROUNDS} verifications, min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
    print(f"verify_median_ms: {statistics.median(times) * 1000:.0f}")


if __name__ == "__main__":
    main()
