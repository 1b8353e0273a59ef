"""A llama.cpp vocabulary: rendered prompts to token ids, special tokens only where the
format put them, and BOS exactly once.

llama.cpp can parse special tokens in a whole string or nowhere. Parsing everywhere lets
a pasted ``<|im_end|>`` end the user's turn; parsing nowhere loses the format's own
markers. So this does llama.cpp's own special-token split on the format's control text
only, and tokenizes the text between special tokens (format text and user text together,
so token boundaries are the ones llama.cpp would choose) with parsing off.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import llama_cpp

from codenook.engine.formats import Prompt, TokenName

_SPECIAL = (
    llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
    | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED
    | llama_cpp.LLAMA_TOKEN_ATTR_UNKNOWN
)
# ASCII whitespace, as C's isspace() that llama.cpp's lstrip/rstrip attributes use.
_SPACE = " \t\n\r\v\f"
# Put in front of text that must not get SentencePiece's leading space; never merges with
# what follows, so its tokens can be cut off again.
_GLUE = "\n"
# Characters of marker-looking tokens (<|EOT|>, [PAD1]); plain user-defined tokens such
# as single letters or runs of spaces are left to the tokenizer.
_MARKUP = set("<>[]|｜")


def _norm(text: str) -> str:
    """Token text compared loosely: SentencePiece's ``▁`` read as a space, ends stripped."""
    return text.replace("▁", " ").strip()


@dataclass(frozen=True)
class TokenPiece:
    """One token of a prompt, for showing to a person."""

    id: int
    #: The bytes it decodes to (a token may hold part of a UTF-8 character).
    data: bytes
    special: bool

    @property
    def text(self) -> str:
        """The decoded text, with partial characters as ``\\xNN`` escapes."""
        return self.data.decode("utf-8", "backslashreplace")


class PromptEncoder:
    """Prompts to token ids the way llama.cpp does it, for any tokenizer underneath.

    A subclass gives the vocabulary: ``bos``, ``add_bos``, ``_specials`` (text, id, and
    what ``_strips`` reads), ``_protected``, ``_named``, ``token_text``, ``_plain_raw`` and
    ``space_prefix``. Both runtimes then feed the same ids for the same prompt.
    """

    bos: int
    add_bos: bool
    space_prefix: bool
    _specials: list[tuple[str, int, Any]]
    _protected: list[str]
    _named: dict[TokenName, int]

    def token_text(self, token: int) -> str:
        """The token's text as stored in the vocabulary."""
        raise NotImplementedError

    def _plain_raw(self, text: str) -> list[int]:
        raise NotImplementedError

    def _strips(self, extra: Any) -> tuple[bool, bool]:
        raise NotImplementedError

    def encode(self, prompt: Prompt | str) -> list[int]:
        """Token ids for a prompt; a plain string is all control text (the old behaviour)."""
        if isinstance(prompt, str):
            prompt = Prompt.control(prompt)
        out: list[int] = []
        run: list[tuple[str, bool]] = []  # (text, glued) between two special tokens

        def flush() -> None:
            out.extend(self._encode_run(run))
            run.clear()

        for seg in prompt:
            if seg.token is not None:
                token = self._named_token(seg.token, seg.text)
                if token is not None:
                    flush()
                    out.append(token)
                    continue
            if seg.control:
                for fragment in self._partition(seg.text):
                    if isinstance(fragment, int):
                        flush()
                        out.append(fragment)
                    else:
                        run.append((fragment, False))
            else:
                run.append((seg.text, seg.glued))
        flush()
        return self._one_bos(out)

    def _one_bos(self, tokens: list[int]) -> list[int]:
        """BOS exactly once where the model wants it: a prompt that starts with it keeps it."""
        if self.bos < 0:
            return tokens
        while len(tokens) >= 2 and tokens[0] == tokens[1] == self.bos:
            del tokens[0]
        if self.add_bos and (not tokens or tokens[0] != self.bos):
            tokens.insert(0, self.bos)
        return tokens

    def _named_token(self, name: TokenName, shown: str) -> int | None:
        """The vocabulary's id for a named token, if its text is the one the format shows."""
        token = self._named.get(name, -1)
        if token < 0 or _norm(self.token_text(token)) != _norm(shown):
            return None
        return token

    def _partition(self, text: str) -> list[str | int]:
        """Split control text at special tokens, as llama.cpp does with parsing on."""
        fragments: list[str | int] = [text]
        for special, token, extra in self._specials:
            lstrip, rstrip = self._strips(extra)
            if not any(isinstance(f, str) and special in f for f in fragments):
                continue
            split: list[str | int] = []
            for fragment in fragments:
                if isinstance(fragment, int) or special not in fragment:
                    split.append(fragment)
                    continue
                parts = fragment.split(special)
                for k, part in enumerate(parts):
                    if k:
                        split.append(token)
                    if lstrip and k < len(parts) - 1:
                        part = part.rstrip(_SPACE)
                    if rstrip and k:
                        part = part.lstrip(_SPACE)
                    if part:
                        split.append(part)
            fragments = split
        return fragments

    def _encode_run(self, run: list[tuple[str, bool]]) -> list[int]:
        """Tokens for the text between two special tokens, with no special token parsed."""
        text = "".join(t for t, _ in run)
        if not text:
            return []
        # A user-defined marker (DeepSeek's <|EOT|>) is matched even with parsing off, so
        # every occurrence is cut after its first character; no piece then holds one.
        cuts: set[int] = set()
        for marker in self._protected:
            at = text.find(marker)
            while at >= 0:
                cuts.add(at + 1)
                at = text.find(marker, at + 1)
        bounds = [0, *sorted(cuts), len(text)]
        out: list[int] = []
        for k in range(len(bounds) - 1):
            out += self._plain(text[bounds[k] : bounds[k + 1]], glued=run[0][1] if k == 0 else True)
        return out

    def _plain(self, text: str, *, glued: bool) -> list[int]:
        """Tokens for plain text; ``glued`` text gets no SentencePiece leading space."""
        if not glued or not self.space_prefix:
            return self._plain_raw(text)
        head = self._plain_raw(_GLUE)
        tokens = self._plain_raw(_GLUE + text)
        if tokens[: len(head)] == head:
            return tokens[len(head) :]
        return self._plain_raw(text)


