"""A rendered prompt that remembers which parts the format wrote and which the user wrote.

A plain string cannot tell ``<|im_end|>`` written by the format from ``<|im_end|>`` pasted
by a user; a tokenizer that parses special tokens everywhere would end the user's turn
there. So renderers return segments: control text (the format's own markers, where
special tokens are parsed) and content (the user's or the model's words, always read as
plain text). ``Prompt.text`` is the exact string, the join of the segments.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

#: Special tokens a segment may name; the tokenizer uses the vocabulary's own id for them.
TokenName = Literal["bos", "eos", "fim_pre", "fim_suf", "fim_mid"]


@dataclass(frozen=True)
class Segment:
    """One piece of a prompt.

    ``control``: written by the format; special-token strings in it become special tokens.
    ``token``: the piece stands for this named special token (its ``text`` is how the
    reference writes it, e.g. CodeLlama's ``" <SUF>"`` for the token ``▁<SUF>``).
    ``glued``: SentencePiece vocabularies put a space before text that follows a special
    token; a glued piece is tokenized without it (CodeLlama's infill suffix).
    """

    text: str
    control: bool = False
    token: TokenName | None = None
    glued: bool = False


def ctl(text: str) -> Segment:
    """A control segment: the format's own text."""
    return Segment(text, control=True)


def txt(text: str, *, glued: bool = False) -> Segment:
    """A content segment: the user's or model's words, never parsed for special tokens."""
    return Segment(text, glued=glued)


def tok(text: str, name: TokenName) -> Segment:
    """A segment that stands for the special token ``name``, shown as ``text``."""
    return Segment(text, control=True, token=name)


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt: segments whose join is the exact prompt text."""

    segments: tuple[Segment, ...] = ()

    @classmethod
    def of(cls, segments: Iterable[Segment]) -> Prompt:
        """A prompt from segments, dropping empty ones (they carry nothing)."""
        return cls(tuple(s for s in segments if s.text or s.token))

    @classmethod
    def control(cls, text: str) -> Prompt:
        """A prompt that is entirely the format's own text (special tokens parsed)."""
        return cls.of([ctl(text)])

    @property
    def text(self) -> str:
        """The exact prompt string."""
        return "".join(s.text for s in self.segments)

    def __str__(self) -> str:
        return self.text

    def __iter__(self) -> Iterator[Segment]:
        return iter(self.segments)

    def __add__(self, other: Prompt) -> Prompt:
        return Prompt(self.segments + other.segments)
