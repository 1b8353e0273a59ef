"""Chat formats, each written from its model maker's reference, with parsers where exact.

Every renderer checks the conversation with ``messages.normalize`` first (errors, or the
documented merge of same-role runs), then writes the format's markers as control
segments and the messages' words as content segments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codenook.engine.backend import Message
from codenook.engine.formats.messages import normalize, split_system
from codenook.engine.formats.prompt import Prompt, Segment, ctl, tok, txt
from codenook.errors import GenerationError

Renderer = Callable[[Sequence[Message], bool], Prompt]
Parser = Callable[[Prompt | str], list[Message]]


@dataclass(frozen=True)
class ChatFormat:
    """A named chat format: how messages become a prompt, and where answers stop."""

    name: str
    description: str
    renderer: Renderer
    stop: tuple[str, ...]
    parser: Parser | None = None

    kind = "chat"

    def render(self, messages: Sequence[Message], *, add_generation_prompt: bool = True) -> Prompt:
        """The prompt for ``messages``, ending where the answer starts if asked to."""
        return self.renderer(messages, add_generation_prompt)

    def text(self, messages: Sequence[Message], *, add_generation_prompt: bool = True) -> str:
        """The exact prompt string for ``messages``."""
        return self.render(messages, add_generation_prompt=add_generation_prompt).text

    def parse(self, prompt: Prompt | str) -> list[Message]:
        """Recover the messages from a rendered prompt (segments are exact; a string is
        exact when no message contains the format's markers)."""
        if self.parser is None:
            raise GenerationError(f"The {self.name} format has no parser.")
        return self.parser(prompt)


# -- parsing helpers -------------------------------------------------------------------


def _items(source: Prompt | str, lexeme: re.Pattern[str]) -> list[str]:
    """Alternating [content, marker, content, ..., content] from a prompt.

    In a string every match of ``lexeme`` is a marker; in a Prompt only control
    segments are searched, so a marker typed inside a message stays content.
    """
    if isinstance(source, str):
        return lexeme.split(source)
    items = [""]
    groups: list[tuple[bool, str]] = []
    for seg in source:
        if groups and groups[-1][0] == seg.control:
            groups[-1] = (seg.control, groups[-1][1] + seg.text)
        else:
            groups.append((seg.control, seg.text))
    for control, text in groups:
        if not control:
            items[-1] += text
            continue
        for i, part in enumerate(lexeme.split(text)):
            if i % 2:
                items += [part, ""]
            else:
                # Control text that is no marker: a renderer bug the parse will reveal.
                items[-1] += part
    return items


class _Reader:
    """Walks the alternating items of ``_items``."""

    def __init__(self, items: list[str], name: str) -> None:
        self.items, self.i, self.name = items, 0, name

    def fail(self, why: str) -> GenerationError:
        return GenerationError(f"Not a {self.name} prompt: {why}.")

    def done(self) -> bool:
        return self.i >= len(self.items)

    def text(self) -> str:
        value = self.items[self.i]
        self.i += 1
        return value

    def empty(self) -> None:
        if self.text():
            raise self.fail(f"unexpected text before marker {self.i // 2 + 1}")

    def mark(self) -> str | None:
        if self.done():
            return None
        return self.text()

    def peek(self) -> str | None:
        return self.items[self.i] if self.i < len(self.items) else None

    def expect(self, marker: str) -> None:
        got = self.mark()
        if got != marker:
            raise self.fail(f"expected {marker!r}, found {got!r}")


# -- ChatML (Qwen2.5, SmolLM2) -----------------------------------------------------------


def _chatml(messages: Sequence[Message], add_generation_prompt: bool) -> Prompt:
    segs: list[Segment] = []
    for m in normalize(messages, answer=add_generation_prompt):
        segs += [ctl(f"<|im_start|>{m.role}\n"), txt(m.content), ctl("<|im_end|>\n")]
    if add_generation_prompt:
        segs.append(ctl("<|im_start|>assistant\n"))
    return Prompt.of(segs)


_CHATML_LEX = re.compile(r"(<\|im_start\|>(?:system|user|assistant)\n|<\|im_end\|>\n)")


def _parse_chatml(source: Prompt | str) -> list[Message]:
    r = _Reader(_items(source, _CHATML_LEX), "ChatML")
    r.empty()
    out: list[Message] = []
    while not r.done():
        start = r.mark() or ""
        role = start[len("<|im_start|>") : -1]
        if not start.startswith("<|im_start|>"):
            raise r.fail(f"expected '<|im_start|>', found {start!r}")
        content = r.text()
        if r.done():
            if role != "assistant" or content:
                raise r.fail("the prompt ends inside a message")
            break
        r.expect("<|im_end|>\n")
        r.empty()
        out.append(Message(role, content))  # type: ignore[arg-type]
    return out


def render_chatml(messages: Sequence[Message], *, add_generation_prompt: bool = True) -> str:
    """ChatML (Qwen2.5, SmolLM2): ``<|im_start|>{role}\\n{content}<|im_end|>\\n`` per message."""
    return _chatml(messages, add_generation_prompt).text


# -- CodeLlama-Instruct (Meta's llama/generation.py, also Llama 2 chat) ------------------

B_SYS, E_SYS = "<<SYS>>\n", "\n<</SYS>>\n\n"


def _codellama_instruct(messages: Sequence[Message], add_generation_prompt: bool) -> Prompt:
    system, turns = split_system(normalize(messages, answer=add_generation_prompt))
    segs: list[Segment] = []
    for n in range(0, len(turns), 2):
        user = turns[n].content
        segs += [tok("<s>", "bos"), ctl("[INST] ")]
        if n == 0 and system is not None:
            # Meta merges the system prompt into the first user message, then strips the
            # whole: the system text keeps its spaces, the user text loses trailing ones,
            # and with an empty user text the strip eats E_SYS's closing newlines too.
            user = user.rstrip()
            segs += [ctl(B_SYS), txt(system), ctl(E_SYS if user else E_SYS.rstrip())]
        else:
            user = user.strip()
        segs += [txt(user), ctl(" [/INST]")]
        if n + 1 < len(turns):
            segs += [ctl(" "), txt(turns[n + 1].content.strip()), ctl(" "), tok("</s>", "eos")]
    return Prompt.of(segs)


_CODELLAMA_LEX = re.compile(r"(<s>\[INST\] |<<SYS>>\n|\n<</SYS>>(?:\n\n)?| \[/INST\] ?| </s>)")


def _parse_codellama_instruct(source: Prompt | str) -> list[Message]:
    r = _Reader(_items(source, _CODELLAMA_LEX), "CodeLlama-Instruct")
    r.empty()
    out: list[Message] = []
    while not r.done():
        r.expect("<s>[INST] ")
        user = r.text()
        if not out and not user and r.peek() == B_SYS:
            r.expect(B_SYS)
            out.append(Message("system", r.text()))
            end = r.mark()
            if end == E_SYS:
                user = r.text()
            elif end == E_SYS.rstrip():
                r.empty()
            else:
                raise r.fail(f"expected '<</SYS>>', found {end!r}")
        out.append(Message("user", user))
        end = r.mark()
        if end == " [/INST]":
            r.empty()
            if not r.done():
                raise r.fail("text after the open turn")
            break
        if end != " [/INST] ":
            raise r.fail(f"expected ' [/INST]', found {end!r}")
        out.append(Message("assistant", r.text()))
        r.expect(" </s>")
        r.empty()
    return out


# -- Mistral-Instruct v0.1 (the model's own chat template) -------------------------------


def _mistral_instruct(messages: Sequence[Message], add_generation_prompt: bool) -> Prompt:
    system, turns = split_system(normalize(messages, answer=add_generation_prompt))
    segs: list[Segment] = [tok("<s>", "bos")]
    for n, m in enumerate(turns):
        if m.role == "user":
            # No system role: its text opens the first user message.
            text = f"{system}\n\n{m.content}" if n == 0 and system is not None else m.content
            segs += [ctl("[INST] "), txt(text), ctl(" [/INST]")]
        else:
            segs += [txt(m.content), tok("</s>", "eos")]
    return Prompt.of(segs)


_MISTRAL_LEX = re.compile(r"(<s>|\[INST\] | \[/INST\]|</s>)")


def _parse_mistral_instruct(source: Prompt | str) -> list[Message]:
    # The system text was merged into the first user message; it comes back as user text.
    r = _Reader(_items(source, _MISTRAL_LEX), "Mistral-Instruct")
    r.empty()
    r.expect("<s>")
    r.empty()
    out: list[Message] = []
    while not r.done():
        r.expect("[INST] ")
        out.append(Message("user", r.text()))
        r.expect(" [/INST]")
        answer = r.text()
        end = r.mark()
        if end is None:
            if answer:
                raise r.fail("the answer is not closed by '</s>'")
            break
        if end != "</s>":
            raise r.fail(f"expected '</s>', found {end!r}")
        out.append(Message("assistant", answer))
        r.empty()
    return out


# -- Llama 3 (Meta's llama3 ChatFormat) --------------------------------------------------


def _llama3(messages: Sequence[Message], add_generation_prompt: bool) -> Prompt:
    segs: list[Segment] = [tok("<|begin_of_text|>", "bos")]
    for m in normalize(messages, answer=add_generation_prompt):
        segs += [
            ctl(f"<|start_header_id|>{m.role}<|end_header_id|>\n\n"),
            txt(m.content.strip()),
            ctl("<|eot_id|>"),
        ]
    if add_generation_prompt:
        segs.append(ctl("<|start_header_id|>assistant<|end_header_id|>\n\n"))
    return Prompt.of(segs)


_LLAMA3_LEX = re.compile(
    r"(<\|begin_of_text\|>|<\|start_header_id\|>(?:system|user|assistant)<\|end_header_id\|>\n\n"
    r"|<\|eot_id\|>)"
)


def _parse_llama3(source: Prompt | str) -> list[Message]:
    r = _Reader(_items(source, _LLAMA3_LEX), "Llama 3")
    r.empty()
    r.expect("<|begin_of_text|>")
    r.empty()
    out: list[Message] = []
    while not r.done():
        head = r.mark() or ""
        role = head[len("<|start_header_id|>") : -len("<|end_header_id|>\n\n")]
        content = r.text()
        if r.done():
            if role != "assistant" or content:
                raise r.fail("the prompt ends inside a message")
            break
        r.expect("<|eot_id|>")
        r.empty()
        out.append(Message(role, content))  # type: ignore[arg-type]
    return out


# -- DeepSeek-Coder-Instruct (the model's own chat template) -----------------------------

DEEPSEEK_SYSTEM = (
    "You are an AI programming assistant, utilizing the Deepseek Coder model, developed by "
    "Deepseek Company, and you only answer questions related to computer science. For "
    "politically sensitive questions, security and privacy issues, and other non-computer "
    "science questions, you will refuse to answer\n"
)


def _deepseek_instruct(messages: Sequence[Message], add_generation_prompt: bool) -> Prompt:
    system, turns = split_system(normalize(messages, answer=add_generation_prompt))
    # As in DeepSeek's template: its own system prompt when none is given, and a given
    # one is written as is, with no newline added after it.
    segs: list[Segment] = [tok("<｜begin▁of▁sentence｜>", "bos")]
    segs.append(ctl(DEEPSEEK_SYSTEM) if system is None else txt(system))
    for m in turns:
        if m.role == "user":
            segs += [ctl("### Instruction:\n"), txt(m.content), ctl("\n")]
        else:
            segs += [ctl("### Response:\n"), txt(m.content), ctl("\n<|EOT|>\n")]
    if add_generation_prompt:
        segs.append(ctl("### Response:"))
    return Prompt.of(segs)


CHAT_FORMATS: dict[str, ChatFormat] = {
    f.name: f
    for f in (
        ChatFormat(
            "chatml",
            "ChatML: Qwen2.5(-Coder)-Instruct, SmolLM2 and many others",
            _chatml,
            ("<|im_end|>",),
            _parse_chatml,
        ),
        ChatFormat(
            "codellama-instruct",
            "CodeLlama-Instruct and Llama 2 chat: <s>[INST] <<SYS>>...<</SYS>> ... [/INST]",
            _codellama_instruct,
            ("</s>",),
            _parse_codellama_instruct,
        ),
        ChatFormat(
            "mistral-instruct",
            "Mistral-7B-Instruct v0.1/v0.2: <s>[INST] ... [/INST]...</s>, no system role",
            _mistral_instruct,
            ("</s>",),
            _parse_mistral_instruct,
        ),
        ChatFormat(
            "deepseek-coder-instruct",
            "DeepSeek-Coder-Instruct: ### Instruction: / ### Response: ... <|EOT|>",
            _deepseek_instruct,
            ("<|EOT|>",),
        ),
        ChatFormat(
            "llama3",
            "Llama 3 Instruct: <|start_header_id|>role<|end_header_id|> ... <|eot_id|>",
            _llama3,
            ("<|eot_id|>",),
            _parse_llama3,
        ),
    )
}
