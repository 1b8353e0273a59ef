"""The transformers runtime's own paths beyond the shared contract suite."""

from __future__ import annotations

from dataclasses import replace

import pytest

from codenook.engine.backend import GenerationOptions
from codenook.engine.transformers_backend import TransformersBackend


def test_a_fim_fill_ends_where_the_suffix_is_written_again(
    transformers_backend: TransformersBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in llama.cpp's runtime: an instruct model that runs on past the gap is cut."""
    fim = replace(transformers_backend.formats, fill_format="starcoder")
    monkeypatch.setattr(transformers_backend.prompts, "formats", fim)
    monkeypatch.setattr(transformers_backend, "formats", fim)
    suffix = "    return total_of_all_values\n"
    run_on = ["    total_of_all_values = sum(xs)\n", "    return total_of_all_values\n", "x"]

    def scripted(tokens, options, result, cache_key, cancel):
        for k, piece in enumerate(run_on):
            yield piece, k

    monkeypatch.setattr(transformers_backend, "_generate", scripted)
    middle = "".join(transformers_backend.fill("def f(xs):\n", suffix, options=GenerationOptions()))
    assert middle == "    total_of_all_values = sum(xs)\n"
