"""Download one GGUF file from the Hugging Face hub: resumable, checked, renamed into place.

``huggingface_hub`` asks the hub about the file (size, SHA-256, the CDN address, gated
access with the token) and provides the HTTP session; the transfer itself is done here so
that a partial file survives an interrupted run (``FILE.part``, resumed with a Range
request next time), the progress reaches any caller (terminal or window), and the file is
only renamed into place after its SHA-256 matches the hub's.

Workers may call ``download`` from a thread; ``on_progress`` is then called in that thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from codenook import safefile
from codenook.engine.hardware import gb
from codenook.errors import CodenookError

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK = 1024 * 1024
#: Attempts to resume within one run when the connection drops mid-file.
RETRIES = 3
#: Free space to leave on the disk beyond the file itself.
SPARE_BYTES = 100 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHA1 = re.compile(r"[0-9a-f]{40}")


class DownloadError(CodenookError):
    """A download failed; the message says why and what to do."""


class OfflineError(DownloadError):
    """The hub cannot be reached (no network, or offline mode)."""


class NotEnoughSpaceError(DownloadError):
    """The disk lacks room for the file; nothing was downloaded."""


class ChecksumError(DownloadError):
    """The downloaded bytes do not match the hub's checksum; the partial file was removed."""


class AccessError(DownloadError):
    """The repository is gated or private and the token (or its absence) does not open it."""


class DownloadCancelled(DownloadError):
    """The caller cancelled; the partial file is kept for resuming."""

    exit_code = 130


@dataclass(frozen=True)
class Progress:
    """Where a download stands: bytes done of total, in a phase."""

    done: int
    total: int
    phase: Literal["download", "verify", "done"]

    @property
    def fraction(self) -> float:
        """Done as a share of total, 0 to 1."""
        return self.done / self.total if self.total else 0.0


@dataclass(frozen=True)
class RemoteFile:
    """What the hub says about a file before any byte is fetched."""

    repo: str
    filename: str
    url: str
    size: int
    #: The hub's ETag for the file: its SHA-256 for LFS files, its git blob SHA-1 otherwise.
    etag: str
    commit: str | None


@dataclass(frozen=True)
class Downloaded:
    """A finished download."""

    path: Path
    size: int
    sha256: str
    commit: str | None


def endpoint_in_force(endpoint: str | None = None) -> str:
    """The hub address: the argument, else ``HF_ENDPOINT``, else huggingface.co."""
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def offline_mode() -> bool:
    """Whether ``HF_HUB_OFFLINE`` asks for no network at all."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def manual_steps(repo: str, filename: str, folder: Path) -> str:
    """How to get a file without codenook's download."""
    return (
        f"To install it by hand, download {filename} from {DEFAULT_ENDPOINT}/{repo} "
        f"(Files and versions) on a machine with a network, put it in {folder}, then run "
        f"'codenook models scan {folder}'."
    )


def disk_free(folder: Path) -> int:
    """Free bytes on the disk that holds ``folder``."""
    return shutil.disk_usage(folder).free


def _transport_errors() -> tuple[type[BaseException], ...]:
    import httpx2

    return (httpx2.TransportError, OSError)


