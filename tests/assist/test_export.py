"""Liked answers as chat-format training records, with planted secrets redacted."""

import json

from codenook.assist import interactions
from codenook.assist.export import liked_records, to_jsonl
from codenook.redact import PLACEHOLDER
from codenook.store import conversations as store

PW = "pumpkin-harbor-31"
SECRETS = [
    "hf_" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0UvWx",
    "sk-" + "Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji",
    "AKIA" + "ABCDEFGHIJKLMNOP",
    "ghp_" + "1234567890abcdefghijklmnopqrstuvwxyzAB",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n"
    "-----END RSA PRIVATE KEY-----",
]


def turn(db, user, cid: int, question: str, answer: str) -> int:
    store.add_message(db, user.id, cid, role="user", content=question)
    return store.add_message(db, user.id, cid, role="assistant", content=answer)


def test_liked_answers_become_records_with_secrets_redacted_and_counted(db, users) -> None:
    alice, bob = users
    cid = store.create_conversation(db, alice.id, title="t", system_prompt="Be a helper.")
    liked = turn(
        db, alice, cid, f"Why does {SECRETS[0]} fail with {SECRETS[1]}?", "Use os.environ."
    )
    disliked = turn(db, alice, cid, "And AWS?", f"Set {SECRETS[2]}.")
    plain = turn(db, alice, cid, "Unvoted?", "Yes.")
    liked2 = turn(
        db, alice, cid, "Deploy key?", f"git clone with {SECRETS[3]}\nkey:\n{SECRETS[4]}\nDone."
    )
    interactions.vote(db, alice, liked, "up")
    interactions.vote(db, alice, disliked, "down")
    interactions.vote(db, alice, liked2, "up")
    del plain

    records, redacted = liked_records(db, alice)
    assert redacted == 4
    assert records[0] == {
        "messages": [
            {"role": "system", "content": "Be a helper."},
            {"role": "user", "content": f"Why does {PLACEHOLDER} fail with {PLACEHOLDER}?"},
            {"role": "assistant", "content": "Use os.environ."},
        ]
    }
    assert records[1]["messages"][1]["content"] == "Deploy key?"
    assert records[1]["messages"][2]["content"] == (
        f"git clone with {PLACEHOLDER}\nkey:\n{PLACEHOLDER}\nDone."
    )
    text = to_jsonl(records)
    assert len(text.splitlines()) == 2
    assert [json.loads(line) for line in text.splitlines()] == records
    for secret in SECRETS:
        assert secret not in text
    assert liked_records(db, bob) == ([], 0)


def test_an_empty_answer_is_not_training_data(db, users) -> None:
    alice, _ = users
    cid = store.create_conversation(db, alice.id, title="t", system_prompt="s")
    empty = turn(db, alice, cid, "q", "")
    interactions.vote(db, alice, empty, "up")
    assert liked_records(db, alice) == ([], 0)
