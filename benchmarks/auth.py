"""Median time of one password verification (Argon2id); must be 50 ms to 1 s here.

Also the medians of a wrong password for a known name and for an unknown one, which must
cost the same (an attacker must not learn which names exist from the time taken).
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from pathlib import Path

from codenook.auth import Auth, AuthError
from codenook.store import accounts
from codenook.store.db import open_database

ROUNDS = 15
PASSWORD = "benchmark-pass-phrase-1"


def _timed(auth: Auth, name: str, password: str) -> float:
    start = time.perf_counter()
    with contextlib.suppress(AuthError):
        auth.verify(name, password)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "bench.db")
        auth = Auth(db)
        auth.create_user("bench", PASSWORD)
        times, known, unknown = [], [], []
        for i in range(ROUNDS):
            times.append(_timed(auth, "bench", PASSWORD))
            known.append(_timed(auth, "bench", "wrong-pass-phrase"))
            unknown.append(_timed(auth, f"ghost{i}", "wrong-pass-phrase"))
            # So the lockout does not cut the wrong-password rounds short.
            accounts.clear_failures(db, "bench")
        db.close()
    k, u = statistics.median(known), statistics.median(unknown)
    print(f"wrong password: known name {k * 1000:.0f} ms, unknown name {u * 1000:.0f} ms (medians)")
    print(f"{ROUNDS} verifications, min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
    print(f"verify_median_ms: {statistics.median(times) * 1000:.0f}")


if __name__ == "__main__":
    main()
