"""Changed lines from real git repositories; hostile revisions never reach git."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.analysis.diffmap import DiffError, changed_lines, check_base, parse_diff
from tests.sandbox.analysis.conftest import git


def _commit(repo: Path, files: dict[str, str | None], message: str) -> None:
    for name, text in files.items():
        path = repo / name
        if text is None:
            git(repo, "rm", "-q", name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)


def test_added_modified_renamed_and_deleted_files(repo: Path) -> None:
    lines = "".join(f"line {n}\n" for n in range(1, 21))
    _commit(repo, {"a.py": lines, "gone.py": "x\n", "old/name.py": lines}, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    changed = lines.replace("line 3\n", "line three\n").replace("line 10\n", "")
    _commit(repo, {"a.py": changed + "line 21\nline 22\n", "gone.py": None, "new.py": "n\n"}, "c")
    git(repo, "mv", "old/name.py", "moved.py")
    _commit(repo, {"moved.py": lines.replace("line 5\n", "line five\n")}, "rename")
    assert changed_lines(repo, "main") == {"a.py": {3, 20, 21}, "new.py": {1}, "moved.py": {5}}


def test_pure_deletions_touch_no_line() -> None:
    text = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -4,2 +3,0 @@\n-a\n-b\n"
    assert parse_diff(text) == {"x.py": set()}


def test_quoted_unicode_and_spaced_paths() -> None:
    text = (
        'diff --git "a/caf\\303\\251.py" "b/caf\\303\\251.py"\n'
        '+++ "b/caf\\303\\251.py"\n@@ -0,0 +1,2 @@\n+x\n+y\n'
        "+++ b/with space.py\t\n@@ -1 +1 @@\n-a\n+b\n"
    )
    assert parse_diff(text) == {"café.py": {1, 2}, "with space.py": {1}}


@pytest.mark.parametrize(
    "base", ["--output=/tmp/x", "-p", "a b", "main..evil", "$(id)", "a;b", "", "x" * 300]
)
def test_hostile_revisions_are_refused(base: str) -> None:
    with pytest.raises(DiffError):
        check_base(base)


@pytest.mark.parametrize("base", ["main", "origin/main", "v1.2.3", "HEAD~3", "a1b2c3d", "main@{1}"])
def test_plain_revisions_pass(base: str) -> None:
    assert check_base(base) == base


def test_unknown_base_is_a_diff_error(repo: Path) -> None:
    _commit(repo, {"a.py": "x\n"}, "base")
    with pytest.raises(DiffError, match="no-such-branch"):
        changed_lines(repo, "no-such-branch")


def test_repository_diff_driver_is_not_run(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    git(repo, "config", "diff.external", f"touch {marker}; true")
    git(repo, "config", "diff.evil.textconv", f"touch {marker}; cat")
    (repo / ".gitattributes").write_text("*.py diff=evil\n")
    _commit(repo, {"a.py": "x\n", ".gitattributes": (repo / ".gitattributes").read_text()}, "b")
    git(repo, "checkout", "-q", "-b", "f")
    _commit(repo, {"a.py": "y\n"}, "c")
    assert changed_lines(repo, "main") == {"a.py": {1}}
    assert not marker.exists()


def test_symlinks_are_not_changed_files(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.py"
    outside.write_text("token = 1\n")
    _commit(repo, {"a.py": "x\n"}, "base")
    git(repo, "checkout", "-q", "-b", "f")
    (repo / "out.py").symlink_to(outside)
    (repo / "alias.py").symlink_to(repo / "a.py")
    (repo / "d").symlink_to(tmp_path)
    git(repo, "add", "out.py", "alias.py", "d")
    _commit(repo, {"a.py": "y\n"}, "links")
    assert changed_lines(repo, "main") == {"a.py": {1}}
