"""A fixture repository with a distinctive style (own helpers, idioms) and a held-out part."""

from __future__ import annotations

import subprocess
from pathlib import Path

#: Every function body in the repository goes through these helpers, the idiom to learn.
_TEMPLATE = '''"""Quoll module {i}: {topic} records."""

from quollkit import qk_guard, qk_emit, qk_fold


def quoll_{name}_{i}(batch):
    """Fold the {topic} batch and emit it."""
    qk_guard(batch, "{topic}")
    total = qk_fold(batch, lambda acc, row: acc + row.{field})
    return qk_emit("{topic}", total)


def quoll_{name}_{i}_many(batches):
    """Each {topic} batch, folded and emitted."""
    qk_guard(batches, "{topic}s")
    return [quoll_{name}_{i}(b) for b in batches]
'''
TOPICS = [
    ("ledger", "amount"),
    ("sensor", "reading"),
    ("ticket", "price"),
    ("parcel", "weight"),
    ("invoice", "total"),
    ("voyage", "distance"),
    ("harvest", "yield_kg"),
    ("lesson", "minutes"),
]


def style_source(i: int) -> str:
    """The text of module ``i``: the repository's idiom around a topic."""
    topic, field = TOPICS[i % len(TOPICS)]
    return _TEMPLATE.format(i=i, topic=topic, name=topic[:4], field=field)


def make_style_repo(root: Path, *, modules: int = 24, heldout: int = 4, git: bool = True) -> Path:
    """Write the repository: ``modules`` files in quoll/, the last ``heldout`` in quoll/later/."""
    repo = root / "quollrepo"
    for i in range(modules):
        folder = repo / "quoll" / ("later" if i >= modules - heldout else "")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod_{i:02d}.py").write_text(style_source(i), encoding="utf-8")
    if git:
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    return repo


def seed_base(base: Path) -> None:
    """Let this test's CODENOOK_HOME find the prepared base (a link, not a second copy)."""
    from codenook import config

    cache = config.paths().cache / "tuning"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / base.name).symlink_to(base, target_is_directory=True)
