"""The demo tenant seed and the ``simulate`` command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from serve_app.cli.main import build_parser
from simulators.app import create_app
from simulators.config import SimulatorConfig
from simulators.jira import jql
from simulators.seed import seed_all

DATASET = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "storypoints" / "mesos.csv"


def test_seed_loads_resolved_estimated_stories_and_a_space(tmp_path: Path) -> None:
    if not DATASET.is_file():
        pytest.skip(f"story-points dataset not present at {DATASET}")
    app = create_app(SimulatorConfig.model_validate({"data_dir": tmp_path}))
    report = seed_all(app, DATASET, limit=250)
    jira = next(r.app for r in app.routes if getattr(r, "path", "") == "/jira").state.jira
    found = jql.search(
        jira,
        f"project = {report.jira_project} AND resolved is not EMPTY "
        f'AND "Story Points" is not EMPTY',
    )
    assert report.stories == 250 and len(found) == 250
    assert report.confluence_space == "ENG"


def test_simulate_command_parses_flags() -> None:
    args = build_parser().parse_args(["simulate", "--port", "0", "--token", "t", "--seed", "x.csv"])
    assert (args.port, args.token, args.seed, args.user) == (
        0,
        "t",
        Path("x.csv"),
        "demo@example.com",
    )
