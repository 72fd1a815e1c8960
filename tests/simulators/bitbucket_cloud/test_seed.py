"""``seed_demo`` makes a repository with real commits and an open pull request."""

from __future__ import annotations

from pathlib import Path

from simulators.bitbucket_cloud.app import create_app
from simulators.bitbucket_cloud.seed import seed_demo
from simulators.config import SimulatorConfig


def test_seed_demo_creates_real_history_and_an_open_pr(tmp_path: Path) -> None:
    app = create_app(SimulatorConfig(data_dir=tmp_path))
    seeded = seed_demo(app)
    state = app.state.bitbucket
    repo = state.repos[seeded.full_name]
    pr = state.pullrequests[seeded.full_name][seeded.pr_id]
    assert pr.state == "OPEN" and pr.source_hash == repo.git.resolve(seeded.source_branch)
    assert '+    return f"Hello {name}"' in repo.git.diff(pr.dest_hash, pr.source_hash)
    assert len(pr.comment_ids) == 1
    # The repositories survive a restart (pull requests are in memory only).
    again = create_app(SimulatorConfig(data_dir=tmp_path)).state.bitbucket
    assert again.repos[seeded.full_name].git.resolve(seeded.source_branch) == pr.source_hash
