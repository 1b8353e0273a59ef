"""Prompt formats: pure functions from messages to the exact text a model was trained on."""

from __future__ import annotations

from collections.abc import Sequence

from jinja2.sandbox import ImmutableSandboxedEnvironment

from codenook.engine.backend import Message
from codenook.errors import GenerationError


def render_chatml(messages: Sequence[Message], *, add_generation_prompt: bool = True) -> str:
    """ChatML (Qwen2.5, SmolLM2): ``<|im_start|>{role}\\n{content}<|im_end|>\\n`` per message."""
    text = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
    return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


def _raise(message: str) -> None:
    raise GenerationError(f"The model's chat template refused the conversation: {message}")


def render_template(
    template: str,
    messages: Sequence[Message],
    *,
    bos_token: str = "",
    eos_token: str = "",
    add_generation_prompt: bool = True,
) -> str:
    """Render a GGUF's ``tokenizer.chat_template`` in a sandbox (the file is untrusted)."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise
    try:
        return env.from_string(template).render(
            messages=[{"role": m.role, "content": m.content} for m in messages],
            bos_token=bos_token,
            eos_token=eos_token,
            add_generation_prompt=add_generation_prompt,
        )
    except GenerationError:
        raise
    except Exception as exc:
        raise GenerationError(f"The model's chat template could not be rendered: {exc}") from exc
