"""Linter output parsing from fixed JSON, and one real run of each tool."""

import pytest

from codenook.assist.tools.lint import (
    BROAD_RULES,
    Finding,
    LintError,
    parse_bash_n,
    parse_ruff_json,
    parse_shellcheck_json1,
    ruff_findings,
    shellcheck_findings,
    validate,
)

RUFF_JSON = """[
  {"cell": null, "code": "S602", "end_location": {"column": 16, "row": 3},
   "filename": "/tmp/x.py", "fix": null, "location": {"column": 1, "row": 3},
   "message": "`subprocess` call with `shell=True` identified", "name": "x",
   "noqa_row": 3, "severity": "error", "url": null},
  {"cell": null, "code": "F401", "end_location": {"column": 10, "row": 1},
   "filename": "/tmp/x.py", "fix": {"applicability": "safe", "edits": [], "message": "m"},
   "location": {"column": 8, "row": 1}, "message": "`os` imported but unused",
   "noqa_row": 1, "url": "https://docs.astral.sh/ruff/rules/unused-import"},
  {"cell": null, "code": null, "end_location": {"column": 8, "row": 2},
   "filename": "/tmp/x.py", "fix": null, "location": {"column": 7, "row": 2},
   "message": "SyntaxError: Expected a parameter", "noqa_row": null, "url": null}
]"""

SHELLCHECK_JSON1 = """{"comments": [
  {"file": "-", "line": 2, "endLine": 2, "column": 2, "endColumn": 8, "level": "warning",
   "code": 2164, "message": "Use 'cd ... || exit' or 'cd ... || return' in case cd fails.",
   "fix": null},
  {"file": "-", "line": 1, "endLine": 1, "column": 6, "endColumn": 8, "level": "info",
   "code": 2086, "message": "Double quote to prevent globbing and word splitting.",
   "fix": {"replacements": []}}
]}"""


def test_parse_ruff_json_sorted_by_position() -> None:
    assert parse_ruff_json(RUFF_JSON) == [
        Finding(1, 8, "F401", "`os` imported but unused", "ruff", "error"),
        Finding(2, 7, "invalid-syntax", "SyntaxError: Expected a parameter", "ruff", "error"),
        Finding(3, 1, "S602", "`subprocess` call with `shell=True` identified", "ruff", "error"),
    ]
    assert parse_ruff_json("[]") == []
    assert parse_ruff_json("") == []


def test_parse_shellcheck_json1() -> None:
    assert parse_shellcheck_json1(SHELLCHECK_JSON1) == [
        Finding(
            1, 6, "SC2086", "Double quote to prevent globbing and word splitting.", "shellcheck",
            "info",
        ),
        Finding(
            2, 2, "SC2164", "Use 'cd ... || exit' or 'cd ... || return' in case cd fails.",
            "shellcheck", "warning",
        ),
    ]  # fmt: skip
    assert parse_shellcheck_json1('{"comments": []}') == []


def test_parsers_refuse_what_is_not_a_report() -> None:
    with pytest.raises(LintError, match="not JSON"):
        parse_ruff_json("error: unexpected argument")
    with pytest.raises(LintError, match="no comments list"):
        parse_shellcheck_json1("[]")


def test_parse_bash_n_skips_the_quoted_line() -> None:
    stderr = (
        "/dev/stdin: line 3: syntax error near unexpected token `fi'\n/dev/stdin: line 3: `fi'\n"
    )
    assert parse_bash_n(stderr) == [
        Finding(3, 1, "syntax", "syntax error near unexpected token `fi'", "bash", "error")
    ]


def test_real_ruff_run() -> None:
    found = ruff_findings("import os\n")
    assert [(f.line, f.code) for f in found] == [(1, "F401")]
    assert "S" in BROAD_RULES
    security = ruff_findings("import subprocess\nsubprocess.run('ls', shell=True)\n")
    assert "S602" in {f.code for f in security}


def test_real_shellcheck_run() -> None:
    found = shellcheck_findings("echo $1\n")
    assert [(f.line, f.code, f.severity) for f in found] == [(1, "SC2086", "info")]


def test_shellcheck_dialect_from_the_shebang() -> None:
    # `[[` is Bash; in a POSIX sh script ShellCheck reports it as undefined (SC3010).
    script = 'if [[ -n "$1" ]]; then echo yes; fi\n'
    assert "SC3010" in {f.code for f in shellcheck_findings("#!/bin/sh\n" + script)}
    assert "SC3010" not in {f.code for f in shellcheck_findings("#!/bin/bash\n" + script)}
    assert "SC3010" not in {f.code for f in shellcheck_findings(script)}
    with pytest.raises(LintError, match="Unknown ShellCheck severity"):
        shellcheck_findings(script, severity="fatal")


def test_validate_python() -> None:
    assert validate("def f(x):\n    return x\n", "python").passed
    broken = validate("def f(:\n    pass\n", "py")
    assert not broken.passed
    assert [(f.line, f.code) for f in broken.findings] == [(1, "E999")]
    undefined = validate("print(y)\n", "python")
    assert not undefined.passed
    assert [f.code for f in undefined.findings] == ["F821"]


def test_validate_bash() -> None:
    assert validate('#!/bin/bash\nname="$1"\necho "hi $name"\n', "bash").passed
    broken = validate("if true\necho x\nfi\n", "bash")
    assert not broken.passed
    assert broken.findings[0].tool == "bash"
    assert broken.findings[0].line == 3
    # Style-level notes do not fail validation; warnings do.
    assert validate("echo $HOME\n", "bash").passed
    warned = validate("cd /tmp\nrm x\n", "sh")
    assert not warned.passed
    assert [f.code for f in warned.findings] == ["SC2164"]
