"""The six jobs as core functions: a scripted backend for the pipeline, then the real model."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from codenook.assist import jobs
from codenook.assist.jobs import JobError, JobEvent, run_job
from codenook.assist.jobs.complete import BlockCutter
from codenook.assist.jobs.debug import parse_bash_error, parse_python_error
from codenook.assist.jobs.document import clean_doc
from codenook.assist.jobs.review import strip_line_numbers
from codenook.assist.prompts import FILL_HOLE, system_prompt
from codenook.assist.session import DEFAULT_SYSTEM_PROMPT, ChatSession
from codenook.assist.tools.cursor import CursorError
from codenook.assist.tools.docstrings import apply_edits, plan_docstrings
from codenook.assist.tools.files import SourceFileError
from codenook.config import PromptSettings
from codenook.engine.backend import GenerationOptions
from codenook.engine.remote import RemoteBackend
from codenook.store import conversations as store
from tests.engine import fakeservers
from tests.engine.fakeservers import FakeServer
from tests.scripted import ScriptedBackend

OPTS = GenerationOptions(max_tokens=48, temperature=0.0, seed=1)


@pytest.fixture
def user(users):
    return users[0]


class Seen:
    """Records streamed text and events in the order they came."""

    def __init__(self) -> None:
        self.order: list[tuple[str, str]] = []

    def text(self, piece: str) -> None:
        self.order.append(("text", piece))

    def event(self, event: JobEvent) -> None:
        self.order.append((event.kind, event.text))

    @property
    def streamed(self) -> str:
        return "".join(t for k, t in self.order if k == "text")

    def kinds(self) -> list[str]:
        out: list[str] = []
        for k, _ in self.order:
            if not out or out[-1] != k:
                out.append(k)
        return out


def session(db, user, backend, options: GenerationOptions = OPTS) -> ChatSession:
    return ChatSession(db, user, backend, options)


def stored(db, user, s: ChatSession) -> list[store.MessageRow]:
    return store.messages(db, user.id, s.conversation_id)


# ---------------------------------------------------------------------- generate

BAD_PY = "Here it is:\n```python\nimport os\n\nprint(undefined_name)\n```\n"
GOOD_PY = "Fixed:\n```python\nprint('hello')\n```\n"


def test_generate_retries_once_with_the_diagnostics_in_the_prompt(db, user) -> None:
    backend = ScriptedBackend([BAD_PY, GOOD_PY])
    s, seen = session(db, user, backend), Seen()
    r = jobs.generate(s, "print hello", language="python", on_text=seen.text, on_event=seen.event)
    assert r.attempts == 2 and r.passed is True
    assert r.code == "print('hello')\n"
    assert {f.code for f in r.findings} == {"F401", "F821"}  # the first code's findings
    first, second = backend.user_messages()
    assert first.startswith("print hello")
    assert "F821" in second and "undefined_name" in second and "F401" in second
    assert "corrected complete code" in second
    # The second request went to the same conversation, after the first exchange.
    assert [m.role for m in backend.calls[1]] == ["system", "user", "assistant", "user"]
    assert backend.calls[0][0].content == system_prompt("generate", "python")
    msgs = stored(db, user, s)
    assert [m.role for m in msgs] == ["user", "assistant"] * 2
    assert {m.figures["task"] for m in msgs[1::2]} == {"generate"}
    assert {m.figures["language"] for m in msgs[1::2]} == {"python"}
    assert seen.streamed == BAD_PY + "\n\n" + GOOD_PY


def test_generate_says_when_the_final_code_still_fails(db, user) -> None:
    bad = "```bash\nif [ -f x ]; then\n  echo hi\n```\n"
    backend = ScriptedBackend([bad, bad])
    r = jobs.generate(session(db, user, backend), "check x", language="sh", on_text=print)
    assert r.attempts == 2 and r.passed is False
    assert r.validation is not None and r.validation.findings
    assert r.validation.findings[0].tool == "bash"
    assert "bash -n and ShellCheck" in backend.user_messages()[1]


def test_generate_asks_again_when_the_answer_has_no_code(db, user) -> None:
    backend = ScriptedBackend(["I cannot.", GOOD_PY])
    r = jobs.generate(session(db, user, backend), "print hello", language="python", on_text=print)
    assert r.passed and r.attempts == 2
    assert "no fenced code block" in backend.user_messages()[1]


def test_generate_passing_first_time_asks_once(db, user) -> None:
    backend = ScriptedBackend([GOOD_PY])
    r = jobs.generate(session(db, user, backend), "print hello", language="python", on_text=print)
    assert r.attempts == 1 and r.passed and len(backend.calls) == 1


def test_generate_output_is_refused_over_a_file_before_the_model_runs(
    db, user, tmp_path: Path
) -> None:
    out = tmp_path / "x.py"
    out.write_text("keep me\n")
    backend = ScriptedBackend([GOOD_PY])
    with pytest.raises(JobError, match="--force"):
        jobs.generate(session(db, user, backend), "x", language="python", output=out, on_text=print)
    assert backend.calls == [] and out.read_text() == "keep me\n"
    r = jobs.generate(
        session(db, user, backend), "x", language="python", output=out, force=True, on_text=print
    )
    assert out.read_text() == "print('hello')\n"
    assert r.backup is not None and r.backup.read_text() == "keep me\n"


# ---------------------------------------------------------------------- complete

ADD = "def add(a, b):\n\n\nprint(add(1, 2))\n"


def test_complete_without_fim_stops_at_the_end_of_the_block(db, user) -> None:
    rambling = "    return a + b\n\ndef other():\n    pass\n"
    backend = ScriptedBackend([rambling])
    s, seen = session(db, user, backend), Seen()
    r = jobs.complete(s, source=ADD, line=2, column=1, on_text=seen.text, on_event=seen.event)
    assert seen.streamed == "    return a + b\n"
    assert r.code == "    return a + b"  # line 2's own newline ends the insertion
    # Without FIM the job asks in its own chat request: its system prompt, the gap marked.
    assert backend.fill_calls == []
    system, request = backend.calls[0]
    assert system.content == system_prompt("complete", "python")
    assert f"def add(a, b):\n{FILL_HOLE}\n\nprint(add(1, 2))\n" in request.content
    assert backend.served == [3]  # generation stopped at the line that ends the block
    q, a = stored(db, user, s)
    assert q.content.startswith("Complete the code at line 2, column 1.")
    assert a.figures["task"] == "complete" and a.figures["language"] == "python"
    assert a.complete and a.figures["finish_reason"] == "stop"


def test_complete_with_fim_takes_the_middle_and_applies_it(db, user, tmp_path: Path) -> None:
    f = tmp_path / "calc.py"
    f.write_bytes(b"def inc(x):\r\n    return \r\n")
    backend = ScriptedBackend(fills=["x + 1"], can_fill=True)
    r = jobs.complete(
        session(db, user, backend), path=f, line=2, column=12, apply=True, on_text=print
    )
    assert r.code == "x + 1"
    assert f.read_bytes() == b"def inc(x):\r\n    return x + 1\r\n"
    assert r.backup == tmp_path / "calc.py.orig"
    assert r.backup.read_bytes() == b"def inc(x):\r\n    return \r\n"


def test_complete_outside_the_file_is_refused(db, user) -> None:
    with pytest.raises(CursorError, match="past the end"):
        jobs.complete(
            session(db, user, ScriptedBackend()), source=ADD, line=9, column=1, on_text=print
        )


def test_block_cutter_holds_blank_lines_until_the_block_goes_on() -> None:
    out: list[str] = []
    cut = BlockCutter(language="python", indent="    ", on_text=out.append)
    for piece in ["    x = 1\n", "\n", "    y = ", "2\n", "z = 3\n", "more\n"]:
        cut.feed(piece)
    assert cut.done
    assert cut.finish() == "    x = 1\n\n    y = 2\n" == "".join(out)
    assert out[0] == "    x = 1\n"  # streamed before the end was known


# ---------------------------------------------------------------------- review

MESSY = "import os\nimport sys\n\n\ndef main():\n    print(sys.argv)\n\n\nmain()\n"
FIX = (
    "F401: `os` is unused.\n\n"
    "```diff\n--- a/tool.py\n+++ b/tool.py\n@@ -1,3 +1,2 @@\n-import os\n import sys\n \n```\n"
)


def test_review_prints_findings_first_and_applies_the_diff(db, user, tmp_path: Path) -> None:
    f = tmp_path / "tool.py"
    f.write_text(MESSY)
    backend = ScriptedBackend([FIX])
    s, seen = session(db, user, backend), Seen()
    r = jobs.review(s, path=f, apply=True, on_text=seen.text, on_event=seen.event)
    assert seen.kinds()[:2] == ["findings", "text"]
    assert "1:8 F401" in seen.order[0][1]
    prompt = backend.user_messages()[0]
    assert "1 | import os" in prompt and "F401" in prompt
    assert r.applied and f.read_text() == MESSY.replace("import os\n", "")
    assert r.backup == tmp_path / "tool.py.orig" and r.backup.read_text() == MESSY
    assert len(r.findings) > len(r.findings_after or [])
    assert "ruff findings: " in dict(seen.order)["applied"]
    assert stored(db, user, s)[1].figures["task"] == "review"


def test_a_second_apply_keeps_the_first_backup(db, user, tmp_path: Path) -> None:
    f = tmp_path / "tool.py"
    f.write_text(MESSY)
    (tmp_path / "tool.py.orig").write_text("older\n")
    r = jobs.review(session(db, user, ScriptedBackend([FIX])), path=f, apply=True, on_text=print)
    assert r.backup == tmp_path / "tool.py.orig.1"
    assert (tmp_path / "tool.py.orig").read_text() == "older\n"


def test_review_diff_that_does_not_apply_changes_nothing(db, user, tmp_path: Path) -> None:
    f = tmp_path / "tool.py"
    f.write_text(MESSY)
    wrong = (
        "```diff\n--- a/tool.py\n+++ b/tool.py\n@@ -5,2 +5,2 @@\n def main():\n"
        "-    print(os.environ)\n+    print(dict(os.environ))\n```\n"
    )
    seen = Seen()
    r = jobs.review(
        session(db, user, ScriptedBackend([wrong])),
        path=f,
        apply=True,
        on_text=seen.text,
        on_event=seen.event,
    )
    assert not r.applied and r.backup is None and r.findings_after is None
    assert f.read_text() == MESSY
    assert not (tmp_path / "tool.py.orig").exists()
    failure = dict(seen.order)["not_applied"]
    assert "hunk 1 of 1" in failure and "def main():" in failure


def test_review_and_debug_hold_their_diff_to_the_files_grammar(db, user, tmp_path: Path) -> None:
    f = tmp_path / "tool.py"
    f.write_text(MESSY)
    backend = ScriptedBackend([FIX])
    jobs.review(session(db, user, backend), path=f, on_text=print)
    grammar = backend.options[0].grammar
    assert grammar is not None and grammar.startswith('root ::= prose "```diff\\n--- a/"')
    assert '" import sys\\n"' in grammar  # the file's own lines, as context
    d = tmp_path / "div.py"
    d.write_text(DIVIDE)
    backend = ScriptedBackend([DIVIDE_FIX])
    jobs.debug(session(db, user, backend), path=d, on_text=print)
    assert backend.options[0].grammar and '--- a/" "div.py"' in backend.options[0].grammar
    # The setting off: no grammar, and nothing said.
    backend = ScriptedBackend([FIX])
    off = GenerationOptions(max_tokens=OPTS.max_tokens, edit_grammar=False)
    r = jobs.review(session(db, user, backend, off), path=f, on_text=print)
    assert backend.options[0].grammar is None and not r.notes


def test_a_runtime_without_grammars_reviews_with_a_note(db, user, tmp_path: Path) -> None:
    f = tmp_path / "tool.py"
    f.write_text(MESSY)
    backend = ScriptedBackend([FIX], grammars=False)
    r = jobs.review(session(db, user, backend), path=f, apply=True, on_text=print)
    assert backend.options[0].grammar is None and r.applied
    assert r.notes == ["The scripted runtime takes no grammar, so the diff is not held to one."]


def test_review_of_bash_uses_shellcheck(db, user, tmp_path: Path) -> None:
    f = tmp_path / "run.py"  # a Bash script with a Python name
    f.write_text("#!/bin/bash\nfor f in $(ls); do\n  echo $f\ndone\n")
    r = jobs.review(session(db, user, ScriptedBackend(["Looks fine."])), path=f, on_text=print)
    assert r.language == "bash"
    assert {"SC2045", "SC2086"} <= {x.code for x in r.findings}
    assert any("reads as Bash" in n for n in r.notes)


def test_line_numbers_copied_into_a_diff_are_removed() -> None:
    diff = "@@ -1,2 +1,2 @@\n-  1 | import os\n+  1 | import sys\n   2 | x = 1\n"
    assert strip_line_numbers(diff) == "@@ -1,2 +1,2 @@\n-import os\n+import sys\n x = 1\n"
    plain = "@@ -1 +1 @@\n-a = 1 | 2\n+a = 3\n"
    assert strip_line_numbers(plain) == plain


# ---------------------------------------------------------------------- debug

TRACEBACK = """\
Traceback (most recent call last):
  File "/tmp/codenook-sandbox-x/work/div.py", line 4, in <module>
    print(f(1, 0))
  File "/tmp/codenook-sandbox-x/work/div.py", line 2, in f
    return helper(a) / b
  File "/usr/lib/python3.11/fractions.py", line 9, in helper
    raise ValueError("inner")
