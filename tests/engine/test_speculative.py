"""Prompt-lookup drafting: the same answer as plain decoding, in fewer evaluations."""

from collections import Counter

import llama_cpp
import numpy as np
import pytest

from codenook.engine.backend import GenerationOptions, Message
from codenook.engine.llama import LlamaBackend
from codenook.engine.speculative import DraftStats, NgramIndex, Pacer, Sampler, generate

SYSTEM = Message("system", "You are a concise coding assistant.")

SNIPPETS = [
    "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
    "import os\n\n\ndef list_py(folder):\n    out = []\n    for name in os.listdir(folder):\n"
    "        if name.endswith('.py'):\n            out.append(name)\n    return out\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n"
    "        self.items.append(x)\n\n    def pop(self):\n        return self.items.pop()\n",
    '#!/bin/bash\nfor f in *.txt; do\n  wc -l "$f"\ndone\n',
    "def mean(values):\n    total = 0\n    for v in values:\n        total += v\n"
    "    return total / len(values)\n",
]
DIFF = (
    "--- a/calc.py\n+++ b/calc.py\n@@ -1,5 +1,5 @@\n def mean(values):\n     total = 0\n"
    "     for v in values:\n         total += v\n-    return total / len(values)\n"
    "+    return total / max(len(values), 1)\n"
)
DOCUMENT = "Add a docstring to each function and repeat the code in full:\n```\n{}```"
HINTS = "Rewrite this code with type hints, keeping everything else:\n```\n{}```"
#: About 550 prompt tokens: past 256 cached tokens llama.cpp's attention changes kernels
#: for a lone query, where batched and single evaluation could part ways.
LONG_FILE = "".join(SNIPPETS) * 3
EDIT_PROMPTS = [
    *(DOCUMENT.format(s) for s in SNIPPETS[:4]),
    *(HINTS.format(s) for s in SNIPPETS[:2]),
    DOCUMENT.format(LONG_FILE),
    HINTS.format(LONG_FILE),
    f"Review this diff and repeat the changed function:\n```diff\n{DIFF}```",
    f"Fix the bug (division by zero) and show the whole file:\n```python\n{SNIPPETS[4]}```",
]
CHAT_PROMPTS = [
    "What is a Python list comprehension?",
    "Write a haiku about the sea.",
    "How do I read a file line by line in Bash?",
    "Explain recursion in two sentences.",
    "What does `set -euo pipefail` do?",
    "Why are tuples immutable?",
    "Write a function that reverses a string.",
    "What is the difference between a process and a thread?",
    "How do I install a package with pip?",
    # A long question (about 500 tokens) whose answer has little to copy.
    "Summarise what this shell history shows, in two sentences:\n"
    + "\n".join(f"$ cd project{i} && make test && git push origin branch{i}" for i in range(30)),
]


def _tokens(
    backend: LlamaBackend, text: str, *, draft: bool, limit: int
) -> tuple[list[int], DraftStats]:
    """The greedy answer's tokens to ``text``, drafted or plain, up to end of turn or ``limit``."""
    llm = backend._llm
    prompt = backend.tokenize_prompt(backend.chat_prompt([SYSTEM, Message("user", text)]))
    stats = DraftStats()
    if draft:
        gen = generate(llm, prompt, sampler=Sampler(0.0), seed=0, stats=stats)
    else:
        gen = llm.generate(prompt, temp=0.0, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0)
    out: list[int] = []
    try:
        for token in gen:
            out.append(token)
            if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token) or len(out) >= limit:
                break
    finally:
        gen.close()
    return out, stats


@pytest.mark.parametrize("text", EDIT_PROMPTS, ids=[f"edit{i}" for i in range(10)])
def test_drafted_edit_is_token_for_token_the_plain_one(
    exact_backend: LlamaBackend, text: str
) -> None:
    plain, _ = _tokens(exact_backend, text, draft=False, limit=64)
    drafted, stats = _tokens(exact_backend, text, draft=True, limit=64)
    assert drafted == plain
    # The edit repeats its input, so drafts were tried: otherwise this proves nothing.
    assert stats.rounds > 0, stats


@pytest.mark.parametrize("text", CHAT_PROMPTS, ids=[f"chat{i}" for i in range(10)])
def test_drafted_chat_is_token_for_token_the_plain_one(
    exact_backend: LlamaBackend, text: str
) -> None:
    plain, _ = _tokens(exact_backend, text, draft=False, limit=40)
    drafted, _ = _tokens(exact_backend, text, draft=True, limit=40)
    assert drafted == plain


