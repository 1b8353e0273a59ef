"""A model's prompts: fill-in-the-middle through FIM tokens or an instruction, echo removal."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from codenook.engine.backend import GenerationOptions
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend, _with_stop
from codenook.engine.prompts import FILL_HOLE, PromptModel, drop_echo

PREFIX = "def add(a, b):\n    return "
SUFFIX = "\n\nprint(add(1, 2))\n"


def pieces(*texts: str) -> Iterator[tuple[str, int]]:
    for text in texts:
        yield text, 1


@pytest.mark.parametrize(
    ("streamed", "expected"),
    [
        (["def add(a, b):\n", "    return ", "a + b"], "a + b"),  # the whole prefix echoed
        (["    return a", " + b"], "a + b"),  # its last line echoed
        (["return a + b"], "a + b"),  # its last line, unindented
        (["a + b"], "a + b"),  # no echo
        (["def", " other():"], "def other():"),  # looked like an echo, was not
        (["def add"], "def add"),  # ended inside a possible echo: that was the answer
        ([], ""),
    ],
)
def test_drop_echo(streamed: list[str], expected: str) -> None:
    out = list(drop_echo(pieces(*streamed), PREFIX))
    assert "".join(t for t, _ in out) == expected
    # Every generated token is still counted.
    assert sum(n for _, n in out) == len(streamed)


def test_drop_echo_closes_the_generator_it_wraps() -> None:
    closed = []

    def gen() -> Iterator[tuple[str, int]]:
        try:
            yield "a", 1
            yield "b", 1
        finally:
            closed.append(True)

    wrapped = drop_echo(gen(), "xyz")
    next(wrapped)
    wrapped.close()
    assert closed == [True]


def test_instruction_fill_prompt_for_a_model_without_fim_tokens() -> None:
    with PromptModel.open(embedded_model_path()) as model:
        prompt = model.fill_prompt(PREFIX, SUFFIX)
        assert prompt.text.endswith("<|im_start|>assistant\n```\n")
        assert f"{PREFIX}{FILL_HOLE}{SUFFIX}" in prompt.text
        # The user's code is content: its markers are never parsed.
        content = "".join(s.text for s in prompt if not s.control)
        assert PREFIX in content and SUFFIX in content
        stop = model.fill_stop(SUFFIX)
        assert "```" in stop and "print(add(1, 2))" in stop
        assert "x" not in model.fill_stop("\n x\n")  # too short to stop on


def test_fill_streams_only_the_middle_from_the_embedded_model(
    embedded_backend: LlamaBackend,
) -> None:
    stream = embedded_backend.fill(
        PREFIX, SUFFIX, options=GenerationOptions(max_tokens=40, temperature=0.0, seed=1)
    )
    middle = stream.read()
    assert stream.result.finish_reason in {"stop", "length"}
    assert middle.strip()
    assert "```" not in middle
    assert not middle.startswith(PREFIX)
    assert "print(add(1, 2))" not in middle
    assert stream.result.text == middle


def test_fill_uses_the_fim_format_and_its_stops_where_the_model_has_one(
    embedded_backend: LlamaBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The FIM path: the starcoder prompt, its stop strings, nothing wrapped around it."""
    fim = replace(embedded_backend.formats, fill_format="starcoder")
    monkeypatch.setattr(embedded_backend.prompts, "formats", fim)
    monkeypatch.setattr(embedded_backend, "formats", fim)
    seen = {}

    def capture(tokens, options, result, cache_key, stop_ids):
        seen["tokens"], seen["options"], seen["stop_ids"] = tokens, options, stop_ids
        return iter(())

    monkeypatch.setattr(embedded_backend, "_generate", capture)
    user_stop = GenerationOptions(stop=("STOP",))
    assert "".join(embedded_backend.fill("a", "b", options=user_stop)) == ""
    text = embedded_backend.vocab._llm.detokenize(seen["tokens"]).decode()
    assert text == "<fim_prefix>a<fim_suffix>b<fim_middle>"
    assert seen["options"].stop[0] == "STOP"
    # Decoded text never shows a control token: the FIM markers stop by id as well.
    assert seen["stop_ids"] == embedded_backend.vocab.control_tokens()
    assert "<|endoftext|>" in seen["options"].stop


def test_format_stop_strings_join_the_users(embedded_backend: LlamaBackend) -> None:
    assert embedded_backend.prompts.chat_stop() == ("<|im_end|>",)
    joined = _with_stop(GenerationOptions(stop=("zzz",)), ("<|im_end|>",))
    assert joined.stop == ("zzz", "<|im_end|>")
    same = GenerationOptions(stop=("<|im_end|>",))
    assert _with_stop(same, ("<|im_end|>",)) is same