ZeroDivisionError: division by zero
"""


def test_python_traceback_names_the_last_frame_in_the_users_file() -> None:
    e = parse_python_error(TRACEBACK, filename="div.py")
    assert e is not None
    assert (e.exception, e.message, e.file, e.line, e.function) == (
        "ZeroDivisionError",
        "division by zero",
        "div.py",
        2,
        "f",
    )
    other = parse_python_error(TRACEBACK, filename="other.py")
    assert other is not None and other.file == "/usr/lib/python3.11/fractions.py"


def test_chained_and_syntax_errors_are_read() -> None:
    chained = TRACEBACK.replace(
        "ZeroDivisionError: division by zero\n",
        "KeyError: 'k'\n\nDuring handling of the above exception, another exception occurred:\n\n"
        'Traceback (most recent call last):\n  File "a.py", line 7, in <module>\n'
        "    g()\nmypkg.errors.Boom: it broke\n",
    )
    e = parse_python_error(chained, filename="a.py")
    assert e is not None and (e.exception, e.line, e.message) == (
        "mypkg.errors.Boom",
        7,
        "it broke",
    )
    syntax = '  File "/w/bad.py", line 3\n    def f(:\n          ^\nSyntaxError: invalid syntax\n'
    e = parse_python_error(syntax, filename="bad.py")
    assert e is not None and (e.exception, e.where) == ("SyntaxError", "bad.py:3")
    assert parse_python_error("just words\n", filename="a.py") is None


def test_bash_errors_take_the_last_line_about_the_file() -> None:
    out = "b.sh: line 3: nope: command not found\nb.sh: line 4: 1 / 0 : division by 0\n"
    e = parse_bash_error(out, filename="b.sh")
    assert e is not None and e.where == "b.sh:4" and "division by 0" in e.message


DIVIDE = "def f(a, b):\n    return a / b\n\n\nprint(f(1, 0))\n"
DIVIDE_FIX = (
    "b is 0.\n```diff\n--- a/div.py\n+++ b/div.py\n@@ -5 +5 @@\n"
    "-print(f(1, 0))\n+print(f(1, 1))\n```\n"
)


def test_debug_runs_once_and_reports_the_error_first(db, user, tmp_path: Path) -> None:
    f = tmp_path / "div.py"
    f.write_text(DIVIDE)
    backend = ScriptedBackend([DIVIDE_FIX])
    s, seen = session(db, user, backend), Seen()
    r = jobs.debug(s, path=f, on_text=seen.text, on_event=seen.event)
    assert seen.order[0][0] == "error"
    assert seen.order[0][1].startswith("ZeroDivisionError: division by zero\n  at div.py:2")
    assert len(r.runs) == 1 and r.error_gone is None
    assert r.diff is not None and f.read_text() == DIVIDE
    prompt = backend.user_messages()[0]
    assert "ZeroDivisionError" in prompt and "div.py:2" in prompt
    assert stored(db, user, s)[1].figures["task"] == "debug"


def test_debug_verify_runs_the_fixed_copy(db, user, tmp_path: Path) -> None:
    f = tmp_path / "div.py"
    f.write_text(DIVIDE)
    seen = Seen()
    r = jobs.debug(
        session(db, user, ScriptedBackend([DIVIDE_FIX])),
        path=f,
        verify=True,
        on_text=seen.text,
        on_event=seen.event,
    )
    assert r.error_gone is True and len(r.runs) == 2
    assert r.runs[1].exit_code == 0 and r.runs[1].stdout == "1.0\n"
    assert "The error is gone" in dict(seen.order)["verify"]
    assert f.read_text() == DIVIDE  # the file itself is never changed by debug


def test_debug_from_a_pasted_traceback_runs_nothing(db, user, tmp_path: Path) -> None:
    f = tmp_path / "div.py"
    f.write_text(DIVIDE)
    r = jobs.debug(
        session(db, user, ScriptedBackend(["No idea."])),
        path=f,
        error_text=TRACEBACK,
        on_text=print,
    )
    assert r.runs == [] and r.error is not None and r.error.where == "div.py:2"


def test_debug_of_a_working_program_asks_nothing(db, user, tmp_path: Path) -> None:
    f = tmp_path / "ok.sh"
    f.write_text("#!/bin/bash\necho fine\n")
    backend = ScriptedBackend()
    r = jobs.debug(session(db, user, backend), path=f, on_text=print)
    assert r.error is None and backend.calls == [] and "nothing to debug" in r.notes[0]


# ---------------------------------------------------------------------- document

UNDOCUMENTED = (
    "import os\r\n\r\n\r\nclass Box:\r\n\tdef size(self): return 1\r\n\r\n\r\n"
    "@staticmethod\r\ndef helper(x, y=os.sep):\r\n    return x  # keep\r\n"
)


def test_document_inserts_only_docstrings(db, user, tmp_path: Path) -> None:
    answers = [
        '"""Tools for boxes."""',
        "Here is the docstring:\nA box of things.",
        '```python\ndef size(self):\n    """Return the size."""\n    return 1\n```',
        "Join x and y.\n\nArgs:\n    x: first.\n    y: second.",
    ]
    backend = ScriptedBackend(answers)
    s, seen = session(db, user, backend), Seen()
    f = tmp_path / "box.py"
    f.write_bytes(UNDOCUMENTED.encode())
    r = jobs.document(s, path=f, on_text=seen.text, on_event=seen.event)
    assert r.docs == {
        "<module>": "Tools for boxes.",
        "Box": "A box of things.",
        "Box.size": "Return the size.",
        "helper": "Join x and y.\n\nArgs:\n    x: first.\n    y: second.",
    }
    edits = plan_docstrings(UNDOCUMENTED, r.docs)
    assert all(e.start == e.end for e in edits)  # insertions only ...
    assert apply_edits(UNDOCUMENTED, edits) == r.text  # ... and nothing else changed
    ast.parse(r.text)
    assert f.read_bytes() == UNDOCUMENTED.encode()  # not written without write=True
    assert len(backend.calls) == 4
    assert all(len(call) == 2 for call in backend.calls)  # one short request each
    assert "google-style" in backend.calls[3][1].content
    assert [m.figures["task"] for m in stored(db, user, s)[1::2]] == ["document"] * 4
    assert [t for k, t in seen.order if k == "target"][1] == "class Box (line 4)"


def test_document_write_keeps_a_backup_and_all_redoes(db, user, tmp_path: Path) -> None:
    f = tmp_path / "one.py"
    f.write_text('def one():\n    """Old."""\n    return 1\n')
    backend = ScriptedBackend(["Module.", "Return one."])
    r = jobs.document(
        session(db, user, backend), path=f, write=True, all_=True, style="numpy", on_text=print
    )
    assert f.read_text() == '"""Module."""\n\ndef one():\n    """Return one."""\n    return 1\n'
    assert r.backup is not None and "Old." in r.backup.read_text()
    assert "numpy-style" in backend.calls[0][1].content


def test_document_bash_keeps_the_shebang_first(db, user) -> None:
    script = '#!/usr/bin/env bash\nset -eu\n\ngreet() {\n  echo "hi $1"\n}\n\ngreet "$@"\n'
    backend = ScriptedBackend(["Usage: hello.sh NAME\nGreets NAME.", "# Print a greeting."])
    r = jobs.document(session(db, user, backend), source=script, language="bash", on_text=print)
    assert r.text is not None
    assert r.text.startswith("#!/usr/bin/env bash\n# Usage: hello.sh NAME\n# Greets NAME.\n")
    assert "# Print a greeting.\ngreet() {" in r.text
    assert (
        r.text.replace("# Usage: hello.sh NAME\n# Greets NAME.\n", "").replace(
            "# Print a greeting.\n", ""
        )
        == script
    )


def test_document_readme_asks_once(db, user, tmp_path: Path) -> None:
    f = tmp_path / "tool.py"
    f.write_text(MESSY)
    r = jobs.document(
        session(db, user, ScriptedBackend(["# tool\n\nPrints its arguments."])),
        path=f,
        readme=True,
        write=True,
        on_text=print,
    )
    assert (tmp_path / "tool.md").read_text() == "# tool\n\nPrints its arguments.\n"
    assert f.read_text() == MESSY and r.written == tmp_path / "tool.md"


def test_clean_doc_takes_the_words_out_of_what_models_write() -> None:
    assert clean_doc('  """Add."""  ') == "Add."
    assert clean_doc("```\nAdd two numbers.\n```") == "Add two numbers."
    assert clean_doc("# Greets.\n# Twice.", bash=True) == "Greets.\nTwice."
    assert clean_doc("") == ""


# ---------------------------------------------------------------------- ask


def test_ask_grounds_the_question_and_names_its_sources(db, user) -> None:
    backend = ScriptedBackend(["Use check=True."])
    s, seen = session(db, user, backend), Seen()
    r = jobs.ask(
        s, "How does subprocess.run raise on failure?", on_text=seen.text, on_event=seen.event
    )
    assert r.sources == ["pydoc subprocess.run"]
    prompt = backend.user_messages()[0]
    assert prompt.startswith("How does subprocess.run raise on failure?")
    assert "[pydoc subprocess.run]" in prompt and "check" in prompt
    assert seen.order[-1] == ("sources", "Sources: pydoc subprocess.run")
    assert backend.calls[0][0].content == DEFAULT_SYSTEM_PROMPT
    assert stored(db, user, s)[1].figures["language"] == "python"


def test_ask_about_bash_uses_help(db, user) -> None:
    backend = ScriptedBackend(["read -r keeps backslashes."])
    r = jobs.ask(session(db, user, backend), "In bash, what does read -r do?", on_text=print)
    assert r.sources[0] == "bash help read"
    assert "[bash help read]" in backend.user_messages()[0]


def test_ask_without_names_sends_the_question_alone(db, user) -> None:
    backend = ScriptedBackend(["Hello."])
    r = jobs.ask(session(db, user, backend), "Hello there, how are you?", on_text=print)
    assert r.sources == [] and backend.user_messages() == ["Hello there, how are you?"]


# ---------------------------------------------------------------------- stopping


def test_a_stopped_answer_ends_the_job(db, user, tmp_path: Path) -> None:
    backend = ScriptedBackend([BAD_PY, GOOD_PY])
    out = tmp_path / "x.py"

    def stop_at_once(piece: str) -> None:
        backend.cancel()

    r = jobs.generate(
        session(db, user, backend), "x", language="python", output=out, on_text=stop_at_once
    )
    assert r.attempts == 1 and len(backend.calls) == 1 and not out.exists()
    assert r.answer is not None and r.answer.result.finish_reason == "cancelled"
    assert any("stopped" in n for n in r.notes)
    f = tmp_path / "tool.py"
    f.write_text(MESSY)
    backend = ScriptedBackend([FIX])
    r = jobs.review(session(db, user, backend), path=f, apply=True, on_text=stop_at_once)
    assert not r.applied and f.read_text() == MESSY


# ---------------------------------------------------------------------- dispatch, prompts


def test_run_job_dispatches_by_name(db, user) -> None:
    r = run_job(
        "generate",
        session(db, user, ScriptedBackend([GOOD_PY])),
        "hi",
        language="py",
        on_text=print,
    )
    assert r.job == "generate" and r.passed
    with pytest.raises(JobError, match="Unknown job 'fix'"):
        run_job("fix", session(db, user, ScriptedBackend()), on_text=print)
    assert set(jobs.registry.names()) == {
        "ask",
        "generate",
        "complete",
        "review",
        "debug",
        "document",
    }


def test_a_users_prompt_setting_replaces_the_builtin_one(db, user) -> None:
    backend = ScriptedBackend(["Fine."])
    prompts = PromptSettings(review="Be brief.")
    jobs.review(session(db, user, backend), source=MESSY, prompts=prompts, on_text=print)
    assert backend.calls[0][0].content == "Be brief."
    assert "Bash" in system_prompt("review", "bash") and "Python" in system_prompt(
        "review", "python"
    )


def test_a_job_in_an_ongoing_chat_brings_its_instructions_along(db, user) -> None:
    backend = ScriptedBackend(["Hi.", "Looks fine."])
    s = session(db, user, backend)
    s.send("hello", on_text=print)
    jobs.review(s, source=MESSY, on_text=print)
    assert backend.calls[1][0].content == DEFAULT_SYSTEM_PROMPT
    assert backend.user_messages()[1].startswith("Instructions for this request: ")


@pytest.mark.parametrize("text", ["", "  \n"])
def test_empty_code_is_refused(db, user, text: str) -> None:
    with pytest.raises(SourceFileError, match="empty"):
        jobs.review(session(db, user, ScriptedBackend()), source=text, on_text=print)


# ---------------------------------------------------------------------- the real model


def test_generate_with_the_real_model_reports_its_checks(db, user, embedded_backend) -> None:
    s, seen = session(db, user, embedded_backend), Seen()
    r = jobs.generate(
        s, "Print the numbers 1 to 3.", language="python", on_text=seen.text, on_event=seen.event
    )
    assert r.attempts in (1, 2) and r.validation is not None
    assert seen.streamed == "\n\n".join(a.text for a in r.answers)
    # Honest: passed exactly when the final checks found nothing.
    assert r.passed == (not r.validation.findings)
    msgs = stored(db, user, s)
    assert len(msgs) == 2 * r.attempts
    assert {m.figures["task"] for m in msgs[1::2]} == {"generate"}


def test_complete_with_the_real_model_returns_only_the_inserted_text(
    db, user, embedded_backend
) -> None:
    s, seen = session(db, user, embedded_backend), Seen()
    code = "def square(x):\n    return \n\n\nprint(square(3))\n"
    r = jobs.complete(s, source=code, line=2, column=12, on_text=seen.text, on_event=seen.event)
    assert r.code is not None
    # What streamed is the insertion, plus the newline the cursor's line already has.
    assert seen.streamed in (r.code, r.code + "\n")
    assert "print(square(3))" not in r.code
    a = stored(db, user, s)[1]
    assert a.figures["task"] == "complete" and a.figures["finish_reason"] in ("stop", "length")


def test_block_cutter_drops_an_echo_of_the_lines_before_the_cursor() -> None:
    out: list[str] = []
    prefix = "import math\n\n\ndef area(r):\n    return "
    cut = BlockCutter(language="python", indent="    ", on_text=out.append, prefix=prefix)
    for piece in ["def ", "area(r):\n", "    return math.pi", " * r ** 2\n", "\n", "print(1)\n"]:
        cut.feed(piece)
    assert cut.finish() == "math.pi * r ** 2\n" == "".join(out)
    short = BlockCutter(language="python", indent="", on_text=out.append, prefix="x = ")
    short.feed("x")
    assert short.finish() == "x"  # a start that only looked like an echo is kept


PREFIX = "def add(a, b):\n    return "


@pytest.mark.parametrize(
    ("streamed", "expected"),
    [
        (["def add(a, b):\n", "    return ", "a + b"], "a + b"),  # the whole prefix echoed
        (["    return a", " + b"], "a + b"),  # its last line echoed
        (["return a + b"], "a + b"),  # its last line, unindented
        (["a + b"], "a + b"),  # no echo
        (["def add"], "def add"),  # ended inside a possible echo: that was the answer
        ([], ""),
    ],
)
def test_block_cutter_drops_an_echo_of_the_prefix(streamed: list[str], expected: str) -> None:
    """What the engine's drop_echo did for the instruction fill, the job's cutter does now."""
    cut = BlockCutter(language="python", indent="    ", on_text=lambda _: None, prefix=PREFIX)
    for piece in streamed:
        cut.feed(piece)
    assert cut.finish() == expected


def test_block_cutter_drops_the_opening_fence_and_stops_at_the_closing_one() -> None:
    """A chat endpoint cannot be handed an opened fence: the model writes one itself."""
    out: list[str] = []
    cut = BlockCutter(language="python", indent="", on_text=out.append)
    for piece in ["``", "`py", "thon\n", "x = 1\n", "``", "`\nmore"]:
        cut.feed(piece)
    assert cut.done
    assert cut.finish() == "x = 1\n" == "".join(out)
    plain = BlockCutter(language="python", indent="", on_text=out.append)
    for piece in ["x = ", "1"]:
        plain.feed(piece)
    assert plain.finish() == "x = 1"


def test_an_edited_complete_prompt_reaches_a_model_without_fim(
    db, user, embedded_backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[prompts].complete is what a model without fill-in-the-middle is told (it was not)."""
    assert not embedded_backend.info.can_fill
    seen = {}

    def capture(tokens, options, result, cache_key, stop_ids):
        seen["tokens"] = tokens
        return iter(())

    monkeypatch.setattr(embedded_backend, "_generate", capture)
    words = "You complete zebra-striped code, answering in code only."
    r = jobs.complete(
        session(db, user, embedded_backend),
        source="def add(a, b):\n    return \n",
        line=2,
        column=12,
        on_text=print,
        prompts=PromptSettings(complete=words),
    )
    prompt = embedded_backend.vocab._llm.detokenize(seen["tokens"]).decode()
    assert words in prompt
    assert f"def add(a, b):\n    return {FILL_HOLE}\n" in prompt
    assert r.code == ""


