"""Real git repositories with pull requests in the Cloud and Data Center simulators."""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from plugins.bitbucket.events import RepoRef
from simulators.auth import Account, accounts
from tests.plugins.bitbucket.conftest import SimServer


@dataclass(frozen=True)
class Link:
    """A symbolic link committed as such (git stores the target, not the content)."""

    target: str


REVIEW_YAML = "severity_threshold: medium\nmax_comments: 5\nignore: [docs/]\n"
MAIN: dict[str, str | Link] = {
    "app.py": "import os\n\n\ndef main():\n    pass\n",
    ".dcoder/review.yaml": REVIEW_YAML,
}
FEATURE: dict[str, str | Link] = {
    "app.py": (
        "import os\nimport subprocess\n\n\ndef main():\n"
        '    subprocess.run(os.environ["CMD"], shell=True)\n'
    ),
    ".dcoder/review.yaml": "max_comments: 0\n",  # the PR tries to silence its own review
    "docs/notes.md": "notes\n",
}


def hostile(data_dir: Path) -> dict[str, str | Link]:
    """A pull request that attacks the reviewer: links out of the checkout (to /etc/passwd and to
    the host's data directory), a huge file, fork bombs where a build would run them, and its own
    ``.dcoder/review.yaml`` turning the review off (only the base branch's file counts)."""
    return FEATURE | {
        "passwd.py": Link("/etc/passwd"),
        "environ.py": Link("/proc/self/environ"),
        "hostdata": Link(str(data_dir)),
        "host_code.py": Link(str(data_dir / "secret.py")),  # flagged if it were ever followed
        "pkg/secrets.py": Link("../../../../../../../../etc/shadow"),
        "huge.py": ("# " + "x" * 97 + "\n") * 40_000,  # 4 MB: over semgrep's per-file bound
        "setup.py": "import os\n\nwhile True:\n    os.fork()\n",
        "setup.sh": ":(){ :|:& };:\n",
        "conftest.py": "import os\n\nwhile True:\n    os.fork()\n",
        ".dcoder/review.yaml": (
            "ignore: ['**']\nseverity_threshold: high\nfail_on: high\nmax_comments: 0\n"
            "analyzers: {semgrep: false, ruff: false, bandit: false, dataflow: false}\n"
        ),
    }


def account(sim: SimServer, username: str) -> Account:
    """One of the simulator's accounts (``dcoder-agent``, ``alice``, ``bob``, ...)."""
    return next(a for a in accounts(sim.config) if a.username == username)


def _git(cwd: Path, *args: str) -> str:
    ident = ["-c", "user.name=Alice", "-c", "user.email=alice@example.com"]
    done = subprocess.run(["git", *ident, *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _commit(work: Path, files: dict[str, str | Link], message: str) -> None:
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, Link):
            (work / name).symlink_to(text.target)
        else:
            (work / name).write_text(text)
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", message)


def push(
    bare: Path, branch: str, main: dict[str, str | Link], feature: dict[str, str | Link]
) -> None:
    """``main`` and ``branch`` (one commit on top, named after a Jira key) into a bare repo."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _git(work, "init", "-q", "-b", "main")
        _commit(work, main, "Initial commit")
        _git(work, "checkout", "-qb", branch)
        _commit(work, feature, "OPS-7 run the configured command")
        _git(work, "push", "-q", str(bare), "main", branch)


@dataclass(frozen=True)
class Made:
    """A repository with one open pull request."""

    repo: RepoRef
    pr_id: int
    branch: str


def cloud_pr(
    sim: SimServer, branch: str = "feature/SHOP-12-run", feature: dict[str, str | Link] = FEATURE
) -> Made:
    """A Cloud repository with an open pull request opened by Alice."""
    state = sim.mounted("/bitbucket").state.bitbucket
    ws, slug = "acme", "svc-" + uuid.uuid4().hex[:8]
    push(state.create_repo(ws, slug).git.path, branch, MAIN, feature)
    alice = account(sim, "alice")
    body = {
        "title": "SHOP-12 Run the configured command",
        "source": {"branch": {"name": branch}},
        "destination": {"branch": {"name": "main"}},
    }
    with httpx.Client(auth=(alice.email, alice.api_token), timeout=10) as http:
        made = http.post(
            f"{sim.url}/bitbucket/2.0/repositories/{ws}/{slug}/pullrequests", json=body
        )
    assert made.status_code == 201, made.text
    return Made(RepoRef(owner=ws, slug=slug), made.json()["id"], branch)


def dc_pr(
    sim: SimServer, branch: str = "feature/SHOP-12-run", feature: dict[str, str | Link] = FEATURE
) -> Made:
    """A Data Center repository with an open pull request opened by Alice."""
    state = sim.mounted("/bitbucket-dc").state.bitbucket_dc
    project, slug = "SHOP", "svc-" + uuid.uuid4().hex[:8]
    push(state.create_repo(project, slug).git.path, branch, MAIN, feature)
    alice = account(sim, "alice")
    body = {
        "title": "SHOP-12 Run the configured command",
        "fromRef": {"id": f"refs/heads/{branch}"},
        "toRef": {"id": "refs/heads/main"},
    }
    url = f"{sim.url}/bitbucket-dc/rest/api/1.0/projects/{project}/repos/{slug}/pull-requests"
    with httpx.Client(headers={"Authorization": f"Bearer {alice.pat}"}, timeout=10) as http:
        made = http.post(url, json=body)
    assert made.status_code == 201, made.text
    return Made(RepoRef(owner=project, slug=slug), made.json()["id"], branch)
