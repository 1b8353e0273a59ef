"""GBNF grammars that make an edit well formed: hunks and search text drawn from the file itself.

A small model's unified diff often has context lines the file does not hold or no changed
line at all, so nothing applies. llama.cpp can restrict sampling to a grammar (GBNF); these
grammars let the model write only edits whose old side is a run of the file's own lines.
They are plain text, so the in-process runtime compiles them and ``codenook serve`` takes
them in a request's ``grammar`` field.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Sequence
from typing import Any

import llama_cpp
import numpy as np

from codenook.errors import GenerationError

#: Most file lines a grammar spells out (each line is two rules; beyond this it gets slow).
MAX_GRAMMAR_LINES = 800


def literal(text: str) -> str:
    """``text`` as a GBNF string literal."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _file_lines(text: str) -> list[str]:
    lines = text.splitlines()
    if len(lines) > MAX_GRAMMAR_LINES:
        raise GenerationError(
            f"The file has {len(lines):,} lines; an edit grammar covers at most "
            f"{MAX_GRAMMAR_LINES:,}. Give a smaller file or turn the grammar off."
        )
    return lines


#: Free text without a code fence (three backticks), before and after a job's diff.
PROSE = 'prose ::= ([^`] | "`" [^`] | "``" [^`])*'


def unified_diff_grammar(text: str, *, name: str = "file", prose: bool = False) -> str:
    """A fenced unified diff whose hunks read runs of ``text``'s lines and change at least one.

    The header's numbers are free (codenook recounts them before applying); each hunk's
    context and removed lines are the file's lines in order, from any starting line.
    ``prose``: the diff may come between free text (a review's or a fix's explanation).
    """
    lines = _file_lines(text)
    n = len(lines)
    before, after = ("prose ", " prose") if prose else ("", "")
    rules = [
        f'root ::= {before}"```diff\\n--- a/" {literal(name)} "\\n+++ b/" {literal(name)} '
        f'"\\n" hunk+ "```"{after}',
        *([PROSE] if prose else []),
        'hunk ::= "@@ -" num ("," num)? " +" num ("," num)? " @@\\n" start',
        "num ::= [0-9] [0-9]?  [0-9]? [0-9]?",
        'add ::= "+" [^\\n]* "\\n"',
        "start ::= " + (" | ".join(f"u{i}" for i in range(n)) if n else "w0"),
    ]
    # u<i>: at the file's line i, nothing changed yet; w<i>: a change made, may end here.
    for i, line in enumerate(lines):
        ctx, rem = literal(" " + line + "\n"), literal("-" + line + "\n")
        rules.append(f"u{i} ::= {ctx} u{i + 1} | {rem} w{i + 1} | add w{i}")
        rules.append(f'w{i} ::= {ctx} w{i + 1} | {rem} w{i + 1} | add w{i} | ""')
    rules.append(f"u{n} ::= add w{n}")
    rules.append(f'w{n} ::= add w{n} | ""')
    return "\n".join(rules) + "\n"


def search_replace_grammar(text: str) -> str:
    """Search/replace blocks (as Aider writes them) whose search part is a run of the file."""
    lines = _file_lines(text)
    n = len(lines)
    rules = [
        'root ::= block+ ""',
        'block ::= "<<<<<<< SEARCH\\n" search "=======\\n" replace ">>>>>>> REPLACE\\n"',
        "search ::= " + (" | ".join(f"s{i}" for i in range(n)) if n else '""'),
        'replace ::= ([^<>=\\n] [^\\n]* "\\n" | "\\n")*',
    ]
    for i, line in enumerate(lines):
        nxt = f" s{i + 1}?" if i + 1 < n else ""
        rules.append(f"s{i} ::= {literal(line + chr(10))}{nxt}")
    return "\n".join(rules) + "\n"


def whole_function_grammar(names: Sequence[str], *, language: str = "python") -> str:
    """One fenced block that starts by defining one of ``names`` (the rest is free)."""
    if not names:
        raise GenerationError("The file defines no function to rewrite.")
    alternatives = " | ".join(literal(n + "(") for n in names)
    return (
        f'root ::= "```{language}\\n" ("async ")? "def " name prose "```"\n'
        f"name ::= {alternatives}\n{PROSE}\n"
    )


def compile_grammar(vocab: object, grammar: str) -> llama_cpp.LlamaGrammar:
    """The grammar for a llama.cpp sampler, checked against the model's vocabulary first."""
    llama_cpp.llama_sampler_free(grammar_sampler(vocab, grammar))
    return llama_cpp.LlamaGrammar.from_string(grammar, verbose=False)


def grammar_sampler(vocab: object, grammar: str) -> Any:
    """llama.cpp's grammar sampler for ``grammar`` (the caller frees it), or a clear error."""
    # llama.cpp answers a grammar it cannot parse with NULL, which a sampler chain would crash on.
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
    if not sampler:
        raise GenerationError(
            "The answer grammar does not parse (GBNF); the answer was not started."
        )
    return sampler


class GrammarGate:
    """A grammar over codenook's own token loop, checked one token at a time.

    llama-cpp-python runs a grammar over the whole vocabulary before every token (half
    the speed on the embedded model). The gate checks only the token the sampler picked;
    the whole vocabulary is masked only when that pick breaks the grammar, and the token
    is then picked again from what the grammar allows. Both give the grammar-constrained
    distribution exactly: a valid first pick is kept with its own probability, and a
    rejected one is replaced by a draw from the allowed tokens, renormalised.
    """

    def __init__(self, vocab: object, grammar: str, n_vocab: int) -> None:
        self._sampler = grammar_sampler(vocab, grammar)
        self._one = (llama_cpp.llama_token_data * 1)()
        self._one_array = llama_cpp.llama_token_data_array(
            data=ctypes.cast(self._one, llama_cpp.llama_token_data_p), size=1, selected=-1
        )
        self._n_vocab = n_vocab
        self._all: Any = None  # the whole vocabulary's array, made at the first mask

    def allows(self, token: int) -> bool:
        """Whether ``token`` may come next."""
        self._one[0].id, self._one[0].logit, self._one[0].p = token, 0.0, 0.0
        self._one_array.size, self._one_array.selected, self._one_array.sorted = 1, -1, False
        llama_cpp.llama_sampler_apply(self._sampler, ctypes.byref(self._one_array))
        return math.isfinite(self._one[0].logit)

    def mask(self, logits: np.ndarray) -> np.ndarray:
        """``logits`` with every token the grammar forbids next set to minus infinity."""
        if self._all is None:
            from llama_cpp._internals import LlamaTokenDataArray

            self._all = LlamaTokenDataArray(n_vocab=self._n_vocab)
        self._all.copy_logits(logits)
        self._all.candidates.selected = -1
        llama_cpp.llama_sampler_apply(self._sampler, ctypes.byref(self._all.candidates))
        return np.asarray(self._all.candidates_data.logit, dtype=np.float32).copy()

    def accept(self, token: int) -> None:
        """Move the grammar past ``token``."""
        llama_cpp.llama_sampler_accept(self._sampler, token)

    def close(self) -> None:
        """Free the grammar's sampler."""
        if self._sampler:
            llama_cpp.llama_sampler_free(self._sampler)
            self._sampler = None
