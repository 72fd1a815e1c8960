"""Demo data for ``simulate --seed``: a repository with real commits and an open pull request."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from simulators.auth import demo_account_id
from simulators.bitbucket_cloud.routes_comments import add_comment
from simulators.bitbucket_cloud.routes_pullrequests import create_pullrequest
from simulators.bitbucket_cloud.state import CloudState

MAIN_FILES = {
    "README.md": "# Demo service\n\nA tiny service used by the simulator demo.\n",
    "src/app.py": 'def greet(name):\n    return "Hello " + name\n',
}
FEATURE_FILES = {
    "src/app.py": (
        'def greet(name: str) -> str:\n    """Greet someone."""\n    return f"Hello {name}"\n'
    ),
    "src/config.py": 'API_KEY = "not-a-real-secret"\nTIMEOUT_S = 30\n',
}


@dataclass(frozen=True)
class Seeded:
    """What ``seed_demo`` created."""

    full_name: str
    pr_id: int
    source_branch: str


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)  # noqa: S603, S607


def commit_files(work: Path, files: dict[str, str], message: str) -> None:
    """Write ``files`` into a work tree and commit them as the demo author."""
    for name, text in files.items():
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    _git(work, "add", "-A")
    _git(
        work,
        "-c",
        "user.name=Demo User",
        "-c",
        "user.email=demo@example.com",
        "commit",
        "-qm",
        message,
    )


def seed_demo(
    target: CloudState | FastAPI, workspace: str = "demo", slug: str = "demo-service"
) -> Seeded:
    """Create ``workspace/slug`` with commits on ``main`` and a feature branch, and an open PR."""
    state: CloudState = target.state.bitbucket if isinstance(target, FastAPI) else target
    repo = state.repos.get(f"{workspace}/{slug}") or state.create_repo(
        workspace, slug, description="Demo repository"
    )
    branch = "feature/greeting"
    if repo.git.resolve(branch) is None:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            _git(work, "init", "-q", "-b", repo.mainbranch)
            commit_files(work, MAIN_FILES, "Initial commit")
            _git(work, "checkout", "-qb", branch)
            commit_files(work, FEATURE_FILES, "Type hints for greet; add config")
            _git(work, "push", "-q", str(repo.git.path), repo.mainbranch, branch)
    author = demo_account_id(state.config)
    pr = create_pullrequest(
        state,
        repo,
        {
            "title": "Add type hints and config",
            "source": {"branch": {"name": branch}},
            "description": "Adds type hints to `greet` and a config module.",
        },
        author,
    )
    add_comment(state, pr, {"content": {"raw": "Looks good overall."}}, author)
    return Seeded(repo.full_name, pr.id, branch)