def remote_file(
    repo: str,
    filename: str,
    *,
    folder: Path,
    revision: str = "main",
    token: str | None = None,
    endpoint: str | None = None,
) -> RemoteFile:
    """Ask the hub for a file's size, checksum and address; no file data is fetched."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    base = endpoint_in_force(endpoint)
    if offline_mode():
        raise OfflineError(
            f"Offline mode is on (HF_HUB_OFFLINE), so {filename} cannot be downloaded. "
            + manual_steps(repo, filename, folder)
        )
    url = hf_hub_url(repo, filename, revision=revision, endpoint=base)
    try:
        # token=False: send exactly the token codenook resolved, never one found elsewhere.
        meta = get_hf_file_metadata(url, token=token or False, endpoint=base, timeout=15)
    except GatedRepoError as exc:
        hint = (
            "your token has no access: accept the model's terms on its page, then try again"
            if token
            else "log in with 'codenook models login' after accepting the model's terms on its page"
        )
        raise AccessError(f"{repo} is a gated repository: {hint}.") from exc
    except RepositoryNotFoundError as exc:
        extra = "" if token else " (if it is private, log in with 'codenook models login')"
        raise DownloadError(f"The repository {repo} was not found on {base}{extra}.") from exc
    except (RemoteEntryNotFoundError, RevisionNotFoundError) as exc:
        raise DownloadError(f"{repo} has no file {filename} at {revision}.") from exc
    except OfflineModeIsEnabled as exc:
        raise OfflineError(
            f"Offline mode is on, so {filename} cannot be downloaded. "
            + manual_steps(repo, filename, folder)
        ) from exc
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise DownloadError(f"The hub answered HTTP {status} for {repo}/{filename}.") from exc
    except _transport_errors() as exc:
        raise OfflineError(
            f"Cannot reach {base} ({type(exc).__name__}): you seem to be offline. "
            + manual_steps(repo, filename, folder)
        ) from exc
    etag = (meta.etag or "").strip('"').lower()
    if meta.size is None or not (_SHA256.fullmatch(etag) or _SHA1.fullmatch(etag)):
        raise DownloadError(
            f"The hub gave no size or checksum for {repo}/{filename}, so a download could not "
            "be verified; nothing was downloaded."
        )
    return RemoteFile(repo, filename, meta.location, int(meta.size), etag, meta.commit_hash)


def _part_paths(dest: Path) -> tuple[Path, Path]:
    return dest.with_name(dest.name + ".part"), dest.with_name(dest.name + ".part.json")


def _resume_offset(part: Path, marker: Path, remote: RemoteFile) -> int:
    """Bytes of an earlier partial download of this very file (same checksum), else 0."""
    if not part.exists():
        return 0
    try:
        same = json.loads(marker.read_text(encoding="utf-8")).get("etag") == remote.etag
    except (OSError, ValueError, AttributeError):
        same = False
    have = part.stat().st_size
    if not same or have > remote.size:
        part.unlink()
        return 0
    return have


def _checksum(path: Path, etag: str, on_progress: Callable[[Progress], None] | None) -> str:
    """SHA-256 of ``path`` (and the git blob SHA-1 when that is what the hub gave)."""
    size = path.stat().st_size
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1(f"blob {size}\0".encode()) if _SHA1.fullmatch(etag) else None
    done = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK * 4):
            sha256.update(chunk)
            if sha1 is not None:
                sha1.update(chunk)
            done += len(chunk)
            if on_progress:
                on_progress(Progress(done, size, "verify"))
    if sha1 is not None and sha1.hexdigest() != etag:
        return "mismatch"
    return sha256.hexdigest()


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlparse(a), urlparse(b)
    return (pa.scheme, pa.netloc) == (pb.scheme, pb.netloc)


def _fetch(
    remote: RemoteFile,
    part: Path,
    *,
    token: str | None,
    endpoint: str,
    on_progress: Callable[[Progress], None] | None,
    cancel: threading.Event | None,
) -> None:
    """Append the missing bytes to ``part``, resuming after dropped connections."""
    from huggingface_hub.errors import HfHubHTTPError
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    headers = build_hf_headers(token=token or False)
    headers["Accept-Encoding"] = "identity"
    # A signed CDN address must not receive the hub token.
    if not _same_origin(remote.url, endpoint):
        headers.pop("authorization", None)
    failures = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        if have >= remote.size:
            return
        request_headers = dict(headers)
        if have:
            request_headers["Range"] = f"bytes={have}-"
        try:
            with get_session().stream(
                "GET", remote.url, headers=request_headers, follow_redirects=True, timeout=30
            ) as response:
                hf_raise_for_status(response)
                # 200 to a Range request: the server sends the whole file again.
                mode = "ab" if have and response.status_code == 206 else "wb"
                done = have if mode == "ab" else 0
                reported = done
                with part.open(mode) as f:
                    # Chunks as they arrive: bytes received before a drop are kept, not lost
                    # in a half-filled buffer.
                    for chunk in response.iter_bytes():
                        if cancel is not None and cancel.is_set():
                            raise DownloadCancelled(
                                f"Download of {remote.filename} stopped; run the same command "
                                "again to resume it."
                            )
                        f.write(chunk)
                        done += len(chunk)
                        failures = 0
                        if on_progress and (done - reported >= CHUNK or done == remote.size):
                            reported = done
                            on_progress(Progress(done, remote.size, "download"))
                if done < remote.size:
                    raise DownloadError("the server closed the connection early")
            return
        except (DownloadCancelled, KeyboardInterrupt):
            raise
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status < 500:
                raise DownloadError(
                    f"The file server refused {remote.filename} (HTTP {status}); the part "
                    "is kept: run the same command again later."
                ) from exc
            failures += 1
            if failures > RETRIES:
                raise DownloadError(
                    f"The file server keeps failing (HTTP {status}); run the same command "
                    "again later to resume."
                ) from exc
            time.sleep(0.5 * failures)
        except (DownloadError, *_transport_errors()) as exc:
            failures += 1
            got = part.stat().st_size if part.exists() else 0
            if failures > RETRIES:
                raise DownloadError(
                    f"Download of {remote.filename} broke off at {got:,} of {remote.size:,} "
                    f"bytes ({exc}). The part is kept: run the same command again to resume."
                ) from exc
            log.warning("Connection lost at %s of %s bytes (%s); resuming.", got, remote.size, exc)
            time.sleep(0.5 * failures)


def download(
    repo: str,
    filename: str,
    dest: Path,
    *,
    revision: str = "main",
    token: str | None = None,
    endpoint: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> Downloaded:
    """Download ``repo``/``filename`` to ``dest``; resumes a ``dest.part`` left by an earlier run.

    Checks the free disk space before fetching anything, verifies the SHA-256 against the
    hub's, and renames the file into place only when it matches.
    """
    base = endpoint_in_force(endpoint)
    folder = dest.parent
    folder.mkdir(parents=True, exist_ok=True)
    remote = remote_file(
        repo, filename, folder=folder, revision=revision, token=token, endpoint=base
    )
    part, marker = _part_paths(dest)
    have = _resume_offset(part, marker, remote)
    needed = remote.size - have
    free = disk_free(folder)
    if needed + SPARE_BYTES > free:
        raise NotEnoughSpaceError(
            f"{filename} needs {gb(needed)} but only {gb(free)} is free in "
            f"{folder}. Free some space, or choose another folder with "
            "'models.folder' in the settings; nothing was downloaded."
        )
    safefile.write_file(
        marker,
        json.dumps({"repo": repo, "file": filename, "etag": remote.etag, "size": remote.size}),
    )
    if have:
        log.info("Resuming %s at %s of %s bytes.", filename, have, remote.size)
    _fetch(remote, part, token=token, endpoint=base, on_progress=on_progress, cancel=cancel)
    size = part.stat().st_size
    digest = _checksum(part, remote.etag, on_progress)
    expected = remote.etag if _SHA256.fullmatch(remote.etag) else digest
    if size != remote.size or digest != expected:
        part.unlink(missing_ok=True)
        marker.unlink(missing_ok=True)
        raise ChecksumError(
            f"The download of {filename} is damaged: its {size:,} bytes do not match the hub's "
            f"checksum {remote.etag[:12]}…; the partial file was removed. Run the command again."
        )
    with part.open("rb+") as f:
        os.fsync(f.fileno())
    os.replace(part, dest)
    marker.unlink(missing_ok=True)
    if on_progress:
        on_progress(Progress(size, size, "done"))
    return Downloaded(dest, size, digest, remote.commit)