class Vocab(PromptEncoder):
    """The vocabulary of a loaded ``llama_cpp.Llama`` (a full model or ``vocab_only``)."""

    def __init__(self, llm: llama_cpp.Llama) -> None:
        self._llm = llm
        self._vocab = vocab = llm._model.vocab
        self.bos = int(llama_cpp.llama_vocab_bos(vocab))
        self.eos = int(llama_cpp.llama_vocab_eos(vocab))
        self.add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
        specials: list[tuple[str, int, int]] = []
        for token in range(llama_cpp.llama_vocab_n_tokens(vocab)):
            attr = llama_cpp.llama_vocab_get_attr(vocab, token)
            if attr & _SPECIAL:
                specials.append((self.token_text(token), token, attr))
        # llama.cpp splits on the longest special tokens first.
        self._specials = sorted(specials, key=lambda s: -len(s[0].encode("utf-8")))
        user_defined = llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED
        # Tokens llama.cpp matches even with parsing off: user-defined, not control.
        self._protected = [
            text
            for text, _, attr in specials
            if attr & user_defined
            and not attr & (llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_UNKNOWN)
            and len(text) > 1
            and _MARKUP & set(text)
        ]
        self._named: dict[TokenName, int] = {
            "bos": self.bos,
            "eos": self.eos,
            "fim_pre": int(llama_cpp.llama_vocab_fim_pre(vocab)),
            "fim_suf": int(llama_cpp.llama_vocab_fim_suf(vocab)),
            "fim_mid": int(llama_cpp.llama_vocab_fim_mid(vocab)),
        }
        self._known = {_norm(text) for text, _, _ in specials} | {
            _norm(self.token_text(t)) for t in self._named.values() if t >= 0
        }
        # SentencePiece vocabularies put a space before text that starts a fragment.
        self.space_prefix = self.piece(self._plain_raw("a")[0]).startswith(" ")

    # -- looking up ------------------------------------------------------------------

    def token_text(self, token: int) -> str:
        """The token's text as stored in the vocabulary (``▁<PRE>``, ``Ġhello``)."""
        raw = llama_cpp.llama_vocab_get_text(self._vocab, token)
        return raw.decode("utf-8", "replace") if raw else ""

    def piece_bytes(self, token: int, *, special: bool = True) -> bytes:
        """The bytes a token stands for when decoded (may be part of a UTF-8 character)."""
        size = 64
        while True:
            buf = ctypes.create_string_buffer(size)
            n = llama_cpp.llama_token_to_piece(self._vocab, token, buf, size, 0, special)
            if n >= 0:
                return buf.raw[:n]
            size = -n

    def piece(self, token: int, *, special: bool = True) -> str:
        """The text a token stands for when decoded."""
        return self.piece_bytes(token, special=special).decode("utf-8", "replace")

    def is_special(self, token: int) -> bool:
        """Whether the token is a control token or a marker-like user-defined one."""
        attr = llama_cpp.llama_vocab_get_attr(self._vocab, token)
        control = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_UNKNOWN
        return bool(attr & control) or self.token_text(token) in self._protected

    def control_tokens(self) -> frozenset[int]:
        """Ids of the control tokens (format markers: ``<|fim_pad|>``, ``<|file_sep|>``)."""
        control = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
        return frozenset(token for _, token, attr in self._specials if attr & control)

    def has_token(self, text: str) -> bool:
        """Whether a special token with this text (``▁`` and spaces ignored) exists."""
        return _norm(text) in self._known

    def pieces(self, tokens: Sequence[int]) -> list[TokenPiece]:
        """Each token with its bytes, for ``codenook prompt --tokens``."""
        return [TokenPiece(t, self.piece_bytes(t), self.is_special(t)) for t in tokens]

    # -- tokenizing ------------------------------------------------------------------

    def _plain_raw(self, text: str) -> list[int]:
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def _strips(self, extra: int) -> tuple[bool, bool]:
        """Whether a special token eats the whitespace before it, and after it."""
        return (
            bool(extra & llama_cpp.LLAMA_TOKEN_ATTR_LSTRIP),
            bool(extra & llama_cpp.LLAMA_TOKEN_ATTR_RSTRIP),
        )