def test_complete_on_the_real_model_without_fim_streams_only_the_middle(
    db, user, embedded_backend
) -> None:
    """The embedded model has no FIM: the chat answer is cut to the code in the gap."""
    s, seen = session(db, user, embedded_backend), Seen()
    source = PREFIX + "\n\n\nprint(add(1, 2))\n"
    r = jobs.complete(s, source=source, line=2, column=12, on_text=seen.text)
    assert r.code is not None
    assert "```" not in r.code
    assert not r.code.startswith("def add")
    assert "print(add(1, 2))" not in r.code


def test_complete_through_a_remote_chat_drops_the_fence_and_the_echo(db, user) -> None:
    """A server without FIM gets the job's chat request; its fenced, echoing answer is cut."""
    pieces = ["```python\n", "def add(a, b):\n", "    return a + b\n", "```\n", "Done."]
    server = FakeServer(fakeservers.openai(pieces))
    with server, RemoteBackend(server.url, probe=False, model="m") as backend:
        r = jobs.complete(
            session(db, user, backend), source="def add(a, b):\n\n", line=2, column=1, on_text=print
        )
    assert r.code == "    return a + b"
    sent = json.loads(server.requests[-1][2])
    assert sent["messages"][0] == {"role": "system", "content": system_prompt("complete", "python")}
    assert FILL_HOLE in sent["messages"][1]["content"]


