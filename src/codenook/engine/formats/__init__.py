"""Prompt formats: pure functions from messages (or a prefix and suffix) to the exact text
a model was trained on, as segments that keep the format's markers apart from user text."""

from codenook.engine.formats.chat import CHAT_FORMATS, ChatFormat, render_chatml
from codenook.engine.formats.detect import (
    FormatChoice,
    choose_formats,
    detect_family,
    detect_fill_format,
    template_style,
)
from codenook.engine.formats.fim import FILL_FORMATS, FillFormat
from codenook.engine.formats.messages import MERGE_SEPARATOR, normalize
from codenook.engine.formats.prompt import Prompt, Segment, TokenName, ctl, tok, txt
from codenook.engine.formats.registry import (
    all_formats,
    chat_format,
    fill_format,
    format_names,
    get_format,
)
from codenook.engine.formats.template import render_template, template_prompt

__all__ = [
    "CHAT_FORMATS",
    "FILL_FORMATS",
    "MERGE_SEPARATOR",
    "ChatFormat",
    "FillFormat",
    "FormatChoice",
    "Prompt",
    "Segment",
    "TokenName",
    "all_formats",
    "chat_format",
    "choose_formats",
    "ctl",
    "detect_family",
    "detect_fill_format",
    "fill_format",
    "format_names",
    "get_format",
    "normalize",
    "render_chatml",
    "render_template",
    "template_prompt",
    "template_style",
    "tok",
    "txt",
]
