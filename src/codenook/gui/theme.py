"""Light and dark palettes, and Pygments colours for code."""

from __future__ import annotations

from dataclasses import dataclass

from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES

from codenook.gui.markdown import token_tag


@dataclass(frozen=True)
class Theme:
    """Colours for one theme."""

    name: str
    bg: str
    fg: str
    panel: str
    input_bg: str
    muted: str
    accent: str
    user_bg: str
    code_bg: str
    pygments: str


THEMES = {
    "light": Theme(
        "light",
        "#ffffff",
        "#1f2328",
        "#f3f4f6",
        "#ffffff",
        "#6b7280",
        "#2563eb",
        "#eef2ff",
        "#f6f8fa",
        "default",
    ),
    "dark": Theme(
        "dark",
        "#1e1f22",
        "#e6e6e6",
        "#2b2d31",
        "#26282c",
        "#9ca3af",
        "#60a5fa",
        "#2a3142",
        "#16171a",
        "monokai",
    ),
}


def code_colours(theme: Theme) -> dict[str, dict[str, str]]:
    """Tk tag options for every Pygments token type in the theme's style."""
    style = get_style_by_name(theme.pygments)
    out: dict[str, dict[str, str]] = {}
    for ttype in STANDARD_TYPES:
        spec = style.style_for_token(ttype)
        opts = {"foreground": f"#{spec['color']}" if spec["color"] else theme.fg}
        out[token_tag(ttype)] = opts
    return out
