"""The jobs' words to the model: a system prompt per job and language, and the requests.

Each system prompt can be replaced in the settings (``[prompts]`` in settings.toml, one
per job); an empty setting means the built-in prompt below. Requests are pure functions
of text in, text out, so tests and the review benchmark can build them without a model.
Every request starts with a line that reads well as the conversation's title.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from codenook.assist.session import DEFAULT_SYSTEM_PROMPT
from codenook.assist.tools.docs import DocExcerpt
from codenook.assist.tools.lint import Finding
from codenook.config import PromptSettings

JOBS: tuple[str, ...] = ("ask", "generate", "complete", "review", "debug", "document")
NAMES = {"python": "Python", "bash": "Bash"}
#: What one token of source code holds, at the least, in the tokenizers codenook meets.
CHARS_PER_TOKEN = 3
#: Findings listed in a review prompt; the rest are counted, not listed.
MAX_FINDINGS = 40

_COMMON = {
    "python": "Write modern Python 3 (PEP 8, type hints where they help, the standard library "
    "first).",
    "bash": "Write Bash that passes ShellCheck: quote expansions, use [[ ]] and $(...), "
    "check errors (set -euo pipefail where it fits).",
}
_JOB_PROMPTS = {
    # The chat's own prompt: a question asked in the window and with `codenook ask` alike.
    # The grounding instruction travels with the excerpts, in the request.
    "ask": "{default}",
    "generate": "You are codenook, writing {name} code to order. Reply with one complete, "
    "runnable program in a single fenced ```{lang} block, then at most two sentences. "
    "{common}",
    "complete": "You are a {name} code completion engine. Reply with only the code that "
    "belongs at the cursor, never with an explanation.",
    "review": "You are codenook, a careful {name} code reviewer. Explain the linter findings "
    "you are given, add the problems a linter cannot see (logic, naming, error handling, "
    "performance, security), and propose one change as a unified diff against the file in "
    "a ```diff block. {common}",
    "debug": "You are codenook, debugging {name}. From the code and the error, explain the "
    "cause in a few sentences, then give the smallest fix as a unified diff against the "
    "file in a ```diff block.",
    "document": "You are codenook, documenting {name} code. Reply with only the "
    "documentation text that was asked for: no code, no quotes, no fences.",
}


def system_prompt(job: str, language: str | None, prompts: PromptSettings | None = None) -> str:
    """The system prompt for ``job``: the user's setting, else the built-in one."""
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}")
    custom = getattr(prompts, job, "") if prompts is not None else ""
    if custom.strip():
        return custom
    lang = language if language in NAMES else "python"
    name = NAMES[lang] if language in NAMES else "Python and Bash"
    return _JOB_PROMPTS[job].format(
        default=DEFAULT_SYSTEM_PROMPT, name=name, lang=lang, common=_COMMON[lang]
    )


def fence(code: str, language: str = "") -> str:
    """``code`` in a Markdown fence longer than any backtick run inside it."""
    longest = max((len(m) for m in re.findall(r"`{3,}", code)), default=2)
    ticks = "`" * (longest + 1)
    return f"{ticks}{language}\n{code}{'' if code.endswith(chr(10)) else chr(10)}{ticks}"


def numbered(code: str, *, budget_chars: int, first: int = 1) -> tuple[str, int]:
    """``code`` with right-aligned line numbers, cut to ``budget_chars``; and its last line."""
    # Split at newlines only, as the linters and diffs count lines (not at \x0c or U+2028).
    lines = code.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    width = len(str(len(lines) + first - 1))
    out, used, last = [], 0, first - 1
    for n, line in enumerate(lines, first):
        row = f"{n:>{width}} | {line}\n"
        if used + len(row) > budget_chars and out:
            break
        out.append(row)
        used += len(row)
        last = n
    return "".join(out), last


def line_count(code: str) -> int:
    """Lines in ``code`` as an editor counts them (a last line without newline counts)."""
    return code.count("\n") + (0 if code.endswith("\n") or not code else 1)


