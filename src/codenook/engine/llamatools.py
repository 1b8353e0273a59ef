"""Where llama.cpp's own programs are: rpc-server, llama-server and llama-cli.

Built with the RPC backend from the llama.cpp vendored in the very llama-cpp-python
installed (``make llama-tools``, scripts/build-llama-tools.sh), into
``<venv>/share/codenook/llama-tools/bin``; ``CODENOOK_LLAMA_TOOLS`` points elsewhere.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path

from codenook.errors import ModelError

#: The environment variable that moves the tools' folder (the one holding bin/ and VERSION).
ENV = "CODENOOK_LLAMA_TOOLS"
#: The programs the make target builds.
TOOLS = ("rpc-server", "llama-server", "llama-cli")


def tools_folder() -> Path:
    """The folder the tools are built into (it may not exist yet)."""
    return Path(os.environ.get(ENV) or Path(sys.prefix) / "share/codenook/llama-tools")


def tool_path(name: str) -> Path:
    """The path of llama.cpp's program ``name``, or a ModelError naming the make target.

    The tools must come from the same llama.cpp as the llama-cpp-python installed (their
    VERSION stamp says which), so both ends of an RPC link speak the same protocol.
    """
    if name not in TOOLS:
        raise ValueError(f"unknown llama.cpp tool {name!r}; one of {', '.join(TOOLS)}")
    folder = tools_folder()
    version = importlib.metadata.version("llama-cpp-python")
    stamp = folder / "VERSION"
    found = stamp.read_text().strip() if stamp.is_file() else None
    path = folder / "bin" / name
    if found != version or not os.access(path, os.X_OK):
        why = f"they are for {found}" if found and found != version else "it is missing"
        raise ModelError(
            f"llama.cpp's {name} for llama-cpp-python {version} is not installed in "
            f"{folder / 'bin'} ({why}); run 'make llama-tools' in codenook's folder."
        )
    return path
