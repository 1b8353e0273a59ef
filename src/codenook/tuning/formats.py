"""The base model's own formats for training samples (FIM, chat) and its token count."""

from __future__ import annotations

from codenook.engine.formats import fill_format
from codenook.engine.prompts import PromptModel
from codenook.tuning.dataset import Formats


def formats_for(prompts: PromptModel) -> Formats:
    """Sample formats from a model's prompt model: FIM only where the model has a format."""
    fill = None
    if prompts.formats.fill_format:
        fmt = fill_format(prompts.formats.fill_format)

        def fill(prefix: str, suffix: str) -> str:
            return fmt.render(prefix, suffix).text

    end = prompts.chat_stop()

    def chat(messages: list[dict[str, str]]) -> tuple[str, str]:
        from codenook.engine.backend import Message

        turns = [Message(m["role"], m["content"]) for m in messages[:-1]]
        return prompts.chat_prompt(turns).text, messages[-1]["content"] + (end[0] if end else "")

    def count(text: str) -> int:
        return len(prompts.tokenize(text))

    return Formats(fill=fill, chat=chat, count=count)
