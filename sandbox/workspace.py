"""Private copies of analysed trees: symlinks stay links, special files are skipped.

The copy is the only thing a sandboxed run may write, and it must never pull host files in:
links are recreated verbatim (a link to ``/etc/passwd`` resolves inside the sandbox, to the
sandbox's own root), FIFOs and device nodes are skipped (reading a FIFO would hang the copy).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

from sandbox.errors import SandboxError

WORKSPACE_PREFIX = "dcoder-ws-"


def new_workspace_dir(parent: Path | None = None) -> tuple[str, Path]:
    """A fresh, empty, private directory for one workspace, and its id."""
    ws_id = uuid.uuid4().hex[:12]
    base = Path(tempfile.mkdtemp(prefix=f"{WORKSPACE_PREFIX}{ws_id}-", dir=parent))
    return ws_id, base


def copy_tree(source: Path, dest: Path, exclude: Sequence[str] = (".git",)) -> int:
    """Copy ``source`` into the existing directory ``dest``; return the number of files copied."""
    if not source.is_dir():
        raise SandboxError(f"not a directory: {source}")
    copied = 0
    skip_top = set(exclude)
    for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
        rel = Path(dirpath).relative_to(source)
        if rel == Path("."):
            dirnames[:] = [d for d in dirnames if d not in skip_top]
            filenames = [f for f in filenames if f not in skip_top]
        target_dir = dest / rel
        for name in list(dirnames):
            src = Path(dirpath) / name
            if src.is_symlink():  # os.walk lists links to directories as directories
                os.symlink(os.readlink(src), target_dir / name)
                dirnames.remove(name)
                copied += 1
            else:
                (target_dir / name).mkdir(mode=0o755)
        for name in filenames:
            copied += _copy_entry(Path(dirpath) / name, target_dir / name)
    return copied


def _copy_entry(src: Path, dst: Path) -> int:
    mode = src.lstat().st_mode
    if stat.S_ISLNK(mode):
        os.symlink(os.readlink(src), dst)
        return 1
    if stat.S_ISREG(mode):
        shutil.copyfile(src, dst, follow_symlinks=False)
        os.chmod(dst, 0o755 if mode & stat.S_IXUSR else 0o644)
        return 1
    return 0  # FIFOs, sockets, devices: nothing an analyzer needs


def remove_tree(path: Path) -> None:
    """Remove a workspace, whatever a run left in it (links are removed, never followed)."""
    if not path.exists() and not path.is_symlink():
        return
    for dirpath, dirnames, _ in os.walk(path, followlinks=False):
        # A run may have made directories unreadable; give the owner back its rights.
        for name in dirnames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                os.chmod(full, 0o755)
    shutil.rmtree(path)
