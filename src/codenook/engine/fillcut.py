"""The end of a fill-in-the-middle answer: only the middle, never the suffix written again.

Instruct models asked through a FIM prompt (Qwen2.5-Coder-Instruct) often write the gap
and then run on into the code after it, sometimes skipping a line or two of it. A line
of the answer that is one of the suffix's first non-blank lines again ends the middle
there. While the answer's last line could still become such a line, it is held back, so
a repeat is never shown.
"""

from __future__ import annotations

from collections.abc import Iterator

Pieces = Iterator[tuple[str, int]]

#: A suffix line shorter than this must match a whole answer line (a lone ``)`` or
#: ``else:`` is too common to end a fill when it merely starts one).
_WHOLE_LINE_BELOW = 12
#: How many of the suffix's first non-blank lines a run-on answer is matched against.
SUFFIX_LINES = 3
#: Lines after the suffix's first one count only when at least this long: a model may
#: well write ``return x`` in the gap when the suffix has it further down.
_LATER_LINE_MIN = 10


def suffix_lines(suffix: str) -> list[str]:
    """The suffix's first non-blank lines (at most SUFFIX_LINES), stripped."""
    found: list[str] = []
    for line in suffix.splitlines():
        if line.strip():
            found.append(line.strip())
            if len(found) == SUFFIX_LINES:
                break
    return found


def _line_repeats(line: str, heads: list[str], *, whole: bool) -> bool:
    """Whether an answer line (complete when ``whole``) is one of the suffix's lines again."""
    body = line.strip()
    if not body:
        return False
    for k, head in enumerate(heads):
        if k and len(head) < _LATER_LINE_MIN:
            continue
        if body == head and (whole or len(head) >= _WHOLE_LINE_BELOW):
            return True
        if k == 0 and len(head) >= _WHOLE_LINE_BELOW and body.startswith(head):
            return True
    return False


def _could_become(line: str, heads: list[str]) -> bool:
    """Whether an unfinished answer line may still turn into one of the suffix's lines."""
    body = line.lstrip(" \t")
    return not body or any(h.startswith(body) or body.startswith(h) for h in heads)


def find_repeat(text: str, suffix: str, *, final: bool = True) -> int | None:
    """Where in ``text`` a line starts that repeats one of the suffix's first lines, or None.

    With ``final`` false the last line is unfinished and counts only when long enough.
    """
    heads = suffix_lines(suffix)
    if not heads:
        return None
    start = 0
    while True:
        end = text.find("\n", start)
        line = text[start:] if end < 0 else text[start:end]
        if _line_repeats(line, heads, whole=end >= 0 or final):
            return start
        if end < 0:
            return None
        start = end + 1


def cut_middle(middle: str, suffix: str) -> str:
    """The middle before a repeat: blank lines at its end belong to the suffix."""
    if suffix.lstrip(" \t").startswith("\n"):
        # The cursor's line ends right after the gap: the suffix starts the next line itself.
        return middle.rstrip(" \t\n")
    return middle


def trim_suffix_repeat(pieces: Pieces, suffix: str) -> Pieces:
    """Pass (text, tokens) pieces on up to where the answer writes the suffix again."""
    heads = suffix_lines(suffix)
    sent, count = "", 0
    whole = ""
    try:
        for text, tokens in pieces:
            if not heads:
                yield text, tokens
                continue
            whole, count = whole + text, count + tokens
            at = find_repeat(whole, suffix, final=False)
            if at is not None:
                keep = cut_middle(whole[:at], suffix)
                yield keep[len(sent) :], count
                return
            # Hold back the unfinished last line while it may become the head line, and the
            # blank lines before it, which a cut would drop.
            last = whole.rfind("\n") + 1
            safe = len(whole)
            if _could_become(whole[last:], heads):
                safe = max(len(whole[:last].rstrip(" \t\n")), len(sent))
            if safe > len(sent):
                yield whole[len(sent) : safe], count
                sent, count = whole[:safe], 0
        if not heads:
            return
        at = find_repeat(whole, suffix, final=True)
        keep = whole if at is None else cut_middle(whole[:at], suffix)
        if len(keep) > len(sent) or count:
            yield keep[len(sent) :], count
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()
