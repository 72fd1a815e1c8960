"""Checkouts over real smart HTTP with a bearer token that must never reach the workspace."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from pydantic import SecretStr

from sandbox.checkout import fetch_checkout
from sandbox.errors import SandboxError
from sandbox.workspace import copy_tree
from simulators.git_http import serve_git

TOKEN = "s3cr3t-token-for-tests"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A smart-HTTP git server demanding the bearer token; yields (repo URL, head commit)."""
    root = tmp_path_factory.mktemp("git-root")
    work = root / "work"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    (work / "app.py").write_text("print('hello')\n")
    _git(work, "add", ".")
    _git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    _git(root, "clone", "-q", "--bare", str(work), "repo.git")
    app = FastAPI()

    @app.get("/moved/{path:path}")  # a redirect to the repository (the fetch must not follow)
    async def moved(path: str, request: Request) -> Response:
        target = f"/{path}?{request.url.query}" if request.url.query else f"/{path}"
        return Response(status_code=302, headers={"Location": target})

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def git(path: str, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Response(status_code=401, headers={"WWW-Authenticate": 'Basic realm="git"'})
        return await serve_git(request, root, "/" + path)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/repo.git", _git(work, "rev-parse", "HEAD")
    server.should_exit = True
    thread.join(timeout=5)


def test_fetch_with_token_leaves_no_credential(git_server: tuple[str, str], tmp_path: Path) -> None:
    url, head = git_server
    dest = tmp_path / "checkout"
    header = SecretStr(f"Authorization: Bearer {TOKEN}")

    commit = fetch_checkout(url, "main", dest, auth_header=header)

    assert commit == head
    assert (dest / "app.py").read_text() == "print('hello')\n"
    for path in (dest / ".git").rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    assert "url" not in (dest / ".git" / "config").read_text()
    workspace = tmp_path / "ws"
    workspace.mkdir()
    copy_tree(dest, workspace)
    assert sorted(p.name for p in workspace.iterdir()) == ["app.py"]


def test_fetch_without_token_is_refused(git_server: tuple[str, str], tmp_path: Path) -> None:
    url, _ = git_server
    with pytest.raises(SandboxError, match="git fetch failed"):
        fetch_checkout(url, "main", tmp_path / "checkout")


def _pinned(port: int) -> dict[str, str]:
    return {
        "http.curloptResolve": f"git.invalid:{port}:127.0.0.1",
        "http.followRedirects": "false",
    }


def test_fetch_pinned_to_an_address_connects_there_without_resolving(
    git_server: tuple[str, str], tmp_path: Path
) -> None:
    url, head = git_server
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    header = SecretStr(f"Authorization: Bearer {TOKEN}")
    named = f"http://git.invalid:{port}/repo.git"  # .invalid never resolves
    with pytest.raises(SandboxError, match="Could not resolve host"):
        fetch_checkout(named, "main", tmp_path / "a", auth_header=header)
    commit = fetch_checkout(named, "main", tmp_path / "b", auth_header=header,
                            config=_pinned(port))  # fmt: skip
    assert commit == head


def test_fetch_follows_no_redirect_when_told(git_server: tuple[str, str], tmp_path: Path) -> None:
    url, head = git_server
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    header = SecretStr(f"Authorization: Bearer {TOKEN}")
    moved = f"http://git.invalid:{port}/moved/repo.git"
    with pytest.raises(SandboxError, match="git fetch failed"):
        fetch_checkout(moved, "main", tmp_path / "a", auth_header=header, config=_pinned(port))
    followed = {"http.curloptResolve": _pinned(port)["http.curloptResolve"]}  # git's default
    assert fetch_checkout(moved, "main", tmp_path / "b", auth_header=header,
                          config=followed) == head  # fmt: skip
