"""Bare git repositories on disk, driven through the ``git`` CLI (used by both Bitbucket fakes)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

MergeStrategy = Literal["merge_commit", "squash", "fast_forward"]
_STATUS = {
    "A": "added",
    "D": "removed",
    "M": "modified",
    "R": "renamed",
    "C": "added",
    "T": "modified",
}


class GitError(RuntimeError):
    """A git command failed (message carries git's stderr)."""


@dataclass(frozen=True)
class FileChange:
    """One file of a diff between two commits."""

    status: str  # added | removed | modified | renamed
    old_path: str | None
    new_path: str | None
    lines_added: int
    lines_removed: int


@dataclass(frozen=True)
class CommitInfo:
    """What the REST APIs show of a commit."""

    hash: str
    author_name: str
    author_email: str
    date: str  # ISO-8601
    message: str
    parents: tuple[str, ...]


class GitRepo:
    """One bare repository; methods run git synchronously (async code calls them in a thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def git(
        self, *args: str, ok_codes: tuple[int, ...] = (0,), env: dict[str, str] | None = None
    ) -> str:
        """Run ``git <args>`` in the repository and return stdout."""
        run_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
        proc = subprocess.run(  # noqa: S603 - fixed executable, arguments never go through a shell
            ["git", "-C", str(self.path), *args], capture_output=True, env=run_env, check=False
        )
        if proc.returncode not in ok_codes:
            raise GitError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout.decode(errors="replace")

    @classmethod
    def init_bare(cls, path: Path, default_branch: str = "main") -> GitRepo:
        """Create (or reopen) a bare repository that accepts pushes over smart HTTP."""
        repo = cls(path)
        if not (path / "HEAD").exists():
            path.mkdir(parents=True, exist_ok=True)
            repo.git("init", "--bare", "-q", "-b", default_branch)
            repo.git("config", "http.receivepack", "true")
        return repo

    def resolve(self, ref: str) -> str | None:
        """Full hash of a branch name, ref or (abbreviated) commit; None when unknown."""
        for candidate in (f"refs/heads/{ref}", ref):
            out = self.git(
                "rev-parse", "-q", "--verify", f"{candidate}^{{commit}}", ok_codes=(0, 1)
            )
            if out.strip():
                return out.strip()
        return None

    def blob(self, rev: str, path: str) -> bytes | None:
        """The bytes of file ``path`` at commit ``rev``; None when it is not a file there."""
        spec = f"{rev}:{path.strip('/')}"
        kind = self.git("cat-file", "-t", spec, ok_codes=(0, 1, 128)).strip()
        if kind != "blob":
            return None
        proc = subprocess.run(  # noqa: S603 - fixed executable, no shell
            ["git", "-C", str(self.path), "cat-file", "blob", spec],
            capture_output=True,
            check=False,
        )
        return proc.stdout if proc.returncode == 0 else None

    def branches(self) -> dict[str, str]:
        """Branch name -> head commit hash."""
        out = self.git("for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads")
        return dict(line.split(" ", 1) for line in out.splitlines() if line)

    def merge_base(self, a: str, b: str) -> str:
        """Best common ancestor of two commits (``b`` itself when unrelated histories fail)."""
        return self.git("merge-base", a, b, ok_codes=(0, 1)).strip() or b

    def diff(self, base: str, head: str) -> str:
        """Unified diff (``git diff base head``), renames detected."""
        return self.git("diff", "--no-color", "--no-ext-diff", "-M", base, head)

    def changes(self, base: str, head: str) -> list[FileChange]:
        """Per-file status and line counts between two commits."""
        status = self.git("diff", "-M", "-z", "--name-status", base, head).split("\0")
        numstat = self.git("diff", "-M", "-z", "--numstat", base, head).split("\0")
        counts: list[tuple[int, int]] = []
        i = 0
        while i < len(numstat) and numstat[i]:
            plus, minus, name = numstat[i].split("\t", 2)
            counts.append((int(plus) if plus != "-" else 0, int(minus) if minus != "-" else 0))
            i += 3 if name == "" else 1  # a rename is "a\tr\t" then old and new as own fields
        result: list[FileChange] = []
        j = 0
        while j < len(status) and status[j]:
            code = status[j][0]
            old: str | None
            new: str | None
            if code in "RC":
                old, new, j = status[j + 1], status[j + 2], j + 3
            else:
                path, j = status[j + 1], j + 2
                old = None if code == "A" else path
                new = None if code == "D" else path
            added, removed = counts[len(result)]
            result.append(FileChange(_STATUS.get(code, "modified"), old, new, added, removed))
        return result

    def commit_info(self, rev: str) -> CommitInfo:
        """Author, date, message and parents of one commit."""
        out = self.git("show", "-s", "--format=%H%x00%an%x00%ae%x00%aI%x00%P%x00%B", rev)
        hash_, name, email, date, parents, message = out.split("\0", 5)
        return CommitInfo(hash_, name, email, date, message.strip(), tuple(parents.split()))

    def log(self, head: str, exclude: str) -> list[CommitInfo]:
        """Commits reachable from ``head`` but not ``exclude``, newest first."""
        hashes = self.git("rev-list", head, f"^{exclude}").split()
        return [self.commit_info(h) for h in hashes]

    def merge(
        self,
        source: str,
        dest_branch: str,
        strategy: MergeStrategy,
        message: str,
        author: tuple[str, str],
    ) -> str:
        """Merge ``source`` into ``dest_branch`` without a work tree; returns the new head."""
        dest = self.resolve(dest_branch)
        if dest is None:
            raise GitError(f"unknown branch {dest_branch}")
        if strategy == "fast_forward":
            if self.merge_base(source, dest) != dest:
                raise GitError("destination is not an ancestor of the source: cannot fast-forward")
            new = source
        else:
            try:  # exit code 1 means conflicts
                tree_id = self.git("merge-tree", "--write-tree", dest, source).split()[0]
            except GitError as err:
                raise GitError("merge conflict") from err
            parents = ["-p", dest] + ([] if strategy == "squash" else ["-p", source])
            name, email = author
            ident = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email}
            ident |= {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
            new = self.git("commit-tree", tree_id, *parents, "-m", message, env=ident).strip()
        self.git("update-ref", f"refs/heads/{dest_branch}", new, dest)
        return new

    def delete_branch(self, branch: str) -> None:
        """Remove a branch (after a merge that closes the source branch)."""
        self.git("update-ref", "-d", f"refs/heads/{branch}")
