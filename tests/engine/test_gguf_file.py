from pathlib import Path

import pytest

from codenook.engine.embedded import embedded_model_path
from codenook.engine.gguf_file import check_model_file, diagnose_load_failure
from codenook.errors import ModelError


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        check_model_file(tmp_path / "nope.gguf")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="is a folder"):
        check_model_file(tmp_path)


def test_text_file_renamed_gguf(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_text("hello, I am not a model\n")
    with pytest.raises(ModelError, match="not a GGUF model file"):
        check_model_file(fake)


def test_empty_file(tmp_path: Path) -> None:
    fake = tmp_path / "empty.gguf"
    fake.write_bytes(b"")
    with pytest.raises(ModelError, match="not a GGUF"):
        check_model_file(fake)


def test_real_model_passes() -> None:
    path = embedded_model_path()
    assert check_model_file(path) == path.resolve()


def test_truncated_file_is_diagnosed(tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    with embedded_model_path().open("rb") as f:
        cut.write_bytes(f.read(20_000_000))
    check_model_file(cut)  # the header alone looks fine ...
    message = diagnose_load_failure(cut)  # ... the tensor table shows what is missing
    assert "truncated" in message
    assert str(cut) in message
