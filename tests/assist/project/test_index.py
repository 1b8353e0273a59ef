"""The project index: what is read, what is skipped and counted, and what stays usable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from codenook.assist.project import index, search
from codenook.assist.project.index import ProjectError
from codenook.store import projects as store


def test_python_bash_docs_and_qa_are_chunked_with_lines_and_calls(db, users, repo: Path) -> None:
    alice, _ = users
    report = index.add(db, alice, repo, semantic=False)
    assert report.files == 13 and report.read == 13
    assert report.notes["bad_qa_lines"] == 1  # the one line of faq.jsonl that is not JSON
    p = store.find_project(db, alice.id, "stockroom-repo")
    chunks = {(c.path, c.name): c for c in store.definitions(db, alice.id, p.id)}
    load = chunks[("stockroom/config.py", "load_config")]
    assert (load.kind, load.start_line, load.end_line) == ("function", 23, 35)
    assert load.signature == "def load_config(path: Path) -> Config"
    assert "apply_environment" in load.calls.split()
    method = chunks[("stockroom/db.py", "Repository.remove_item")]
    assert (method.kind, method.start_line) == ("method", 42)
    assert "find_by_sku" in method.calls.split()
    rotate = chunks[("scripts/backup.sh", "rotate_backups")]
    assert (rotate.kind, rotate.start_line, rotate.end_line) == ("function", 15, 20)
    assert "xargs" in rotate.calls.split() and "local" not in rotate.calls.split()
    assert chunks[("scripts/deploy.sh", "sync_release")].start_line == 18
    env = chunks[("docs/install.md", "Stockroom > Configuration > Environment variables")]
    assert env.start_line == 20
    # A '#' line inside a fenced block is code, not a heading.
    assert not any("this comment" in name for _, name in chunks)
    assert chunks[("docs/architecture.rst", "Architecture > Backups")].start_line == 12
    qa = chunks[("docs/faq.jsonl", "How do I reset a staff password?")]
    assert qa.kind == "qa" and "hash_password" in qa.text


def test_update_reads_only_what_changed(db, users, repo: Path) -> None:
    alice, _ = users
    index.add(db, alice, repo, semantic=False)
    again = index.update(db, alice, "stockroom-repo", semantic=False)
    assert (again.read, again.unchanged, again.removed) == (0, 13, 0)
    # A new time with the same content: its hash says it is unchanged, nothing is parsed.
    os.utime(repo / "notes.txt", ns=(1, 1))
    same = index.update(db, alice, "stockroom-repo", semantic=False)
    assert (same.read, same.unchanged) == (0, 13)
    pricing = repo / "stockroom" / "pricing.py"
    pricing.write_text(
        pricing.read_text() + "\n\ndef surcharge(x: float) -> float:\n    return x\n"
    )
    (repo / "notes.txt").unlink()
    changed = index.update(db, alice, "stockroom-repo", semantic=False)
    assert (changed.read, changed.unchanged, changed.removed) == (1, 11, 1)
    hits = search.search(db, alice, "surcharge", method="keyword")
    assert hits[0].chunk.name == "surcharge" and hits[0].source == "stockroom/pricing.py:31"
    left = search.search(db, alice, "release checklist", method="keyword", limit=20)
    assert all(h.chunk.path != "notes.txt" for h in left)


def test_gitignore_vendored_binary_minified_and_large_are_skipped_and_counted(
    db, users, repo: Path
) -> None:
    alice, _ = users
    (repo / ".gitignore").write_text("secret_dir/\n*.log.txt\n")
    (repo / "secret_dir").mkdir()
    (repo / "secret_dir" / "hidden.py").write_text("def hidden_thing():\n    pass\n")
    (repo / "run.log.txt").write_text("ignored\n")
    (repo / "node_modules" / "pkg").mkdir(parents=True)
    (repo / "node_modules" / "pkg" / "x.py").write_text("def vendored_thing():\n    pass\n")
    (repo / "blob.py").write_bytes(b"\x00\x01\x02binary")
    (repo / "bundle.md").write_text("x" * 5000 + "\n")
    with open(repo / "huge.txt", "wb") as f:  # 50 MB, sparse: cheap to make
        f.truncate(50 * 1024 * 1024)
    (repo / "sub").mkdir()
    (repo / "sub" / ".gitignore").write_text("local.py\n")
    (repo / "sub" / "local.py").write_text("def local_only():\n    pass\n")
    (repo / "sub" / "kept.py").write_text("def kept_here():\n    pass\n")
    report = index.add(db, alice, repo, semantic=False)
    assert report.skipped["vendored"] == 1
    assert report.skipped["binary"] == 1
    assert report.skipped["minified"] == 1
    assert report.skipped["too_large"] == 1 and "huge.txt" in report.examples["too_large"]
    assert report.files == 14
    found = {
        h.chunk.name
        for h in search.search(
            db, alice, "hidden vendored local kept thing", method="keyword", limit=30
        )
    }
    assert "kept_here" in found
    assert not found & {"hidden_thing", "vendored_thing", "local_only"}


def test_a_git_work_tree_gives_its_tracked_and_unignored_files(db, users, repo: Path) -> None:
    alice, _ = users
    (repo / ".gitignore").write_text("build_out.py\n")
    (repo / "build_out.py").write_text("def generated_thing():\n    pass\n")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    report = index.add(db, alice, repo, semantic=False)
    # Nothing is committed: the untracked files that .gitignore does not name are taken.
    assert report.files == 13
    names = {h.chunk.name for h in search.search(db, alice, "generated thing", method="keyword")}
    assert "generated_thing" not in names


def test_bad_input_is_counted_and_the_index_stays_usable(db, users, repo: Path) -> None:
    alice, _ = users
    (repo / "latin1.md").write_bytes(
        "# Caf\xe9 menu\n\nThe kiosk sells caf\xe9.\n".encode("latin-1")
    )
    loop = repo / "docs" / "loop"
    loop.symlink_to(repo / "docs", target_is_directory=True)
    (repo / "self").symlink_to(repo / "self")
    gone = repo / "stockroom" / "export.py"
    turned = repo / "stockroom" / "auth.py"

    def before_read(path: Path) -> None:
        # Mid-index: one file vanishes, another becomes a folder (unreadable as a file).
        if path == gone:
            gone.unlink()
        if path == turned:
            turned.unlink()
            turned.mkdir()

    report = index.add(db, alice, repo, semantic=False, before_read=before_read)
    assert report.notes["not_utf8"] == 1
    assert report.skipped["symlink_loop"] >= 1
    assert report.skipped["vanished"] == 1
    assert report.skipped["unreadable"] == 1
    hits = search.search(db, alice, "kiosk menu", method="keyword")
    assert hits[0].chunk.path == "latin1.md"
    assert search.search(db, alice, "rotate backups", method="keyword")[0].chunk.name == (
        "rotate_backups"
    )
    # The folder vanishes: update says so, and the index is kept and still answers.
    moved = repo.with_name("moved")
    repo.rename(moved)
    with pytest.raises(ProjectError, match="is gone; its index is kept"):
        index.update(db, alice, "stockroom-repo", semantic=False)
    assert search.search(db, alice, "rotate backups", method="keyword")


def test_secrets_are_redacted_before_they_are_stored(db, users, repo: Path) -> None:
    alice, _ = users
    token = "hf_" + "a1B2c3D4e5" * 3
    (repo / "stockroom" / "keys.py").write_text(f'"""Keys."""\n\nHF_TOKEN = "{token}"\n')
    report = index.add(db, alice, repo, semantic=False)
    assert report.notes["secrets_redacted"] == 1
    dump = "\n".join(str(tuple(r)) for r in db.execute("SELECT * FROM project_chunks"))
    assert token not in dump
    assert token not in "".join(
        str(tuple(r)) for r in db.execute("SELECT * FROM project_chunks_fts")
    )


def test_other_users_projects_are_invisible(db, users, repo: Path) -> None:
    alice, bob = users
    index.add(db, alice, repo, semantic=False)
    assert store.list_projects(db, bob.id) == []
    assert search.search(db, bob, "rotate backups") == []
    with pytest.raises(ProjectError, match="No project"):
        index.update(db, bob, "stockroom-repo", semantic=False)
    with pytest.raises(ProjectError, match="No project"):
        index.remove(db, bob, "stockroom-repo")
    assert search.search(db, alice, "rotate backups", method="keyword")


def test_a_missing_folder_is_refused_with_one_line(db, users, tmp_path: Path) -> None:
    alice, _ = users
    with pytest.raises(ProjectError, match="is not a folder"):
        index.add(db, alice, tmp_path / "nope")
