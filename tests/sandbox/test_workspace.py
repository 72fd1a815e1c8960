"""Workspace copies: links stay links, special files and excluded names stay out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox.errors import SandboxError
from sandbox.workspace import copy_tree, new_workspace_dir, remove_tree


def test_copy_keeps_links_as_links_and_skips_special_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "mod.py").write_text("x = 1\n")
    (src / "run.sh").write_text("#!/bin/sh\n")
    (src / "run.sh").chmod(0o700)
    (src / "passwd").symlink_to("/etc/passwd")
    (src / "outside").symlink_to(tmp_path)  # a link to a directory outside the tree
    os.mkfifo(src / "pipe")
    (src / ".git").mkdir()
    (src / ".git" / "config").write_text("[http]\n\textraHeader = Authorization: secret\n")
    dest = tmp_path / "dest"
    dest.mkdir()

    copied = copy_tree(src, dest)

    assert copied == 4
    assert (dest / "pkg" / "mod.py").read_text() == "x = 1\n"
    assert os.access(dest / "run.sh", os.X_OK)
    assert os.readlink(dest / "passwd") == "/etc/passwd"
    assert os.readlink(dest / "outside") == str(tmp_path)
    assert not (dest / "pipe").exists()
    assert not (dest / ".git").exists()


def test_copy_refuses_a_missing_tree(tmp_path: Path) -> None:
    with pytest.raises(SandboxError):
        copy_tree(tmp_path / "nope", tmp_path)


def test_remove_never_follows_links_and_handles_locked_dirs(tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "file").write_text("stay")
    _, base = new_workspace_dir(tmp_path)
    (base / "link").symlink_to(keep)
    (base / "locked" / "deep").mkdir(parents=True)
    (base / "locked").chmod(0)

    remove_tree(base)

    assert not base.exists()
    assert (keep / "file").read_text() == "stay"
