"""A Bitbucket Cloud simulator and a webhook receiver on free ports, plus git helpers."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from simulators.bitbucket_cloud.app import create_app
from simulators.config import SimulatorConfig
from simulators.webhooks_out import RetryPolicy, WebhookSender
from tests.simulators.bitbucket_cloud.live import LiveServer, Receiver

WS = "acme"


@dataclass
class Cloud:
    """The running simulator, its receiver and demo credentials."""

    url: str
    config: SimulatorConfig
    sender: WebhookSender
    receiver: Receiver
    receiver_url: str

    def client(self) -> httpx.Client:
        """httpx client with basic auth, rooted at the API."""
        auth = (self.config.user_email, self.config.api_token)
        return httpx.Client(base_url=self.url + "/2.0", auth=auth, timeout=10)

    def git_url(self, slug: str) -> str:
        """Clone URL with the demo credentials embedded."""
        host = self.url.removeprefix("http://")
        return f"http://demo%40example.com:{self.config.api_token}@{host}/{WS}/{slug}.git"


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` as the demo author; returns stdout."""
    ident = ["-c", "user.name=Tester", "-c", "user.email=tester@example.com"]
    proc = subprocess.run(["git", *ident, *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def write(work: Path, files: dict[str, str]) -> None:
    """Write text files into a work tree."""
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """Simulator + receiver, both over real HTTP."""
    receiver = Receiver()
    data_dir = tmp_path_factory.mktemp("bb-cloud")
    sender = WebhookSender(RetryPolicy(max_attempts=2, backoff_s=0.01, timeout_s=5))
    with LiveServer(lambda _: receiver.app()) as rec_server:

        def make(url: str) -> object:
            config = SimulatorConfig(base_url=url, data_dir=data_dir)
            return create_app(config, sender)

        with LiveServer(make) as server:  # type: ignore[arg-type]
            config = server.app.state.sim_config  # type: ignore[attr-defined]
            yield Cloud(server.url, config, sender, receiver, rec_server.url)


@pytest.fixture(scope="module")
def pushed(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Repo ``acme/shop`` created over the API, ``main`` and ``feature/x`` pushed over HTTP."""
    with cloud.client() as client:
        assert client.post(f"/repositories/{WS}/shop", json={"scm": "git"}).status_code == 200
    work = tmp_path_factory.mktemp("work")
    git(work, "init", "-q", "-b", "main")
    write(work, {"app.py": "def f():\n    return 1\n", "old.txt": "bye\n", "keep.txt": "k\n"})
    git(work, "add", "-A")
    git(work, "commit", "-qm", "initial")
    git(work, "remote", "add", "origin", cloud.git_url("shop"))
    git(work, "push", "-q", "origin", "main")
    git(work, "checkout", "-qb", "feature/x")
    write(
        work,
        {"app.py": "def f():\n    return 2\n\n\ndef g():\n    return 3\n", "new.py": "X = 1\n"},
    )
    git(work, "rm", "-q", "old.txt")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "feature work")
    git(work, "push", "-q", "origin", "feature/x")
    return work
