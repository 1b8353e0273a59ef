"""Every prompt format by name."""

from __future__ import annotations

from codenook.engine.formats.chat import CHAT_FORMATS, ChatFormat
from codenook.engine.formats.fim import FILL_FORMATS, FillFormat
from codenook.errors import ConfigError


def format_names() -> list[str]:
    """Names of all formats: chat formats first, then fill-in-the-middle ones."""
    return [*CHAT_FORMATS, *FILL_FORMATS]


def all_formats() -> list[ChatFormat | FillFormat]:
    """All formats, chat first."""
    return [*CHAT_FORMATS.values(), *FILL_FORMATS.values()]


def _unknown(name: str, kind: str, known: list[str], hint: str = "") -> ConfigError:
    return ConfigError(
        f"Unknown {kind} format {name!r}{hint}; known: {', '.join(known)} (codenook prompt --list)."
    )


def get_format(name: str) -> ChatFormat | FillFormat:
    """The chat or fill-in-the-middle format called ``name``."""
    found = CHAT_FORMATS.get(name) or FILL_FORMATS.get(name)
    if found is None:
        raise _unknown(name, "prompt", format_names())
    return found


def chat_format(name: str) -> ChatFormat:
    """The chat format called ``name``; ConfigError naming the known ones if none."""
    if name not in CHAT_FORMATS:
        hint = " (that is a fill-in-the-middle format)" if name in FILL_FORMATS else ""
        raise _unknown(name, "chat", list(CHAT_FORMATS), hint)
    return CHAT_FORMATS[name]


def fill_format(name: str) -> FillFormat:
    """The fill-in-the-middle format called ``name``."""
    if name not in FILL_FORMATS:
        hint = " (that is a chat format)" if name in CHAT_FORMATS else ""
        raise _unknown(name, "fill-in-the-middle", list(FILL_FORMATS), hint)
    return FILL_FORMATS[name]
