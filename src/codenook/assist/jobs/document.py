"""Document: docstrings (Python) or comments (Bash) from the model, inserted by the tools.

The model writes only the words, one short request per definition; where they go is
decided by the syntax tree, so everything else in the file stays byte for byte the same.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import warnings
from pathlib import Path

from codenook.assist.jobs.common import JobResult, JobRun, OnEvent, OnText, load_source_to_write
from codenook.assist.jobs.common import resolve_language as _language
from codenook.assist.jobs.registry import CODE, Job, register
from codenook.assist.prompts import (
    bash_function_request,
    bash_usage_request,
    docstring_request,
    job_words,
    readme_request,
)
from codenook.assist.session import ChatSession
from codenook.assist.tools.code_blocks import extract_code_blocks
from codenook.assist.tools.docstrings import (
    STYLES,
    DocstringError,
    bash_functions,
    insert_bash_header,
    insert_docstrings,
    missing_docstrings,
)
from codenook.assist.tools.files import write_source
from codenook.config import PromptSettings
from codenook.engine.backend import Message, TokenStream
from codenook.safefile import Snapshot, check_target, snapshot

#: Requests per run: a file with more undocumented definitions is done in several runs.
MAX_TARGETS = 30
#: A docstring is a few lines; a longer answer is cut here.
DOC_TOKENS = 160
DOC_LINES = 20
DOC_CHARS = 1500
#: Source shown with each request: the definition itself, bounded.
TARGET_CHARS = 2400

_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n.*?^\1[ \t]*$\n?", re.MULTILINE | re.DOTALL)
_FENCE_LINE = re.compile(r"^\s*(`{3,}|~{3,})")
_DEFS = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _docstring_in(code: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, _DEFS) and (doc := ast.get_docstring(node)):
            return doc
    return None


def clean_doc(answer: str, *, bash: bool = False) -> str:
    """The documentation text in a model's answer: no fences, quotes, labels or ``#``."""
    text = answer.strip()
    blocks = extract_code_blocks(text)
    if blocks:
        # A model that wrote the whole definition: its docstring is the answer.
        found = None if bash else _docstring_in(blocks[0].code)
        if found:
            text = found
        else:
            prose = _FENCE.sub("", text).strip()
            text = prose or blocks[0].code.strip()
    text = re.sub(r'^[rRuU]?("""|\'\'\')|("""|\'\'\')$', "", text.strip()).strip()
    text = text.replace('"""', "").replace("'''", "")
    lines = text.replace("\r\n", "\n").split("\n")
    if len(lines) > 1 and lines[0].rstrip().endswith(":") and len(lines[0]) < 60:
        lines = lines[1:]  # "Here is the docstring:"
    # A fence left over (an answer that opened one and never closed it) is no documentation.
    lines = [ln for ln in lines if not _FENCE_LINE.match(ln)]
    if bash:
        lines = [re.sub(r"^\s*#+ ?", "", ln) for ln in lines]
    text = "\n".join(ln.rstrip() for ln in lines[:DOC_LINES]).strip()
    return text[:DOC_CHARS].rstrip()


def _ask_one(job: JobRun, request: str, label: str, *, bash: bool = False) -> str | None:
    """One short, history-free request; the conversation keeps it all the same.

    An answer cut at the token limit is left out (None), with a note: half a docstring
    is not written as if it were whole.
    """
    session = job.session
    options = dataclasses.replace(
        job.options,
        max_tokens=min(session.options.max_tokens, DOC_TOKENS),
    )
    messages = [Message("system", job.system), Message("user", request)]

    def start() -> TokenStream:
        return session.backend.stream_chat(messages, options=options)

    job.event("target", label)
    answer = job.record(request, start)
    job.on_text("\n")
    if answer.result.finish_reason == "length":
        job.note(
            f"The answer for {label} was cut at the token limit "
            f"({answer.result.completion_tokens} tokens); it was left out."
        )
        return None
    return clean_doc(answer.text, bash=bash)


def _bounded(source: str, limit: int) -> str:
    return source if len(source) <= limit else source[:limit].rstrip() + "\n# [...]\n"


def _document_python(
    job: JobRun, text: str, *, name: str, style: str, all_: bool, limit: int
) -> str:
    r = job.result
    try:
        targets = missing_docstrings(text, all_=all_)
    except DocstringError as exc:
        raise DocstringError(f"{name}: {exc}") from None
    if not targets:
        job.note("Every definition already has a docstring (--all writes them anew).")
        return text
    if len(targets) > limit:
        job.note(f"{len(targets) - limit} more definitions were left for another run.")
        targets = targets[:limit]
    budget = min(TARGET_CHARS, job.budget())
    for t in targets:
        if job.stopped:
            break
        request = docstring_request(t.kind, t.name, _bounded(t.source, budget), style=style)
        doc = _ask_one(job, request, f"{t.kind} {t.name} (line {t.line})")
        if doc:
            r.docs[t.name] = doc
        elif doc is not None:
            job.note(f"No docstring came back for {t.name}; it was left as it was.")
    if not r.docs or job.stopped:
        return text
    return insert_docstrings(text, r.docs, style=style, replace=all_)