# ---------------------------------------------------------------------- what the history shows

REVIEWED = "import os\n\n\ndef f(x):\n    return x\n"


def test_a_job_stores_what_the_user_typed_apart_from_its_prompt(db, user) -> None:
    """Reopened, the turn reads as typed; the model still gets the whole prompt."""
    from codenook.assist import history

    backend = ScriptedBackend(["Fine.", "Still fine."])
    s = session(db, user, backend)
    run_job("review", s, source=REVIEWED, shown="Please review this:", on_text=lambda _: None)
    doc = history.load(db, user.id, s.conversation_id)
    asked = doc["messages"][0]
    assert asked["content"] == "Please review this:"
    assert "1 | import os" in asked["prompt"] and "3. Propose a fix" in asked["prompt"]
    assert "3. Propose a fix" not in history.to_markdown(doc)
    # The next turn's context holds the prompt the model answered, not the short text.
    ((question, _),) = s.turns()
    assert question.content == asked["prompt"]
    assert backend.calls[0][-1].content == asked["prompt"]


def test_without_typed_words_a_job_turn_shows_its_first_line(db, user) -> None:
    """The command line types no box: the history shows the job's line, not its listing."""
    from codenook.assist import history

    s = session(db, user, ScriptedBackend(["Fine."]))
    jobs.review(s, source=REVIEWED, on_text=lambda _: None)
    (asked, _) = history.load(db, user.id, s.conversation_id)["messages"]
    assert asked["content"] == "Review the code (Python, 5 lines)."
    s2 = session(db, user, ScriptedBackend(["A list comprehension builds a list."]))
    jobs.ask(s2, "What is a list comprehension?", lookup=False, on_text=lambda _: None)
    (asked2, _) = history.load(db, user.id, s2.conversation_id)["messages"]
    assert asked2["content"] == "What is a list comprehension?"


HEAD_PREFIX = "def average(numbers):\n    total = 0\n    "


@pytest.mark.parametrize(
    ("streamed", "expected"),
    [
        # The head again, then a body of its own: the head goes, the body stays.
        (["def average(numbers):\n", "    return sum(numbers)", " / len(numbers)\n"],
         "return sum(numbers) / len(numbers)\n"),
        # The head and one line of the body again, then the new line.
        (["def average(numbers):\n    total = 0\n    ", "for n in numbers:\n"],
         "for n in numbers:\n"),
        # The answer stopped right after the echo: nothing is left to insert.
        (["def average(numbers):\n", "    "], ""),
        (["return total\n"], "return total\n"),  # no echo at all
    ],
)  # fmt: skip
def test_block_cutter_drops_an_echo_of_the_function_head(
    streamed: list[str], expected: str
) -> None:
    """Small models write the definition's head again before the body (issue 18, point 4)."""
    cut = BlockCutter(language="python", indent="    ", on_text=lambda _: None, prefix=HEAD_PREFIX)
    for piece in streamed:
        cut.feed(piece)
    assert cut.finish() == expected
