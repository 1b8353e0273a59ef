"""``codenook serve`` fills a gap with codenook's own FIM prompt: the middle only.

The Qwen coder model over a real ``codenook serve`` on loopback; raw HTTP requests with a
``suffix`` (as an editor plugin sends them), whole and streamed, and codenook's own
remote backend in ``suffix`` mode.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from codenook.engine.backend import GenerationOptions
from codenook.engine.remote import FILL_SUFFIX, RemoteBackend
from tests.cli.test_complete import QWEN_FILE, QWEN_GAPS
from tests.cli.test_serve import start_serve, stop
from tests.conftest import run_cli

# Three answers of a 0.5B model on a loaded two-core machine, after its start.
pytestmark = pytest.mark.timeout(900)
MAX_TOKENS = 48


@pytest.fixture(scope="module")
def qwen_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A key-less ``codenook serve`` of the Qwen coder model on loopback; yields its URL."""
    from tests.qwen import qwen_model_path

    home = tmp_path_factory.mktemp("qwen-serve-home")
    proc, url = start_serve(home, "--model", str(qwen_model_path()))
    yield url
    stop(proc)


def _gap(gap: str) -> tuple[str, str]:
    at = QWEN_FILE.index(gap)
    return QWEN_FILE[:at], QWEN_FILE[at + len(gap) :]


def _only_the_middle(prefix: str, middle: str, suffix: str) -> None:
    assert middle.strip(), "the model filled nothing"
    assert "<|" not in middle and "|>" not in middle  # no marker text
    first_after = next(s.strip() for s in suffix.splitlines() if s.strip())
    assert first_after not in middle  # the suffix is not written again
    assert "def " not in middle and "__main__" not in middle  # nothing past the gap
    compile(prefix + middle + suffix, "tools.py", "exec")  # it fits where it goes
    assert middle.count("\n") <= 2, middle


def test_a_completion_with_a_suffix_is_the_middle_only(qwen_server: str) -> None:
    prefix, suffix = _gap(QWEN_GAPS[0])
    body = {"prompt": prefix, "suffix": suffix, "max_tokens": MAX_TOKENS, "temperature": 0}
    reply = httpx2.post(f"{qwen_server}/v1/completions", json=body, timeout=600)
    assert reply.status_code == 200, reply.text
    choice = reply.json()["choices"][0]
    _only_the_middle(prefix, choice["text"], suffix)
    # It stopped at the end of the gap, not at the token limit.
    assert choice["finish_reason"] == "stop"


def test_a_streamed_fill_is_the_middle_only(qwen_server: str) -> None:
    prefix, suffix = _gap(QWEN_GAPS[2])
    body = {
        "prompt": prefix, "suffix": suffix, "max_tokens": MAX_TOKENS, "temperature": 0,
        "stream": True,
    }  # fmt: skip
    pieces, finish = [], []
    with httpx2.stream("POST", f"{qwen_server}/v1/completions", json=body, timeout=600) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                choice = json.loads(line[6:])["choices"][0]
                pieces.append(choice["text"])
                finish.append(choice["finish_reason"])
    _only_the_middle(prefix, "".join(pieces), suffix)
    assert finish[-1] == "stop" and all(f is None for f in finish[:-1])


@pytest.mark.usefixtures("account")
def test_complete_on_a_remote_backend_in_suffix_mode_gives_the_middle(
    qwen_server: str, tmp_path: Path
) -> None:
    # The model runs on past this gap into a function of its own: the server's fill ends
    # at the marker or the suffix, and the complete job's cut ends the block.
    prefix, suffix = _gap(QWEN_GAPS[1])
    added = run_cli("backends", "add", "qwen", qwen_server, "--fill", "suffix", "--context", "2048")
    assert added.returncode == 0, added.stderr.decode()
    f = tmp_path / "tools.py"
    f.write_text(prefix + suffix)
    line = prefix.count("\n") + 1
    column = len(prefix) - prefix.rfind("\n")
    proc = run_cli(
        "complete", str(f), "--line", str(line), "--column", str(column), "--backend", "qwen",
        "--temperature", "0", "--seed", "1", timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    assert "answering on remote" in proc.stderr.decode()
    _only_the_middle(prefix, proc.stdout.decode().removesuffix("\n"), suffix)


def test_the_engines_fill_through_the_server_never_repeats_the_suffix(qwen_server: str) -> None:
    # What the remote backend itself hands on: no marker, no suffix line, whatever the
    # model writes after the gap (the complete job cuts the block, above).
    prefix, suffix = _gap(QWEN_GAPS[1])
    options = GenerationOptions(max_tokens=MAX_TOKENS, temperature=0.0, seed=1)
    with RemoteBackend(qwen_server, fill=FILL_SUFFIX, context_length=2048) as backend:
        middle = backend.fill(prefix, suffix, options=options).read()
    assert middle.startswith("return len(text.split())"), middle
    assert "<|" not in middle and "def fizzbuzz" not in middle
