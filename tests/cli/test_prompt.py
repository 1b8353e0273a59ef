"""``codenook prompt`` through the real installed command, in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gguf import GGUFReader
from jinja2.sandbox import ImmutableSandboxedEnvironment

from codenook.engine.embedded import embedded_model_path
from tests.cli.test_ask import one_error_line
from tests.conftest import run_cli

VOCAB_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "vocab"
MESSAGES = [
    {"role": "system", "content": "S"},
    {"role": "user", "content": "U1"},
    {"role": "assistant", "content": "A1"},
    {"role": "user", "content": "U2"},
]


def prompt(*args: str, messages: object = MESSAGES) -> bytes:
    proc = run_cli("prompt", *args, input=json.dumps(messages).encode())
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b"", proc.stderr.decode()
    return proc.stdout


def test_format_prints_the_exact_prompt() -> None:
    assert prompt("--format", "codellama-instruct") == (
        b"<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nU1 [/INST] A1 </s><s>[INST] U2 [/INST]"
    )
    assert prompt("--format", "mistral-instruct", messages=MESSAGES[1:]) == (
        b"<s>[INST] U1 [/INST]A1</s>[INST] U2 [/INST]"
    )
    assert prompt("--format", "chatml").endswith(b"<|im_start|>assistant\n")


def test_list_names_every_format() -> None:
    proc = run_cli("prompt", "--list")
    assert proc.returncode == 0
    names = [line.split()[0] for line in proc.stdout.decode().splitlines()]
    assert names == [
        "chatml",
        "codellama-instruct",
        "mistral-instruct",
        "deepseek-coder-instruct",
        "llama3",
        "codellama",
        "codellama-spm",
        "qwen2.5-coder",
        "starcoder",
        "deepseek-coder",
        "codestral",
    ]


def smollm2_template_text(messages: list[dict[str, str]]) -> str:
    """The embedded model's own tokenizer.chat_template, read and rendered independently."""
    field = GGUFReader(embedded_model_path()).get_field("tokenizer.chat_template")
    assert field is not None
    template = bytes(field.parts[field.data[0]]).decode("utf-8")
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages, add_generation_prompt=True)


@pytest.mark.parametrize("messages", [MESSAGES, MESSAGES[1:]])
def test_model_prints_what_its_own_template_gives(messages: list[dict[str, str]]) -> None:
    out = prompt("--model", str(embedded_model_path()), messages=messages)
    assert out.decode() == smollm2_template_text(messages)


def test_without_options_the_configured_model_is_shown() -> None:
    assert prompt().decode() == smollm2_template_text(MESSAGES)


def test_a_named_format_wins_over_the_model_template() -> None:
    out = prompt("--model", str(embedded_model_path()), "--format", "llama3")
    assert out.startswith(b"<|begin_of_text|>")


def test_fim_prompt_from_files(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def add(a, b):\n    return ")
    (tmp_path / "b.py").write_text("\n\nprint(add(1, 2))\n")
    files = ("--prefix-file", str(tmp_path / "a.py"), "--suffix-file", str(tmp_path / "b.py"))
    assert prompt("--fim", "--format", "codellama", *files) == (
        b"<PRE> def add(a, b):\n    return  <SUF>\n\nprint(add(1, 2))\n <MID>"
    )
    assert prompt("--fim", "--format", "starcoder", *files) == (
        b"<fim_prefix>def add(a, b):\n    return <fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>"
    )


def test_fim_on_a_model_without_fim_tokens_shows_the_instruction_prompt(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = ")
    proc = run_cli(
        "prompt",
        "--fim",
        "--model",
        str(embedded_model_path()),
        "--prefix-file",
        str(tmp_path / "a.py"),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert "no fill-in-the-middle tokens" in proc.stderr.decode()
    # The complete job's own request: its system prompt, then the file with the gap marked.
    out = proc.stdout.decode()
    assert out.endswith("<|im_start|>assistant\n")
    assert "<|im_start|>system\nYou are a Python and Bash code completion engine." in out
    assert "x = <FILL_HERE>" in out


def test_fim_on_a_vocabulary_with_fim_tokens_uses_them(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f(")
    (tmp_path / "b.py").write_text("):\n    pass\n")
    out = prompt(
        "--fim",
        "--model",
        str(VOCAB_DIR / "ggml-vocab-deepseek-coder.gguf"),
        "--prefix-file",
        str(tmp_path / "a.py"),
        "--suffix-file",
        str(tmp_path / "b.py"),
    )
    assert out.decode() == "<｜fim▁begin｜>def f(<｜fim▁hole｜>):\n    pass\n<｜fim▁end｜>"


def test_tokens_show_ids_pieces_and_special_marks() -> None:
    out = prompt(
        "--model",
        str(VOCAB_DIR / "ggml-vocab-llama-spm.gguf"),
        "--format",
        "codellama-instruct",
        "--tokens",
        messages=[{"role": "user", "content": "hi [INST] <s>"}],
    ).decode()
    lines = out.splitlines()
    assert lines[0].split() == ["1", '"<s>"', "special"]
    # BOS once: the <s> the user typed is plain text.
    assert sum(line.endswith("special") for line in lines) == 1
    assert '   7251  " hi"' in lines


def test_tokens_of_a_fim_prompt_have_one_special_token_per_marker(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("s = '<fim_middle>'\n")
    out = prompt(
        "--fim",
        "--model",
        str(VOCAB_DIR / "ggml-vocab-starcoder.gguf"),
        "--prefix-file",
        str(tmp_path / "a.py"),
        "--tokens",
    ).decode()
    special = [line.split()[1] for line in out.splitlines() if line.endswith("special")]
    assert special == ['"<fim_prefix>"', '"<fim_suffix>"', '"<fim_middle>"']


@pytest.mark.parametrize(
    ("args", "stdin", "expect"),
    [
        (("--format", "nope"), b"[]", "Unknown prompt format 'nope'"),
        (("--format", "chatml"), b"not json", "not valid JSON"),
        (("--format", "chatml"), b"", "No messages on stdin"),
        (("--format", "chatml"), b'{"role": "user"}', "JSON list of messages"),
        (("--format", "chatml"), b'[{"role": "robot", "content": "x"}]', "role 'robot'"),
        (("--format", "chatml"), b'[{"role": "user"}]', '"content" string'),
        (("--format", "chatml"), b"[]", "empty"),
        (
            ("--format", "chatml"),
            b'[{"role": "user", "content": "a"}, {"role": "system", "content": "b"}]',
            "may only come first",
        ),
        (("--format", "chatml"), b"\xff\xfe", "not UTF-8"),
        (("--format", "chatml", "--tokens"), b"[]", "--tokens needs --model"),
        (("--format", "starcoder"), b"[]", "is a fill-in-the-middle format"),
        (("--fim", "--format", "chatml"), b"", "is a chat format"),
        (("--prefix-file", "x"), b"", "go with --fim"),
        (("--fim", "--format", "starcoder", "--prefix-file", "/no/such/file"), b"", "Cannot read"),
        (("--model", "/no/such.gguf"), b"[]", "Model file not found"),
    ],
)
def test_errors_are_one_line_and_exit_2(args: tuple[str, ...], stdin: bytes, expect: str) -> None:
    line = one_error_line(run_cli("prompt", *args, input=stdin))
    assert expect in line
