"""Which formats a GGUF model wants, from its metadata and vocabulary.

Chat: the settings' format if they name one; else the file's own ``tokenizer.chat_template``;
else the format of the model family its name and architecture tell. Fill-in-the-middle:
offered only where the vocabulary holds a format's marker tokens; without them a model
completes through an instruction prompt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from codenook.engine.formats.fim import FILL_FORMATS
from codenook.engine.formats.registry import chat_format as lookup_chat_format

#: The chat format each family was trained on (when its file carries no template).
FAMILY_CHAT = {
    "codellama": "codellama-instruct",
    "llama2": "codellama-instruct",
    "mistral": "mistral-instruct",
    "codestral": "mistral-instruct",
    "deepseek-coder": "deepseek-coder-instruct",
    "qwen": "chatml",
    "qwen-coder": "chatml",
    "smollm": "chatml",
    "llama3": "llama3",
}

#: Fill formats tried in order; the suffix-first CodeLlama variant is never guessed.
_AUTO_FILL = [name for name in FILL_FORMATS if name != "codellama-spm"]

ChatSource = Literal["settings", "model file", "model family", "guess"]


@dataclass(frozen=True)
class FormatChoice:
    """The formats chosen for one model, and why."""

    family: str
    #: Built-in chat format in use, or the one the file's template looks like (None: unknown).
    chat_format: str | None
    #: Whether the file's own chat template renders the prompt.
    use_template: bool
    chat_source: ChatSource
    fill_format: str | None

    def describe_chat(self) -> str:
        """One line for ``codenook info``."""
        if self.use_template:
            like = f", {self.chat_format}" if self.chat_format else ""
            return f"the model file's own template{like}"
        return {
            "settings": f"{self.chat_format} (named by --format or model.chat_format)",
            "model family": f"{self.chat_format} (model family {self.family})",
            "guess": f"{self.chat_format} (a guess: the file names no template or known family)",
        }.get(self.chat_source, str(self.chat_format))

    def describe_fill(self) -> str:
        """One line for ``codenook info``."""
        if self.fill_format:
            return f"{self.fill_format} (fill-in-the-middle tokens in the vocabulary)"
        return "none: no fill-in-the-middle tokens, completion goes through an instruction prompt"


def _compact(text: str) -> str:
    return re.sub(r"[\s_\-.]+", "", text.lower())


def detect_family(metadata: Mapping[str, str]) -> str:
    """The model family from ``general.*`` names, the architecture and the pre-tokenizer."""
    arch = metadata.get("general.architecture", "").lower()
    keys = ("general.name", "general.basename", "general.finetune")
    name = _compact(" ".join(metadata.get(k, "") for k in keys))
    pre = metadata.get("tokenizer.ggml.pre", "")
    rules: list[tuple[bool, str]] = [
        ("codellama" in name, "codellama"),
        ("codestral" in name, "codestral"),
        (("deepseek" in name and "coder" in name) or pre == "deepseek-coder", "deepseek-coder"),
        ("qwen" in name and "coder" in name, "qwen-coder"),
        ("qwen" in name or arch.startswith("qwen"), "qwen"),
        ("starcoder" in name or arch.startswith("starcoder"), "starcoder"),
        ("smollm" in name or pre == "smollm", "smollm"),
        ("mistral" in name or "mixtral" in name, "mistral"),
        ("llama3" in name or pre == "llama-bpe", "llama3"),
        (arch == "llama" and "llama" in name, "llama2"),
    ]
    return next((family for hit, family in rules if hit), "unknown")


def template_style(template: str) -> str | None:
    """The built-in chat format a chat template writes, judged by its markers."""
    markers = [
        ("<|im_start|>", "chatml"),
        ("<|start_header_id|>", "llama3"),
        ("<<SYS>>", "codellama-instruct"),
        ("[INST]", "mistral-instruct"),
        ("### Instruction:", "deepseek-coder-instruct"),
    ]
    return next((name for marker, name in markers if marker in template), None)


def detect_fill_format(has_token: Callable[[str], bool]) -> str | None:
    """The fill-in-the-middle format whose marker tokens are all in the vocabulary."""
    for name in _AUTO_FILL:
        if all(has_token(marker) for marker in FILL_FORMATS[name].markers):
            return name
    return None


def choose_formats(
    metadata: Mapping[str, str],
    *,
    has_token: Callable[[str], bool],
    chat_format: str | None = None,
) -> FormatChoice:
    """Pick the chat and fill formats for a model (``chat_format`` from the settings wins)."""
    family = detect_family(metadata)
    fill = detect_fill_format(has_token)
    if chat_format:
        return FormatChoice(family, lookup_chat_format(chat_format).name, False, "settings", fill)
    template = metadata.get("tokenizer.chat_template")
    if template:
        style = template_style(template) or FAMILY_CHAT.get(family)
        return FormatChoice(family, style, True, "model file", fill)
    if family in FAMILY_CHAT:
        return FormatChoice(family, FAMILY_CHAT[family], False, "model family", fill)
    return FormatChoice(family, "chatml", False, "guess", fill)
