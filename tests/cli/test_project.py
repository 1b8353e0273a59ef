"""``codenook project`` and ``codenook context show`` in a subprocess, per user."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import PASSWORD, run_cli

FIXTURE_REPO = Path(__file__).resolve().parents[1] / "assist" / "project" / "fixture_repo"


def _ok(*args: str, env: dict | None = None) -> str:
    proc = run_cli(*args, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


def test_project_commands_and_context_show_for_one_user_only(account, tmp_path: Path) -> None:
    repo = tmp_path / "stockroom-repo"
    shutil.copytree(FIXTURE_REPO, repo)
    added = _ok("project", "add", str(repo), "--keyword-only")
    assert "stockroom-repo: 13 files indexed (13 read" in added
    assert "stockroom-repo" in _ok("project", "list")
    hits = json.loads(_ok("project", "search", "how are old backups rotated", "--json"))
    assert hits[0]["source"] == "scripts/backup.sh:15"
    assert hits[0]["file"] == str(repo / "scripts" / "backup.sh")
    assert "0 read, 13 unchanged" in _ok("project", "update", "--keyword-only")
    shown = _ok("context", "show", "How many backups are kept and how are old ones deleted?")
    assert "Context budget:" in shown
    assert "- passage scripts/backup.sh:15 function rotate_backups (" in shown
    assert "[scripts/backup.sh:15-20] function rotate_backups" in shown

    # Another user sees none of it, through any command.
    from codenook.auth import Auth
    from codenook.store.db import open_database

    db = open_database()
    auth = Auth(db)
    auth.create_user("bob", "pumpkin-harbor-31", by=auth.verify("tester", PASSWORD))
    db.close()
    bob = {"CODENOOK_USER": "bob", "CODENOOK_PASSWORD": "pumpkin-harbor-31"}
    assert "No projects yet" in _ok("project", "list", env=bob)
    assert json.loads(_ok("project", "search", "rotate backups", "--json", env=bob)) == []
    for action in ("update", "remove"):
        proc = run_cli("project", action, "stockroom-repo", env=bob)
        assert proc.returncode == 2
        assert b"No project 'stockroom-repo'" in proc.stderr
    assert "nothing would be added" in _ok("context", "show", "rotate backups", env=bob)
    # The owner still has it, and can remove it.
    assert "Removed project stockroom-repo" in _ok("project", "remove", "stockroom-repo")
    assert "No projects yet" in _ok("project", "list")


def test_a_missing_folder_is_one_line_and_exit_2(account, tmp_path: Path) -> None:
    proc = run_cli("project", "add", str(tmp_path / "gone"))
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert err.count("\n") == 0 and "is not a folder" in err
