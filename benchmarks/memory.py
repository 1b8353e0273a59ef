"""Peak resident memory of `codenook ask` with the embedded model (must be under 400 MB)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from codenook.auth import Auth
from codenook.store.db import open_database

PASSWORD = "benchmark-pass-phrase-1"


def main() -> None:
    codenook = Path(sys.executable).with_name("codenook")
    with tempfile.TemporaryDirectory() as home:
        os.environ["CODENOOK_HOME"] = home
        db = open_database()
        Auth(db).create_user("bench", PASSWORD)
        db.close()
        proc = subprocess.run(
            [
                str(codenook),
                "ask",
                "Write a Python function that adds two numbers",
                "--max-tokens",
                "128",
                "--temperature",
                "0",
            ],
            env={**os.environ, "CODENOOK_USER": "bench", "CODENOOK_PASSWORD": PASSWORD},
            capture_output=True,
            check=False,
        )
    if proc.returncode != 0:
        sys.exit(proc.stderr.decode())
    # Linux reports ru_maxrss in KiB; only the one child ran, so this is its peak.
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"answer: {len(proc.stdout)} bytes")
    print(f"peak_rss_mb: {peak_mb:.0f}")


if __name__ == "__main__":
    main()
