"""Secret redaction, shared by the error log and the training-data export."""

import pytest

from codenook import redact as redact_module
from codenook.redact import PLACEHOLDER, redact, secret_values

HF = "hf_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3f"
SK = "sk-proj-" + "Ab12Cd34Ef56Gh78Ij90Kl12Mn34"
AWS = "AKIA" + "IOSFODNN7EXAMPLE"
GH = "ghp_" + "0123456789abcdefghijABCDEFGHIJklmnopqr"
PEM = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "-----END OPENSSH PRIVATE KEY-----"
)


@pytest.mark.parametrize("secret", [HF, SK, AWS, GH, PEM, "sk-ant-" + "x" * 30])
def test_each_kind_of_secret_is_replaced_and_counted(secret: str) -> None:
    text, count = redact(f"before {secret} after")
    assert secret not in text
    assert text == f"before {PLACEHOLDER} after"
    assert count == 1


def test_several_secrets_are_all_counted() -> None:
    text, count = redact(f"{HF}\n{SK} and {AWS}; key:\n{PEM}\n{GH}")
    assert count == 5
    assert text.count(PLACEHOLDER) == 5
    for s in (HF, SK, AWS, GH, "PRIVATE KEY"):
        assert s not in text


def test_a_cut_off_private_key_is_redacted_to_the_end() -> None:
    text, count = redact("key: -----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAKC")
    assert (text, count) == (f"key: {PLACEHOLDER}", 1)


def test_ordinary_code_is_left_alone() -> None:
    code = (
        "import sklearn  # sk-learn\nrisk-assessment-framework-version-two = 1\n"
        "hf_model = 'gpt2'\nAKIA = 3\n-----BEGIN PUBLIC KEY-----\n"
    )
    assert redact(code) == (code, 0)


def test_the_password_in_the_environment_is_a_secret(monkeypatch) -> None:
    monkeypatch.setenv("CODENOOK_PASSWORD", "tulip-orbit-77")
    assert secret_values() == ["tulip-orbit-77"]
    assert redact("login tulip-orbit-77 twice tulip-orbit-77") == (
        f"login {PLACEHOLDER} twice {PLACEHOLDER}",
        2,
    )
    assert redact("tulip-orbit-77", literals=()) == ("tulip-orbit-77", 0)


def test_hf_token_is_a_secret_however_short(monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "abc12")
    monkeypatch.setenv("CODENOOK_PASSWORD", "pw")  # too short to blank words safely
    assert secret_values() == ["abc12"]
    assert redact("my token is abc12, ok") == (f"my token is {PLACEHOLDER}, ok", 1)
    assert redact("pw: pw") == ("pw: pw", 0)


def test_a_stored_token_is_registered_whatever_its_length(monkeypatch) -> None:
    monkeypatch.setattr(redact_module, "_registered", set())
    redact_module.register_secret("xy9")  # an API key that short: a word more likely
    assert redact("xy9") == ("xy9", 0)
    redact_module.register_secret("xy9\n", any_length=True)
    assert redact("the token xy9 here") == (f"the token {PLACEHOLDER} here", 1)
