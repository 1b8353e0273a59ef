"""The worker's side of a job the window runs: its options made whole, then the job run.

One path for both ways a job starts (the chat's job selector and the editor's buttons):
the answering controller turns either into a :class:`~codenook.gui.dispatch.JobRequest`
and calls :func:`run_request` on the model worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from codenook import config, safefile
from codenook.assist.tools import sandbox
from codenook.assist.tools.files import read_source
from codenook.gui import dispatch
from codenook.gui.dispatch import JobRequest

if TYPE_CHECKING:
    from codenook.assist.jobs import JobResult
    from codenook.assist.session import ChatSession
    from codenook.config import PromptSettings


def prepare_options(request: JobRequest, limits: sandbox.Limits) -> dict[str, Any]:
    """The job's keywords with the files read and the scratch file written. Worker thread."""
    options = dict(request.options)
    if request.attach is not None:
        from codenook.assist.jobs import registry

        key = registry.get(request.name).text_keyword()
        code = read_source(request.attach)
        lang = options.get("language")
        options[key] = dispatch.with_file(options[key], Path(request.attach).name, code, lang)
    if request.name == "complete" and "line" not in options:
        options["source"] = source = read_source(options["path"])
        options.update(dispatch.end_of(source))
    if request.name == "debug":
        options.setdefault("limits", limits)
        if request.scratch is not None:
            options["path"] = scratch_file(request.scratch, options["language"])
    return options


def scratch_file(code: str, language: str | None) -> str:
    """Write pasted code for Debug to run (worker thread); returns its path."""
    folder = config.paths().cache / "scratch"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / dispatch.scratch_name(code, language)
    safefile.write_file(path, code if code.endswith("\n") else code + "\n", force=True)
    return str(path)


def run_request(
    request: JobRequest,
    session: ChatSession,
    *,
    on_text: Any,
    on_event: Any,
    prompts: PromptSettings,
    limits: sandbox.Limits,
) -> JobResult:
    """Run ``request`` in ``session`` (model worker): the one call into the jobs."""
    # Imported on the worker: the jobs and their tools cost ~0.2 s the window's first
    # appearance does not need to wait for.
    from codenook.assist.jobs import run_job

    options = prepare_options(request, limits)
    return run_job(
        request.name, session, on_text=on_text, on_event=on_event, prompts=prompts,
        shown=request.shown, **options,
    )  # fmt: skip
