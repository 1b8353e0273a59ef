"""``codenook models import``: a Hugging Face folder or Meta's checkpoint becomes a GGUF file
in the weights folder, registered with its SHA-256 and the prompt formats it will get."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codenook.engine import convert, meta_checkpoint, runtimes
from codenook.engine.model_hash import sha256_of
from codenook.errors import ModelError
from codenook.library import manager, registry


@dataclass(frozen=True)
class Imported:
    """What an import made."""

    model: registry.InstalledModel
    chat_format: str
    fill_format: str


def import_folder(
    folder: str | Path,
    *,
    quant: str = convert.DEFAULT_QUANT,
    name: str | None = None,
    on_step: Callable[[str], None] | None = None,
    on_layer: Callable[[int, int], None] | None = None,
) -> Imported:
    """Convert ``folder`` to ``NAME.QUANT.gguf`` in the weights folder and register it.

    ``on_step`` hears each phase; ``on_layer(done, total)`` the layers of a Meta conversion.
    """
    from codenook.engine.prompts import PromptModel

    say = on_step or (lambda _: None)
    location = runtimes.inspect(str(folder))
    if location.layout not in ("hf", "meta"):
        raise ModelError(
            f"{location.path} is {runtimes.LAYOUT_WORDS[location.layout]}; 'models import' "
            "takes a Hugging Face model folder or Meta's checkpoint folder."
        )
    source = Path(location.path)
    hf = source
    if location.layout == "meta":
        say(f"reading Meta's checkpoint {source.name} (once; kept in the cache)")
        hf = meta_checkpoint.convert(source, on_progress=on_layer)
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", name or source.name).strip("-.") or "model"
    out = manager.weights_folder() / f"{base}.{quant.upper()}.gguf"
    convert.to_gguf(hf, out, quant=quant, on_progress=say, label=str(source))
    say("computing its SHA-256")
    entry = registry.register_file(out, source=f"import {source}", sha256=sha256_of(out))
    with PromptModel.open(out) as prompts:
        chat = prompts.formats.describe_chat()
        fill = prompts.formats.describe_fill()
    return Imported(entry, chat, fill)
