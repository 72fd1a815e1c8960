"""Which clone URLs the review job may fetch with the instance's credential."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugins.bitbucket.job import clone_url_allowed


@pytest.mark.parametrize(
    ("clone", "api", "allowed"),
    [
        ("https://bitbucket.org/acme/shop.git", "https://api.bitbucket.org", True),
        ("https://api.bitbucket.org/acme/shop.git", "https://api.bitbucket.org", True),
        ("https://git.example.com/scm/SHOP/svc.git", "https://git.example.com", True),
        ("http://127.0.0.1:8900/bitbucket/acme/shop.git", "http://127.0.0.1:8900/bitbucket", True),
        # another host, another port, user info, a downgrade, another scheme: never
        ("https://evil.example/acme/shop.git", "https://api.bitbucket.org", False),
        ("http://127.0.0.1:9999/x.git", "http://127.0.0.1:8900/bitbucket", False),
        ("https://u:p@bitbucket.org/acme/shop.git", "https://api.bitbucket.org", False),
        ("http://bitbucket.org/acme/shop.git", "https://api.bitbucket.org", False),
        ("ssh://git@bitbucket.org/acme/shop.git", "https://api.bitbucket.org", False),
        ("file:///etc/passwd", "https://api.bitbucket.org", False),
    ],
)
def test_only_the_servers_own_host(clone: str, api: str, allowed: bool) -> None:
    assert clone_url_allowed(clone, api) is allowed


def test_the_job_asks_for_the_analyzers_the_settings_switch_on() -> None:
    from plugins.bitbucket.events import Actor, EventKind, PullRequestEvent, RepoRef
    from plugins.bitbucket.job import ReviewJob
    from plugins.bitbucket.repo_settings import Effective, ReviewSettings
    from sandbox.analysis.models import Tool

    event = PullRequestEvent(
        flavour="dc", event_key="pr:opened", kind=EventKind.OPENED,
        repo=RepoRef(owner="SHOP", slug="svc"), pr_id=1, title="t", state="OPEN",
        source_branch="f", target_branch="main", head_commit="a" * 40,
        author=Actor(id="1", name="alice"), actor=Actor(id="1", name="alice"),
    )  # fmt: skip
    settings = ReviewSettings.model_validate({"analyzers": {"semgrep": False, "dataflow": False}})
    job = ReviewJob(event=event, head="a" * 40, base="b" * 40, clone_url="http://x/r.git",
                    settings=Effective(settings=settings, source="instance defaults"))  # fmt: skip
    assert job.analyzers() == ("ruff", "bandit")
    assert all(Tool(name) for name in ReviewSettings().analyzers.tools())  # names the engine knows


def test_links_out_of_the_checkout_are_removed_before_the_analysis(tmp_path: Path) -> None:
    from plugins.bitbucket.job import drop_outward_links

    root, outside = tmp_path / "checkout", tmp_path / "host"
    (root / "pkg").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.py").write_text("x = 1\n")
    (root / "app.py").write_text("x = 1\n")
    (root / "passwd.py").symlink_to("/etc/passwd")
    (root / "pkg" / "up.py").symlink_to("../../host/secret.py")
    (root / "hostdata").symlink_to(outside)
    (root / "loop").symlink_to(root / "loop")
    (root / "pkg" / "same.py").symlink_to("../app.py")  # inside: kept
    (root / ".git").mkdir()
    (root / ".git" / "x").symlink_to("/etc/passwd")  # git's own tree is not analysed
    assert drop_outward_links(root) == ["hostdata", "loop", "passwd.py", "pkg/up.py"]
    assert (root / "pkg" / "same.py").is_symlink() and (outside / "secret.py").is_file()
    assert (root / ".git" / "x").is_symlink()