def test_backend_answer_is_the_same_with_draft_on_and_off(exact_backend: LlamaBackend) -> None:
    messages = [SYSTEM, Message("user", EDIT_PROMPTS[0])]
    off = exact_backend.stream_chat(
        messages, options=GenerationOptions(max_tokens=80, temperature=0.0, draft="off")
    )
    on = exact_backend.stream_chat(
        messages, options=GenerationOptions(max_tokens=80, temperature=0.0, draft="on")
    )
    assert on.read() == off.read()
    assert on.result.completion_tokens == off.result.completion_tokens
    assert on.result.drafted > 0 and on.result.draft_accepted > 0
    assert off.result.drafted == 0
    # The next turn reuses what the drafted answer left in the context.
    again = exact_backend.stream_chat(
        messages, options=GenerationOptions(max_tokens=80, temperature=0.0, draft="off")
    )
    assert again.read() == off.result.text


def test_sampled_drafts_are_seeded(embedded_backend: LlamaBackend) -> None:
    messages = [SYSTEM, Message("user", EDIT_PROMPTS[1])]
    hot = GenerationOptions(max_tokens=40, temperature=0.8, seed=5, draft="on")
    a = embedded_backend.stream_chat(messages, options=hot).read()
    b = embedded_backend.stream_chat(messages, options=hot).read()
    assert a and a == b


def test_ngram_index_drafts_what_followed_the_latest_match() -> None:
    index = NgramIndex([1, 2, 3, 4, 5, 9, 2, 3, 7, 8], sizes=(2,))
    index.append(2)
    assert index.draft(5) == []  # (8, 2) never occurred
    index.append(3)
    assert index.draft(5) == [7, 8, 2, 3]  # latest (2, 3) was followed by 7, 8, ...
    assert index.draft(1) == [7]


def test_ngram_index_prefers_the_longest_suffix() -> None:
    index = NgramIndex([5, 6, 7, 1, 9, 6, 7, 2], sizes=(3, 2))
    for t in (5, 6, 7):
        index.append(t)
    assert index.draft(2) == [1, 9]  # the 3-gram (5, 6, 7), not the later 2-gram (6, 7)


def test_pacer_pauses_after_misses_and_grows_after_hits() -> None:
    pacer = Pacer(max_draft=8)
    assert pacer.want() == 4  # a short first draft: a miss costs little
    pacer.record(4, 1)  # one token saved does not pay for the batch: a miss
    assert [pacer.want() for _ in range(3)] == [0, 0, 2]
    pacer.record(2, 0)
    assert [pacer.want() for _ in range(5)] == [0, 0, 0, 0, 2]
    pacer.record(2, 2)
    assert pacer.want() == 4
    pacer.record(4, 4)
    assert pacer.want() == 8


def test_pacer_pauses_up_to_a_limit() -> None:
    pacer = Pacer()
    for _ in range(12):
        pacer.record(2, 0)
    assert pacer._pause == 256


@pytest.mark.parametrize("guess", [0, 1, 3, 7])
def test_verify_keeps_the_models_distribution(guess: int) -> None:
    logits = np.array([2.0, 1.5, 1.0, 0.2, -1.0, -3.0, 0.9, 1.7], dtype=np.float32)
    sampler = Sampler(0.9, top_p=0.95, top_k=6, min_p=0.05)
    ids, p = sampler.probabilities(logits)
    expected = dict(zip(ids.tolist(), p.tolist(), strict=True))
    rng = np.random.default_rng(1)
    n = 40_000
    seen = Counter(sampler.verify(logits, guess, rng) for _ in range(n))
    for token, share in expected.items():
        assert abs(seen[token] / n - share) < 0.01, (token, seen[token] / n, share)
    assert set(seen) <= set(expected)


def test_sampler_chain_matches_llama_cpp_order() -> None:
    logits = np.array([5.0, 4.0, 0.0, -10.0], dtype=np.float32)
    # min-p on the raw logits drops -10 (and 0.0: e^-5 < 0.05); temperature applies after.
    ids, p = Sampler(2.0, top_p=1.0, top_k=4, min_p=0.05).probabilities(logits)
    assert ids.tolist() == [0, 1]
    assert p[0] / p[1] == pytest.approx(np.exp(0.5))
    assert Sampler(0.0).pick(logits, np.random.default_rng(0)) == 0
