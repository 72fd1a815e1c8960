"""Which lines a change touched: ``git diff --unified=0 BASE...HEAD`` parsed into line sets.

Runs on the host (the sandbox has no git and no credentials), against a repository the service
does not trust: external diff drivers, textconv filters and fsmonitor hooks are disabled, and the
base is checked before it reaches git's command line.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from sandbox.errors import SandboxError

_BASE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/@{}^~-]{0,199}$")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_GIT_TIMEOUT_S = 60

ChangedLines = dict[str, set[int]]


class DiffError(SandboxError):
    """The base could not be compared with the checked-out tree."""

    code = "diff-failed"
    status = 422
    title = "Diff failed"


def check_base(base: str) -> str:
    """``base`` when it is a plain revision (no option, no whitespace, no path), else raise."""
    if not _BASE.match(base) or ".." in base.replace("...", "\0"):
        raise DiffError(f"not a usable git revision: {base!r}")
    return base


def git_diff(repo: Path, base: str) -> str:
    """The zero-context diff of HEAD against its merge base with ``base``."""
    command = [
        "git", "-C", str(repo),
        "-c", "core.fsmonitor=false", "-c", "core.quotePath=false", "-c", "diff.external=",
        "diff", "--unified=0", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames",
        "--diff-filter=AMRC", "--end-of-options", f"{check_base(base)}...HEAD",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=_GIT_TIMEOUT_S, check=False, text=True
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DiffError(f"git diff failed: {err}") from err
    if done.returncode != 0:
        raise DiffError(f"git diff {base}...HEAD failed: {done.stderr.strip()[:500]}")
    return done.stdout


def parse_diff(text: str) -> ChangedLines:
    """Added or modified line numbers (new side) per file; files with only deletions map to {}."""
    changed: ChangedLines = {}
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            current = _new_path(line[4:])
            if current is not None:
                changed.setdefault(current, set())
        elif line.startswith("@@") and current is not None:
            match = _HUNK.match(line)
            if match:
                start, count = int(match.group(1)), int(match.group(2) or "1")
                changed[current].update(range(start, start + count))
    return changed


def _new_path(spec: str) -> str | None:
    spec = spec.rstrip("\t")
    if spec == "/dev/null":
        return None
    if spec.startswith('"') and spec.endswith('"'):
        spec = _unquote(spec[1:-1])
    return spec[2:] if spec.startswith("b/") else spec


def _unquote(quoted: str) -> str:
    """Undo git's C-style path quoting (octal escapes are UTF-8 bytes)."""
    raw = quoted.encode("latin-1", "backslashreplace").decode("unicode_escape")
    return raw.encode("latin-1").decode("utf-8", "replace")


def changed_lines(repo: Path, base: str) -> ChangedLines:
    """Changed lines of every regular file that still exists in ``repo``.

    A symlink is never a changed file (not even one pointing at a file inside the checkout): the
    analyzers must not be led to read through it, and its target is reviewed under its own path.
    """
    changed = parse_diff(git_diff(repo, base))
    root = repo.resolve()
    return {path: lines for path, lines in changed.items() if _regular_inside(root, path)}


def _regular_inside(root: Path, path: str) -> bool:
    """``path`` is a regular file of the checkout: no symlink on the way, nothing outside it."""
    target = root / path
    if target.is_symlink() or not target.is_file():
        return False
    return target.resolve().is_relative_to(root)
