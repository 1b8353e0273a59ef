"""What a reader must be told about how an answer ended: one sentence for every face.

The command line, the window and every job show the same words, so an answer cut at the
token limit is never taken for a whole one.
"""

from __future__ import annotations

from codenook.engine.backend import StreamResult


def finish_note(result: StreamResult, *, longer: str = "") -> str | None:
    """The sentence to show beside an answer that did not end by itself, else None.

    ``longer`` says how this face allows a longer answer (``--max-tokens N``), for the
    token limit's note.
    """
    if result.finish_reason == "length":
        how = f" Allow more with {longer}." if longer else ""
        return (
            f"The answer was cut at the token limit ({result.completion_tokens} tokens): "
            f"it is incomplete.{how}"
        )
    if result.finish_reason == "cancelled":
        return "The answer was stopped before its end: it is incomplete."
    return None
