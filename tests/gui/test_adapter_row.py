"""The adapter row's line: an adapter's before/after figures as the library keeps them."""

from __future__ import annotations

from pathlib import Path

from codenook.gui.adapter_row import describe
from codenook.library import registry


def test_an_adapter_is_listed_with_its_perplexity_and_fim_before_and_after(tmp_path: Path) -> None:
    kept = registry.InstalledAdapter(
        name="quoll",
        path=str(tmp_path / "adapter.gguf"),
        peft=str(tmp_path / "peft"),
        base_name="smollm2-135m-instruct",
        base_sha256="0" * 64,
        added=1.0,
        ppl_before=22.61,
        ppl_after=3.14,
        fim_tasks=3,
        fim_exact_before=1,
        fim_exact_after=2,
        fim_similarity_before=0.4125,
        fim_similarity_after=0.6333,
        eval_before=4,
        eval_after=5,
    )
    registry.register_adapter(kept)
    [loaded] = registry.load_adapters()
    assert loaded == kept  # every figure survives the TOML file
    assert describe(loaded) == (
        "quoll (for smollm2-135m-instruct; held-out perplexity 22.6 → 3.1; "
        "fim exact 1/3 → 2/3, similarity 0.41 → 0.63; eval runs 4, 5)"
    )
    # An adapter from before the fim figures (or trained with --fim-tasks 0): perplexity only.
    bare = registry.InstalledAdapter("old", "a.gguf", "p", "base.gguf", "1" * 64, 1.0, 9.0, 8.0)
    assert describe(bare) == "old (for base.gguf; held-out perplexity 9.0 → 8.0)"
    assert describe(registry.InstalledAdapter("new", "a", "p", "b", "2" * 64, 1.0)) == "new (for b)"
