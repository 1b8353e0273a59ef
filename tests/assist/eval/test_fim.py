"""The fim suite asks through the completion's own path: native FIM, else the job's chat."""

from __future__ import annotations

from codenook.assist.eval.fim import FimSuite
from codenook.assist.eval.tasks import Task
from codenook.assist.prompts import FILL_HOLE, system_prompt
from codenook.engine.backend import GenerationOptions
from tests.scripted import ScriptedBackend

OPTIONS = GenerationOptions(max_tokens=64, temperature=0.0, seed=0)
PREFIX = "def area(w, h):\n    "
SUFFIX = "\n    return result\n"


def _task(kind: str) -> Task:
    data = {
        "prefix": PREFIX,
        "suffix": SUFFIX,
        "middle": "result = w * h",
        "kind": kind,
        "language": "python",
    }
    return Task("a.py:2-2", "fim", data)


def test_without_fim_the_complete_jobs_request_is_asked_and_cut(tmp_path) -> None:
    answer = "```python\ndef area(w, h):\n    result = w * h\n    return result\n```\n"
    backend = ScriptedBackend([answer])
    got = FimSuite(tmp_path).ask(backend, _task("line"), OPTIONS)
    assert got.completion == "result = w * h"
    assert got.raw.startswith("```python")
    system, request = backend.calls[0]
    assert system.content == system_prompt("complete", "python")
    assert f"{PREFIX}{FILL_HOLE}{SUFFIX}" in request.content
    assert backend.fill_calls == []


def test_with_fim_the_backend_fills(tmp_path) -> None:
    backend = ScriptedBackend(fills=["result = w * h\n    more\n"], can_fill=True)
    got = FimSuite(tmp_path).ask(backend, _task("line"), OPTIONS)
    assert got.completion == "result = w * h"
    assert backend.fill_calls == [(PREFIX, SUFFIX)] and backend.calls == []
