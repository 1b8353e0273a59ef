"""The project index on a real corpus no one here wrote: the standard library of this Python.

Copies ``sysconfig.get_paths()["stdlib"]`` (its own ``site-packages`` and caches left out,
as the indexer leaves them out anyway) to a temporary folder, then indexes it from
scratch, again with nothing changed, and again after changing one file; then runs
keyword queries. Prints files per second for the first, seconds for the second and
third, the query p95 in ms, and last ``query_p95_ms: VALUE`` (bar: 50).

Semantic vectors are not computed here: embedding the ~80,000 definitions of the
standard library takes tens of minutes on a laptop CPU, so this measures the index and
its keyword search (what every query pays for; the semantic half is timed in the tests).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sysconfig
import tempfile
import time
from pathlib import Path

QUERIES = [
    "parse a url into its components",
    "json decode error with line and column",
    "read a csv file into dictionaries",
    "compress data with gzip",
    "create a temporary directory that is removed",
    "walk a directory tree",
    "format a datetime as iso 8601",
    "send an email over smtp",
    "run a subprocess and capture its output",
    "compute the sha256 of a file",
    "base64 encode bytes",
    "thread pool executor submit",
    "asyncio event loop run until complete",
    "argument parser add subparsers",
    "logging rotating file handler",
    "http server request handler do_GET",
    "sqlite3 connection row factory",
    "copy a file and its metadata",
    "regular expression named groups",
    "heap queue push pop smallest",
    "lru cache decorator",
    "dataclass field default factory",
    "pathlib glob recursive",
    "socket create connection timeout",
    "zip file extract all",
    "pickle protocol highest",
    "decimal rounding context",
    "fractions limit denominator",
    "textwrap dedent",
    "unittest mock patch object",
    "inspect signature parameters",
    "tarfile open extract members safely",
    "shlex quote split",
    "uuid4 random",
    "statistics median",
    "configparser read ini sections",
    "difflib unified diff",
    "ssl create default context",
    "weakref finalize",
    "contextlib exit stack",
]


def _copy(stdlib: Path, dest: Path) -> None:
    skip = shutil.ignore_patterns("site-packages", "dist-packages", "__pycache__", "*.pyc")
    shutil.copytree(stdlib, dest, ignore=skip, symlinks=True)


def main() -> None:
    """Run the three indexings and the queries; print the figures, the p95 last."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CODENOOK_HOME"] = str(Path(tmp) / "home")
        from codenook.assist.project import index, search
        from codenook.auth import Auth
        from codenook.store.db import open_database

        stdlib = Path(sysconfig.get_paths()["stdlib"])
        corpus = Path(tmp) / "stdlib"
        _copy(stdlib, corpus)
        db = open_database()
        user = Auth(db).create_user("bench", "pumpkin-harbor-31")

        first = index.add(db, user, corpus, name="stdlib", semantic=False)
        print(f"corpus: {stdlib} ({first.files:,} files indexed, {first.chunks:,} chunks)")
        print("\n".join(first.lines()))
        print(f"first index: {first.files / first.seconds:,.0f} files/s ({first.seconds:.1f} s)")

        second = index.update(db, user, "stdlib", semantic=False)
        assert second.read == 0, second.as_dict()
        print(f"second index (nothing changed): {second.seconds:.2f} s")

        changed = corpus / "json" / "decoder.py"
        changed.write_text(changed.read_text() + "\n# touched by the benchmark\n")
        third = index.update(db, user, "stdlib", semantic=False)
        assert third.read == 1, third.as_dict()
        print(f"third index (one file changed): {third.seconds:.2f} s")

        timings, cpu = [], []
        for _ in range(3):
            for q in QUERIES:
                t, c = time.perf_counter(), time.process_time()
                hits = search.search(db, user, q, method="keyword", limit=8)
                timings.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
                assert hits, q
        timings.sort()
        cpu.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        # CPU time says what a query costs apart from other load on the machine.
        print(f"queries: {len(timings)}, median {statistics.median(timings):.1f} ms")
        cpu95 = cpu[int(len(cpu) * 0.95) - 1]
        print(f"query CPU time: median {statistics.median(cpu):.1f} ms, p95 {cpu95:.1f} ms")
        db.close()
        print(f"query_p95_ms: {p95:.1f}")


if __name__ == "__main__":
    main()
