"""Whether PyTorch is here: it is an optional part of codenook.

The transformers runtime, tuning, and converting Hugging Face folders or Meta checkpoints run
on PyTorch, which is large (a CUDA build is several GB). It comes with the ``torch`` extra
(``make setup`` installs it) or, from the Debian package, with ``codenook-torch``. Without it
codenook runs GGUF models on llama.cpp, and each place that needs PyTorch says so in one line.
"""

from __future__ import annotations

import importlib.util

from codenook.errors import ModelError

#: The modules the PyTorch part needs; tuning adds peft.
PACKAGES = ("torch", "transformers")
INSTALL_HINT = (
    "install the codenook-torch package (sudo apt install codenook-torch) or, "
    "in codenook's folder, run 'make setup'"
)


def missing(packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """The modules of ``packages`` that cannot be imported here."""
    return [name for name in packages if importlib.util.find_spec(name) is None]


def require(what: str, packages: tuple[str, ...] = PACKAGES) -> None:
    """Raise a ModelError naming what is missing, for ``what`` (e.g. "Tuning"), if anything is."""
    gone = missing(packages)
    if gone:
        raise ModelError(f"{what} needs PyTorch ({', '.join(gone)} not installed): {INSTALL_HINT}.")