def code_budget(context_length: int, answer_tokens: int, *, reserve_tokens: int = 400) -> int:
    """Characters of code a prompt may hold: the context less the answer and the wording."""
    room = context_length - min(answer_tokens, context_length // 2) - reserve_tokens
    return max(room, 64) * CHARS_PER_TOKEN


def _cut_note(last: int, total: int) -> str:
    if last >= total:
        return ""
    return f"\n(The file has {total} lines; only lines 1-{last} fit here.)\n"


def findings_text(findings: Sequence[Finding], *, limit: int = MAX_FINDINGS) -> str:
    """One finding per line, ``line:col CODE message``, and how many were left out."""
    rows = [f"- line {f.line}:{f.column} {f.code} {f.message}" for f in findings[:limit]]
    if len(findings) > limit:
        rows.append(f"- ... and {len(findings) - limit} more")
    return "\n".join(rows) if rows else "(none)"


# ---------------------------------------------------------------------- generate


def generate_request(description: str, *, language: str) -> str:
    """Ask for a program that does ``description``."""
    name = NAMES[language]
    return (
        f"{description.strip()}\n\n"
        f"Write this in {name}: one complete program in a single ```{language} block."
    )


def fix_request(code: str, findings: Sequence[Finding], *, language: str) -> str:
    """Give the checks' diagnostics back and ask for the corrected complete code."""
    name = NAMES[language]
    tool = "ast.parse and ruff" if language == "python" else "bash -n and ShellCheck"
    return (
        f"Your {name} code does not pass {tool}. The diagnostics:\n"
        f"{findings_text(findings)}\n\n"
        f"Reply with the corrected complete code in one ```{language} block."
    )


def no_code_request(*, language: str) -> str:
    """Ask again when the answer had no code block at all."""
    return (
        f"Your answer has no fenced code block. Reply with the complete {NAMES[language]} "
        f"code in one ```{language} block."
    )


# ---------------------------------------------------------------------- complete


CURSOR = "<CURSOR>"


def complete_record(name: str, line: int, column: int, prefix: str, suffix: str) -> str:
    """What the history keeps as the question of a completion: the place and the context."""
    return f"Complete {name} at line {line}, column {column}.\n\n{fence(prefix + CURSOR + suffix)}"


# ---------------------------------------------------------------------- review


def review_request(
    name: str, code: str, findings: Sequence[Finding], *, language: str, budget_chars: int
) -> str:
    """Code with line numbers and the linters' findings, asking for a review and a diff."""
    tool = "ruff" if language == "python" else "ShellCheck"
    total = line_count(code)
    listing, last = numbered(code, budget_chars=budget_chars)
    return (
        f"Review {name} ({NAMES[language]}, {total} lines).\n\n"
        f"{tool} found {len(findings)} problem(s):\n{findings_text(findings)}\n\n"
        f"The file, with line numbers (they are not part of the code):\n"
        f"{fence(listing)}{_cut_note(last, total)}\n"
        "1. Explain each finding briefly.\n"
        "2. Name problems the linters cannot see.\n"
        f"3. Propose a fix as a unified diff against {name} (--- a/{name}, +++ b/{name}, "
        "@@ hunks, without the line numbers) in a ```diff block."
    )


# ---------------------------------------------------------------------- debug


def debug_request(
    name: str,
    code: str,
    error: str,
    where: str,
    output: str,
    *,
    language: str,
    budget_chars: int,
) -> str:
    """The code, the error and where it happened, asking for the cause and a diff."""
    total = line_count(code)
    listing, last = numbered(code, budget_chars=budget_chars)
    return (
        f"Debug {name}: {error}\n\n"
        f"It fails at {where}.\n\n"
        f"The error output:\n{fence(output)}\n\n"
        f"The file, with line numbers (they are not part of the code):\n"
        f"{fence(listing)}{_cut_note(last, total)}\n"
        "Explain the cause in a few sentences, then give the fix as a unified diff against "
        f"{name} (--- a/{name}, +++ b/{name}, @@ hunks, without the line numbers) "
        "in a ```diff block."
    )


# ---------------------------------------------------------------------- document


def docstring_request(kind: str, name: str, source: str, *, style: str) -> str:
    """Ask for one docstring, in ``style``, for one definition."""
    what = "this module" if kind == "module" else f"the {kind} {name}"
    return (
        f"Docstring for {what} ({style} style)\n\n{fence(source, 'python')}\n\n"
        f"Write a {style}-style docstring for {what}: a one-line summary, and for "
        "functions their arguments and return value when they have any. "
        "Reply with only the docstring text, without quotes."
    )


def bash_usage_request(name: str, source: str) -> str:
    """Ask for a usage header for a Bash script."""
    return (
        f"Usage header for {name}\n\n{fence(source, 'bash')}\n\n"
        "Write a short usage comment for this script: the first line "
        f"'Usage: {name} ...' with its arguments, then one or two lines on what it does. "
        "Reply with only the text, without '#'."
    )


def bash_function_request(function: str, source: str) -> str:
    """Ask for a comment describing one Bash function."""
    return (
        f"Comment for the Bash function {function}\n\n{fence(source, 'bash')}\n\n"
        f"Write one or two lines saying what the function {function} does, its arguments "
        "and what it prints or returns. Reply with only the text, without '#'."
    )


def readme_request(name: str, code: str, *, language: str, budget_chars: int) -> str:
    """Ask for a Markdown summary of a file."""
    total = line_count(code)
    listing, last = numbered(code, budget_chars=budget_chars)
    return (
        f"README for {name}\n\n{fence(listing)}{_cut_note(last, total)}\n"
        f"Write a short Markdown summary of this {NAMES[language]} file: a title, what it "
        "does, how to use it, and its main functions or classes."
    )


# ---------------------------------------------------------------------- ask


def ask_request(question: str, excerpts: Sequence[DocExcerpt]) -> str:
    """The question, then the local documentation excerpts with their sources named."""
    if not excerpts:
        return question
    parts = [
        question.rstrip(),
        "",
        "Local documentation from this machine (name the source you use):",
    ]
    for e in excerpts:
        parts += ["", f"[{e.source}]", fence(e.text)]
    return "\n".join(parts)
