"""Asking a model for code: one chat request, the answer's code block taken out."""

from __future__ import annotations

import re
import time

from codenook.assist.tools.code_blocks import extract_code_blocks, first_block
from codenook.engine.backend import Backend, GenerationOptions, Message


def chat_code(
    backend: Backend,
    *,
    system: str,
    request: str,
    language: str,
    options: GenerationOptions,
) -> tuple[str, str, float, int]:
    """Ask once; returns (code, whole answer, seconds, tokens).

    The code is the first fenced block in ``language`` (else the first unlabeled one,
    else the first of any kind); an answer without a fence is taken as code entire.
    """
    started = time.perf_counter()
    stream = backend.stream_chat(
        [Message("system", system), Message("user", request)], options=options
    )
    answer = ""
    try:
        for piece in stream:
            answer += piece
            if "\n" in piece and _first_block_closed(answer):
                break  # the code is complete: the explanation after it would only cost time
    finally:
        stream.close()
    seconds = time.perf_counter() - started
    return code_of(answer, language), answer, seconds, stream.result.completion_tokens


_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})", re.MULTILINE)


def _first_block_closed(text: str) -> bool:
    """Whether the answer's first fenced code block has been closed."""
    opening = _FENCE.search(text)
    if opening is None:
        return False
    body = text.find("\n", opening.end())
    if body < 0:
        return False
    fence = opening.group(1)
    closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
    return closing.search(text, body + 1) is not None


def code_of(answer: str, language: str) -> str:
    """The code a model's Markdown answer holds (see :func:`chat_code`)."""
    block = first_block(answer, language)
    if block is not None:
        return block.code
    blocks = extract_code_blocks(answer)
    return blocks[0].code if blocks else answer