def _has_comment_above(lines: list[str], name: str) -> bool:
    pattern = re.compile(rf"^\s*(?:function\s+{re.escape(name)}\b|{re.escape(name)}\s*\(\s*\))")
    for i, line in enumerate(lines):
        if pattern.match(line):
            above = lines[i - 1] if i > 0 else ""
            return above.lstrip().startswith("#") and not (i == 1 and above.startswith("#!"))
    return False


def _document_bash(job: JobRun, text: str, *, name: str, limit: int) -> str:
    r = job.result
    lines = text.replace("\r\n", "\n").split("\n")
    head = lines[1:6] if text.startswith("#!") else lines[:5]
    has_usage = any(ln.lstrip().startswith("#") and "usage" in ln.lower() for ln in head)
    names = [f for f in bash_functions(text) if not _has_comment_above(lines, f)]
    if len(names) > limit:
        job.note(f"{len(names) - limit} more functions were left for another run.")
        names = names[:limit]
    shown = _bounded(text, min(TARGET_CHARS * 2, job.budget()))
    usage = ""
    if not has_usage:
        usage = _ask_one(job, bash_usage_request(name, shown), "usage header", bash=True)
        if usage:
            r.docs["<usage>"] = usage
    functions = {}
    for f in names:
        if job.stopped:
            break
        comment = _ask_one(job, bash_function_request(f, shown), f"function {f}", bash=True)
        if comment:
            functions[f] = r.docs[f] = comment
    if job.stopped:
        return text
    if not usage and not functions:
        job.note("Nothing to add: the script has a usage comment and every function one.")
        return text
    return insert_bash_header(text, usage, functions)


def document(
    session: ChatSession,
    *,
    path: str | Path | None = None,
    source: str | None = None,
    language: str | None = None,
    style: str = "google",
    all_: bool = False,
    readme: bool = False,
    write: bool = False,
    read: Snapshot | None = None,
    max_targets: int = MAX_TARGETS,
    on_text: OnText,
    on_event: OnEvent | None = None,
    prompts: PromptSettings | None = None,
) -> JobResult:
    """Add docstrings (Python) or a usage header and function comments (Bash).

    The new file is ``result.text``; ``write`` replaces the file (keeping a backup).
    ``readme`` asks for a Markdown summary instead (written as ``FILE.md`` with ``write``).
    Bash comments are only ever added, never replaced. A file changed since it was read
    (``read``, or at the start) is left alone and the new text saved beside it.
    """
    if style not in STYLES:
        raise DocstringError(f"Unknown docstring style {style!r}; use google, numpy or sphinx.")
    text, name, read = load_source_to_write(path, source, read, what="document", write=write)
    lang, note = _language(text, path=path, override=language)
    job = JobRun("document", session, lang, on_text, on_event, prompts)
    if note:
        job.note(note)
    r = job.result
    if readme:
        target = Path(path).with_suffix(".md") if path is not None else None
        if target is not None and target == Path(path):
            target = Path(path).with_name(Path(path).stem + ".summary.md")  # never over the file
        before = None
        if write and target is not None:
            # Refused before the model runs; then what is there now is what may be replaced.
            check_target(target)
            before = snapshot(target)
        request = readme_request(name, text, language=lang, budget_chars=job.budget())
        answer = job.send(request)
        r.text = answer.text.strip() + "\n"
        if answer.result.finish_reason == "length" and write:
            job.note(f"The summary was cut at the token limit, so {target} was not written.")
            return r
        if write and target is not None and not job.stop_note("nothing was written"):
            r.backup = write_source(
                target, r.text, backup=True, expect=before, exclusive=before is None
            )
            r.written = target
            kept = f" (backup: {r.backup})" if r.backup else ""
            job.event("written", f"Wrote {target}{kept}.", target)
        return r
    if lang == "python":
        new = _document_python(job, text, name=name, style=style, all_=all_, limit=max_targets)
    else:
        new = _document_bash(job, text, name=name, limit=max_targets)
    r.text = new
    if job.stop_note("the file was left as it was"):
        return r
    if write and path is not None and new != text:
        r.backup = write_source(
            path, new, backup=True, expect=read, exclusive=read is None, language=lang, old=text
        )
        r.written, r.applied = Path(path), True
        job.event("written", f"Wrote {path} (backup: {r.backup}).", path)
    return r


#: The job's system prompt, for Python, Bash and either ({name} etc.: prompts.job_words).
DOCUMENT_WORDS = (
    "You are codenook, documenting {name} code. Reply with only the "
    "documentation text that was asked for: no code, no quotes, no fences."
)

JOB = register(
    Job(
        name="document",
        label="Document",
        run=document,
        **job_words(DOCUMENT_WORDS),
        reads=CODE,
        command="doc",
        help="document a file: docstrings or Bash comments inserted without touching the code",
        drafts=True,
    )
)
