"""The jobs' words to the model: a system prompt per job and language, and the requests.

Each job declares its system prompt words (assist/jobs/registry.py); the settings can
replace them (``[prompts]`` in settings.toml, one per job; empty means the built-in
words). Requests are pure functions of text in, text out, so tests and the review
benchmark can build them without a model.
Every request starts with a line that reads well as the conversation's title.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from codenook.assist.session import DEFAULT_SYSTEM_PROMPT
from codenook.assist.tools.docs import DocExcerpt
from codenook.assist.tools.lint import Finding
from codenook.config import PromptSettings

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


def job_words(template: str) -> dict[str, str]:
    """A job's system prompt for Python, Bash and either, from one template.

    ``{name}`` is the language's name, ``{lang}`` its fence tag, ``{common}`` its coding
    rules and ``{default}`` the chat's own system prompt.
    """
    out = {}
    for key, lang, name in (
        ("python", "python", "Python"),
        ("bash", "bash", "Bash"),
        ("either", "python", "Python and Bash"),
    ):
        out[key] = template.format(
            default=DEFAULT_SYSTEM_PROMPT, name=name, lang=lang, common=_COMMON[lang]
        )
    return out


def system_prompt(job: str, language: str | None, prompts: PromptSettings | None = None) -> str:
    """The system prompt for ``job``: the user's setting, else the job's built-in words."""
    # Imported here: the jobs package imports this module while it registers its jobs.
    from codenook.assist.jobs import registry

    return registry.system_prompt(job, language, prompts)


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
#: Where the gap is, in the request to a model without fill-in-the-middle.
FILL_HOLE = "<FILL_HERE>"
#: A suffix line at least this long ends a fill where the model writes it again (shorter
#: ones, a lone ``)`` or ``else:``, occur by chance).
FILL_STOP_MIN = 8


def fill_request(prefix: str, suffix: str) -> str:
    """Ask a model without fill-in-the-middle for the code between ``prefix`` and ``suffix``."""
    return (
        f"Write the code that belongs at {FILL_HOLE} in the file below. Reply with only that "
        "code, in one fenced code block, without repeating the code around it.\n\n"
        + fence(prefix + FILL_HOLE + suffix)
    )


def fill_stop(suffix: str) -> tuple[str, ...]:
    """The suffix's first line, when long enough: a model writing on past the gap stops there."""
    line = next((s.strip() for s in suffix.splitlines() if s.strip()), "")
    return (line,) if len(line) >= FILL_STOP_MIN else ()


def complete_record(name: str, line: int, column: int, prefix: str, suffix: str) -> str:
    """What the history keeps as the question of a completion: the place and the context."""
    return f"Complete {name} at line {line}, column {column}.\n\n{fence(prefix + CURSOR + suffix)}"


# ---------------------------------------------------------------------- review


def review_request(
    name: str,
    code: str,
    findings: Sequence[Finding],
    *,
    language: str,
    budget_chars: int,
    ask: str = "",
) -> str:
    """Code with line numbers and the linters' findings, asking for a review and a diff.

    ``ask`` is what the user wrote beside the code (their own request), said first.
    """
    tool = "ruff" if language == "python" else "ShellCheck"
    total = line_count(code)
    listing, last = numbered(code, budget_chars=budget_chars)
    asked = f"The user asks: {ask.strip()}\n\n" if ask.strip() else ""
    return (
        f"Review {name} ({NAMES[language]}, {total} lines).\n\n{asked}"
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
