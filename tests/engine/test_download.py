"""Downloads through huggingface_hub against a hub-like server on loopback."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from pathlib import Path

import pytest

from codenook.engine import download as dl
from tests.hubserver import fake_hub

REPO, NAME = "tester/Tiny-GGUF", "tiny.Q4_K_M.gguf"
DATA = os.urandom(3 * 1024 * 1024 + 123)
TOKEN = "hf_testTOKENabcdefghijklmnop1234"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries back off with sleep(); the tests need not wait."""
    monkeypatch.setattr(dl.time, "sleep", lambda s: None)


def closed_port() -> int:
    """A loopback port with nothing listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_download_reports_progress_and_lands_atomically(tmp_path: Path) -> None:
    seen: list[dl.Progress] = []
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, NAME, DATA)
        result = dl.download(
            REPO, NAME, tmp_path / NAME, endpoint=endpoint, on_progress=seen.append
        )
    assert (tmp_path / NAME).read_bytes() == DATA
    assert result.sha256 == hashlib.sha256(DATA).hexdigest()
    assert result.size == len(DATA)
    assert result.commit == "0123456789abcdef0123456789abcdef01234567"
    downloading = [p.done for p in seen if p.phase == "download"]
    assert len(downloading) >= 3  # 1 MiB chunks: several reports, not one at the end
    assert downloading == sorted(downloading) and downloading[-1] == len(DATA)
    assert all(p.total == len(DATA) for p in seen)
    assert [p.phase for p in seen][-1] == "done"
    assert any(p.phase == "verify" for p in seen)
    # Nothing half-done is left beside the file.
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAME]


def test_dropped_connection_is_resumed_with_a_range_request(tmp_path: Path) -> None:
    half = len(DATA) // 2
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, NAME, DATA)
        hub.drop_after, hub.drops_left = half, 1
        dl.download(REPO, NAME, tmp_path / NAME, endpoint=endpoint)
        gets = hub.gets()
        sent = hub.bytes_sent
    assert (tmp_path / NAME).read_bytes() == DATA
    assert len(gets) == 2
    assert "range" not in gets[0]
    start = int(gets[1]["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < start <= half
    assert sent == len(DATA)  # the first half was not fetched twice


def test_interrupted_run_leaves_a_part_that_the_next_run_resumes(tmp_path: Path) -> None:
    dest = tmp_path / NAME
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, NAME, DATA)
        hub.drop_after, hub.drops_left = 1_000_000, 99  # every attempt breaks off
        with pytest.raises(dl.DownloadError, match="run the same command again to resume"):
            dl.download(REPO, NAME, dest, endpoint=endpoint)
        part = tmp_path / (NAME + ".part")
        assert not dest.exists()
        assert part.stat().st_size == 1_000_000
        hub.drops_left = 0
        hub.requests.clear()
        dl.download(REPO, NAME, dest, endpoint=endpoint)
        gets = hub.gets()
    assert dest.read_bytes() == DATA
    assert [g.get("range") for g in gets] == ["bytes=1000000-"]
    assert not part.exists()


def test_part_of_another_version_is_not_resumed(tmp_path: Path) -> None:
    dest = tmp_path / NAME
    (tmp_path / (NAME + ".part")).write_bytes(b"old bytes of another revision")
    (tmp_path / (NAME + ".part.json")).write_text('{"etag": "' + "e" * 64 + '"}')
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, NAME, DATA)
        dl.download(REPO, NAME, dest, endpoint=endpoint)
        assert "range" not in hub.gets()[0]
    assert dest.read_bytes() == DATA


def test_wrong_checksum_is_rejected_and_the_part_removed(tmp_path: Path) -> None:
    dest = tmp_path / NAME
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, NAME, DATA, fake_sha256="ab" * 32)
        with pytest.raises(dl.ChecksumError, match="damaged") as err:
            dl.download(REPO, NAME, dest, endpoint=endpoint)
    assert "removed" in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_not_enough_disk_space_is_refused_before_any_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dl, "disk_free", lambda folder: 2_000_000)
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, NAME, DATA)
        with pytest.raises(dl.NotEnoughSpaceError) as err:
            dl.download(REPO, NAME, tmp_path / NAME, endpoint=endpoint)
        assert hub.gets() == []  # refused before the transfer started
    message = str(err.value)
    # 3,145,851 bytes and the 100 MB kept spare do not fit in 2 MB.
    assert f"{NAME} needs 3 MB but only 2 MB is free in {tmp_path}" in message
    assert str(tmp_path) in message and "nothing was downloaded" in message
    assert not (tmp_path / (NAME + ".part")).exists()


def test_offline_fails_at_once_and_says_how_to_install_by_hand(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(dl.OfflineError) as err:
        dl.download(REPO, NAME, tmp_path / NAME, endpoint=f"http://127.0.0.1:{closed_port()}")
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "offline" in message
    assert f"download {NAME} from https://huggingface.co/{REPO}" in message
    assert f"put it in {tmp_path}" in message
    assert f"codenook models scan {tmp_path}" in message


def test_offline_mode_variable_refuses_without_a_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, NAME, DATA)
        with pytest.raises(dl.OfflineError, match=r"HF_HUB_OFFLINE.*models scan"):
            dl.download(REPO, NAME, tmp_path / NAME, endpoint=endpoint)
        assert hub.requests == []


def test_gated_repository_needs_the_token_which_never_reaches_the_cdn(tmp_path: Path) -> None:
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, NAME, DATA)
        hub.gated.add(REPO)
        with pytest.raises(dl.AccessError, match="codenook models login"):
            dl.download(REPO, NAME, tmp_path / NAME, endpoint=endpoint)
        dl.download(REPO, NAME, tmp_path / NAME, endpoint=endpoint, token=TOKEN)
        heads = [h for m, p, h in hub.requests if p.startswith("/tester/")]
        cdn = hub.gets()
    assert heads[-1]["authorization"] == f"Bearer {TOKEN}"
    assert cdn and all("authorization" not in h for h in cdn)
    assert (tmp_path / NAME).read_bytes() == DATA


def test_unknown_file_and_repository(tmp_path: Path) -> None:
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, NAME, DATA)
        with pytest.raises(dl.DownloadError, match=r"has no file other\.gguf"):
            dl.download(REPO, "other.gguf", tmp_path / "other.gguf", endpoint=endpoint)
        with pytest.raises(dl.DownloadError, match="repository nobody/none was not found"):
            dl.download("nobody/none", NAME, tmp_path / NAME, endpoint=endpoint)


def test_cancel_keeps_the_part_for_later(tmp_path: Path) -> None:
    import threading

    stop = threading.Event()

    def progress(p: dl.Progress) -> None:
        if p.done >= 2 * dl.CHUNK:
            stop.set()

    with fake_hub() as (endpoint, hub):
        hub.add(REPO, NAME, DATA)
        with pytest.raises(dl.DownloadCancelled, match="resume"):
            dl.download(
                REPO, NAME, tmp_path / NAME, endpoint=endpoint, on_progress=progress, cancel=stop
            )
    assert (tmp_path / (NAME + ".part")).stat().st_size >= 2 * dl.CHUNK
    assert not (tmp_path / NAME).exists()
