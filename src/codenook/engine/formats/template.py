"""A GGUF's own chat template (``tokenizer.chat_template``), rendered in a Jinja sandbox."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from codenook.engine.backend import Message
from codenook.engine.formats.messages import normalize
from codenook.engine.formats.prompt import Prompt, Segment, ctl, txt
from codenook.errors import GenerationError

if TYPE_CHECKING:
    from jinja2 import Template

log = logging.getLogger(__name__)

# Private-use characters: no template writes them, and trim filters leave them alone.
_MARK = "\ue000{}\ue001"
_MARK_RE = re.compile("\ue000(\\d+)\ue001")


def _raise(message: str) -> None:
    raise GenerationError(f"The model's chat template refused the conversation: {message}")


@functools.lru_cache(maxsize=8)
def _compiled(template: str) -> Template:
    """The template compiled once per source: compiling took most of a render's time."""
    # Imported here: only models with a template need Jinja, and every command starts faster.
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
    )
    env.globals["raise_exception"] = _raise
    return env.from_string(template)


def render_template(
    template: str,
    messages: Sequence[Message],
    *,
    bos_token: str = "",
    eos_token: str = "",
    add_generation_prompt: bool = True,
) -> str:
    """Render a GGUF's ``tokenizer.chat_template`` in a sandbox (the file is untrusted)."""
    try:
        return _compiled(template).render(
            messages=[{"role": m.role, "content": m.content} for m in messages],
            bos_token=bos_token,
            eos_token=eos_token,
            add_generation_prompt=add_generation_prompt,
        )
    except GenerationError:
        raise
    except Exception as exc:
        raise GenerationError(f"The model's chat template could not be rendered: {exc}") from exc


def template_prompt(
    template: str,
    messages: Sequence[Message],
    *,
    bos_token: str = "",
    eos_token: str = "",
    add_generation_prompt: bool = True,
) -> Prompt:
    """The template's prompt as segments: what the template wrote is control, the
    messages' words are content.

    The template is rendered twice: with the real messages (the exact text) and with a
    placeholder for each message's content (where the words go). Where the two cannot be
    lined up (a template that rewrites content beyond trimming), the whole prompt is
    control text, as llama.cpp would read it, and a warning says so.
    """
    messages = normalize(messages, answer=add_generation_prompt)
    kw = {
        "bos_token": bos_token,
        "eos_token": eos_token,
        "add_generation_prompt": add_generation_prompt,
    }
    text = render_template(template, messages, **kw)
    marked = [Message(m.role, _MARK.format(i)) for i, m in enumerate(messages)]
    try:
        skeleton = render_template(template, marked, **kw)
    except GenerationError:
        skeleton = ""
    segments = _align(text, skeleton, [m.content for m in messages])
    if segments is None:
        log.warning(
            "Cannot tell the chat template's own text from the messages; control strings "
            "inside messages will be read as control tokens."
        )
        return Prompt.control(text)
    return Prompt.of(segments)


def _align(text: str, skeleton: str, contents: list[str]) -> list[Segment] | None:
    """Segments of ``text`` from the placeholder rendering, or None if they do not match."""
    parts = _MARK_RE.split(skeleton)
    if len(parts) < 3:
        return None if contents and any(contents) else [ctl(text)]
    segs, pos = [ctl(parts[0])], len(parts[0])
    if not text.startswith(parts[0]):
        return None
    for n in range(1, len(parts), 2):
        content = contents[int(parts[n])]
        after = parts[n + 1]
        last = n + 2 >= len(parts)
        for candidate in dict.fromkeys(
            (content, content.strip(), content.rstrip(), content.lstrip())
        ):
            end = pos + len(candidate)
            if text.startswith(candidate, pos) and (
                text[end:] == after if last else text.startswith(after, end)
            ):
                break
        else:
            return None
        segs += [txt(candidate), ctl(after)]
        pos = end + len(after)
    return segs if pos == len(text) else None
