"""Fill-in-the-middle formats: the text before and after the gap in, the prompt out.

The markers are named special tokens, so a tokenizer uses the vocabulary's own ids for
them; the model writes the middle after the prompt and stops at a stop string or an
end-of-generation token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from codenook.engine.formats.prompt import Prompt, tok, txt

FillRenderer = Callable[[str, str], Prompt]


@dataclass(frozen=True)
class FillFormat:
    """A named fill-in-the-middle format."""

    name: str
    description: str
    renderer: FillRenderer
    stop: tuple[str, ...]
    #: Token texts the vocabulary must hold for the model to know this format.
    markers: tuple[str, ...]

    kind = "fim"

    def render(self, prefix: str, suffix: str) -> Prompt:
        """The prompt that asks for the text between ``prefix`` and ``suffix``."""
        return self.renderer(prefix, suffix)

    def text(self, prefix: str, suffix: str) -> str:
        """The exact prompt string."""
        return self.render(prefix, suffix).text


def _codellama(prefix: str, suffix: str) -> Prompt:
    # Meta's infilling_prompt_tokens: the prefix is encoded as usual (SentencePiece puts
    # the space shown after <PRE> in front of it), the suffix without that space (glued).
    return Prompt.of(
        [
            tok("<PRE> ", "fim_pre"),
            txt(prefix),
            tok(" <SUF>", "fim_suf"),
            txt(suffix, glued=True),
            tok(" <MID>", "fim_mid"),
        ]
    )


def _codellama_spm(prefix: str, suffix: str) -> Prompt:
    return Prompt.of(
        [
            tok("<PRE>", "fim_pre"),
            tok(" <SUF>", "fim_suf"),
            txt(suffix, glued=True),
            tok(" <MID> ", "fim_mid"),
            txt(prefix),
        ]
    )


def _psm(pre: str, suf: str, mid: str) -> FillRenderer:
    """A prefix-suffix-middle renderer with the given marker tokens."""

    def render(prefix: str, suffix: str) -> Prompt:
        return Prompt.of(
            [
                tok(pre, "fim_pre"),
                txt(prefix),
                tok(suf, "fim_suf"),
                txt(suffix),
                tok(mid, "fim_mid"),
            ]
        )

    return render


def _codestral(prefix: str, suffix: str) -> Prompt:
    # Mistral's FIM puts the suffix first and lets the model continue the prefix.
    return Prompt.of(
        [tok("[SUFFIX]", "fim_suf"), txt(suffix), tok("[PREFIX]", "fim_pre"), txt(prefix)]
    )


_QWEN = ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>")
_STARCODER = ("<fim_prefix>", "<fim_suffix>", "<fim_middle>")
_DEEPSEEK = ("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>")

FILL_FORMATS: dict[str, FillFormat] = {
    f.name: f
    for f in (
        FillFormat(
            "codellama",
            "CodeLlama 7B/13B infilling: <PRE> {prefix} <SUF>{suffix} <MID>",
            _codellama,
            ("<EOT>",),
            ("<PRE>", "<SUF>", "<MID>"),
        ),
        FillFormat(
            "codellama-spm",
            "CodeLlama infilling, suffix first: <PRE> <SUF>{suffix} <MID> {prefix}",
            _codellama_spm,
            ("<EOT>",),
            ("<PRE>", "<SUF>", "<MID>"),
        ),
        FillFormat(
            "qwen2.5-coder",
            "Qwen2.5-Coder (base models): <|fim_prefix|>{p}<|fim_suffix|>{s}<|fim_middle|>",
            _psm(*_QWEN),
            (
                "<|endoftext|>",
                "<|fim_prefix|>",
                "<|fim_suffix|>",
                "<|fim_middle|>",
                "<|fim_pad|>",
                "<|repo_name|>",
                "<|file_sep|>",
                "<|im_start|>",
                "<|im_end|>",
            ),
            _QWEN,
        ),
        FillFormat(
            "starcoder",
            "StarCoder/StarCoder2: <fim_prefix>{p}<fim_suffix>{s}<fim_middle>",
            _psm(*_STARCODER),
            ("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
            _STARCODER,
        ),
        FillFormat(
            "deepseek-coder",
            "DeepSeek-Coder: <｜fim▁begin｜>{p}<｜fim▁hole｜>{s}<｜fim▁end｜>",
            _psm(*_DEEPSEEK),
            ("<｜end▁of▁sentence｜>", *_DEEPSEEK, "<|EOT|>"),
            _DEEPSEEK,
        ),
        FillFormat(
            "codestral",
            "Codestral: [SUFFIX]{s}[PREFIX]{p}",
            _codestral,
            ("</s>", "[SUFFIX]", "[PREFIX]", "[MIDDLE]"),
            ("[SUFFIX]", "[PREFIX]"),
        ),
    )
}
