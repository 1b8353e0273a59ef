"""Edit grammars: they parse in llama.cpp and the model can only write edits of the file."""

import llama_cpp
import pytest

from codenook.assist.tools.edit_formats import apply_edit, edit_request
from codenook.engine.backend import GenerationOptions, Message
from codenook.engine.grammars import compile_grammar, literal, unified_diff_grammar
from codenook.engine.llama import SAMPLER, LlamaBackend
from codenook.errors import GenerationError

SOURCE = "def to_fahrenheit(celsius):\n    return celsius * 9 / 5 + 23\n"


def test_literal_escapes_quotes_backslashes_and_controls() -> None:
    assert literal('a"b\\c\n\t\x01') == '"a\\"b\\\\c\\n\\t\\x01"'


def test_each_grammar_parses_in_llama_cpp(embedded_backend: LlamaBackend) -> None:
    vocab = embedded_backend._llm._model.vocab
    for fmt in ("diff", "search_replace", "function"):
        compile_grammar(vocab, edit_request(fmt, SOURCE, name="t.py").grammar)
    with pytest.raises(GenerationError, match="does not parse"):
        compile_grammar(vocab, "root ::= ( unclosed")


def test_diff_grammar_covers_the_file_lines_in_order() -> None:
    grammar = unified_diff_grammar(SOURCE, name="t.py")
    assert 'u0 ::= " def to_fahrenheit(celsius):\\n" u1' in grammar
    assert '"-    return celsius * 9 / 5 + 23\\n" w2' in grammar


@pytest.mark.parametrize("fmt", ["diff", "search_replace"])
def test_grammar_bound_answer_is_an_edit_of_the_file(
    embedded_backend: LlamaBackend, fmt: str
) -> None:
    req = edit_request(fmt, SOURCE, name="t.py")
    ask = f"Fix t.py: it adds 23 instead of 32.\n\n```python\n{SOURCE}```\n\n{req.instruction}"
    stream = embedded_backend.stream_chat(
        [Message("user", ask)],
        options=GenerationOptions(max_tokens=48, temperature=0.0, grammar=req.grammar),
    )
    answer = stream.read()
    if fmt == "diff":
        assert answer.startswith("```diff\n--- a/t.py\n+++ b/t.py\n@@ -"), answer
        # Every old-side line is a line of the file; one the token limit cut short, the
        # start of one.
        lines = answer.split("\n")
        cut = lines.pop() if stream.result.finish_reason == "length" else ""
        old = [ln[1:] for ln in lines if ln[:1] in " -" and ln[:3] != "---"]
        assert all(ln in SOURCE.splitlines() for ln in old), answer
        cut_old = cut[:1] in (" ", "-") and cut[:3] != "---"
        if cut_old:
            assert any(ln.startswith(cut[1:]) for ln in SOURCE.splitlines()), answer
        assert old or cut_old, answer
    else:
        assert answer.startswith("<<<<<<< SEARCH\n"), answer
        if stream.result.finish_reason == "stop":
            assert apply_edit(fmt, SOURCE, answer) is not None or "=======" in answer


REQUEST = [
    Message(
        "user",
        f"Fix t.py: it adds 23 instead of 32. Explain, then give a diff.\n\n```python\n{SOURCE}```",
    )
]


def _library_grammar_answer(backend: LlamaBackend, grammar: str, n: int) -> list[int]:
    """llama-cpp-python's own grammar sampling (the whole vocabulary before each token)."""
    llm = backend._llm
    llm.reset()
    tokens = backend.tokenize_prompt(backend.chat_prompt(REQUEST))
    out: list[int] = []
    gen = llm.generate(
        tokens, temp=0.0, top_p=0.95, grammar=compile_grammar(llm._model.vocab, grammar), **SAMPLER
    )
    for token in gen:
        if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token) or len(out) == n:
            break
        out.append(token)
    gen.close()
    llm.reset()
    return out


def test_the_grammar_gate_answers_as_the_librarys_grammar_sampling(
    exact_backend: LlamaBackend,
) -> None:
    grammar = unified_diff_grammar(SOURCE, name="t.py", prose=True)
    n = 120
    library = _library_grammar_answer(exact_backend, grammar, n)
    for draft in ("off", "on"):  # the gate checks drafted tokens too
        options = GenerationOptions(max_tokens=n, temperature=0.0, grammar=grammar, draft=draft)
        stream = exact_backend.stream_chat(REQUEST, options=options)
        text = stream.read()
        expected = exact_backend._llm.detokenize(library).decode("utf-8", errors="replace")
        assert text == expected, (draft, text)
    assert "```diff\n--- a/t.py\n+++ b/t.py\n@@ -" in text, text
