"""A Hugging Face tokenizer with the same contract as :class:`engine.vocab.Vocab`: rendered
prompts to token ids, special tokens only where the format put them, and BOS exactly once.

The transformers runtime feeds the same rendered prompt as llama.cpp; for a model both
can open (a GGUF file) the ids must be equal, so this follows ``Vocab`` step by step:
control text is split at the special tokens (longest first, with their lstrip/rstrip),
the text between special tokens is tokenized as one run with special tokens not parsed,
and glued text gets no SentencePiece leading space.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codenook.engine.formats import TokenName
from codenook.engine.vocab import _MARKUP, PromptEncoder, TokenPiece, _norm

# As in engine/vocab.py: C's isspace(), the glue that never merges, marker characters.

#: The names fill-in-the-middle tokens go by, per role (llama.cpp looks for the same ones).
FIM_NAMES: dict[str, tuple[str, ...]] = {
    "fim_pre": ("<|fim_prefix|>", "<fim_prefix>", "▁<PRE>", "<PRE>", "<｜fim▁begin｜>"),
    "fim_suf": ("<|fim_suffix|>", "<fim_suffix>", "▁<SUF>", "<SUF>", "<｜fim▁hole｜>"),
    "fim_mid": ("<|fim_middle|>", "<fim_middle>", "▁<MID>", "<MID>", "<｜fim▁end｜>"),
}
#: Tokens that end an answer besides the tokenizer's EOS (llama.cpp's end-of-generation set).
END_NAMES = (
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<|end|>",
    "<end_of_turn>",
    "<EOT>",
    "▁<EOT>",
    "<|EOT|>",
    "<｜end▁of▁sentence｜>",
    "<|file_separator|>",
    "<|fim_pad|>",
    "<|repo_name|>",
)


class HfVocab(PromptEncoder):
    """The vocabulary of a loaded Hugging Face (fast) tokenizer."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self._vocab: dict[str, int] = tokenizer.get_vocab()
        self.bos = self._id(tokenizer.bos_token_id)
        self.eos = self._id(tokenizer.eos_token_id)
        probe = tokenizer("a")["input_ids"]
        self.add_bos = self.bos >= 0 and probe[:1] == [self.bos]
        added: dict[int, Any] = dict(tokenizer.added_tokens_decoder)
        specials = [(t.content, i, t) for i, t in added.items() if t.special and t.content]
        self._specials = sorted(specials, key=lambda s: -len(s[0].encode("utf-8")))
        # Added tokens that are not special are matched even in plain text (as llama.cpp's
        # user-defined ones); marker-looking ones are cut so user text never forms them.
        self._protected = [
            t.content
            for t in added.values()
            if not t.special and len(t.content) > 1 and _MARKUP & set(t.content)
        ]
        self._special_ids = {i for _, i, _ in specials}
        self._named: dict[TokenName, int] = {"bos": self.bos, "eos": self.eos}
        for role, candidates in FIM_NAMES.items():
            self._named[role] = next(  # type: ignore[index]
                (self._vocab[c] for c in candidates if c in self._vocab), -1
            )
        self._known = {_norm(text) for text, _, _ in specials} | {
            _norm(self.token_text(t)) for t in self._named.values() if t >= 0
        }
        ends = {self.eos} | {self._vocab[n] for n in END_NAMES if n in self._vocab}
        self.end_ids = frozenset(t for t in ends if t >= 0)
        self._anchor = self._plain_raw("a")
        self._anchor_text = tokenizer.decode(
            self._anchor, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        self.space_prefix = self.piece(self._anchor[0]).startswith(" ")

    def _id(self, value: int | None) -> int:
        return int(value) if isinstance(value, int) and value >= 0 else -1

    # -- looking up ------------------------------------------------------------------

    def token_text(self, token: int) -> str:
        """The token's text as stored in the vocabulary (``▁<PRE>``, ``Ġhello``)."""
        text = self.tokenizer.convert_ids_to_tokens(token)
        return text if isinstance(text, str) else ""

    def piece(self, token: int) -> str:
        """The text a token stands for when decoded (a leading space kept)."""
        if token in self._special_ids:
            return self.token_text(token)
        return self.decode([token])

    def decode(self, tokens: Sequence[int]) -> str:
        """Text of generated tokens, as llama.cpp writes it: special tokens left out, and a
        SentencePiece leading space kept (decoded behind an anchor token, then cut off)."""
        text = self.tokenizer.decode(
            [*self._anchor, *tokens], skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        return text[len(self._anchor_text) :]

    def is_special(self, token: int) -> bool:
        """Whether the token is a special (control) token."""
        return token in self._special_ids

    def has_token(self, text: str) -> bool:
        """Whether a special token with this text (``▁`` and spaces ignored) exists."""
        return _norm(text) in self._known

    def pieces(self, tokens: Sequence[int]) -> list[TokenPiece]:
        """Each token with its bytes, for showing to a person."""
        return [TokenPiece(t, self.piece(t).encode("utf-8"), self.is_special(t)) for t in tokens]

    # -- tokenizing ------------------------------------------------------------------

    def _plain_raw(self, text: str) -> list[int]:
        return list(
            self.tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True)
        )

    def _strips(self, extra: Any) -> tuple[bool, bool]:
        """Whether an added token eats the whitespace before it, and after it."""
        return bool(extra.lstrip), bool(extra.rstrip)
