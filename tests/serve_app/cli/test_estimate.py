"""`dcoder-integrations estimate` and `estimate-eval` on histories written by the test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from serve_app.cli.main import main
from tests.core.estimation.synthetic import make_history, write_csv


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of two project histories (one with split marks, one without)."""
    directory = tmp_path_factory.mktemp("histories")
    write_csv(directory / "alpha.csv", make_history(200, seed=41))
    write_csv(directory / "beta.csv", make_history(120, seed=42), with_split=False)
    return directory


def test_estimate_eval_json(histories: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate-eval", str(histories), "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert [p["project"] for p in report["projects"]] == ["alpha", "beta"]
    required = {"project", "n_test", "mae", "mdae", "within_2", "median_mae", "mean_mae"}
    assert all(required <= set(p) for p in report["projects"])
    assert report["projects"][0]["n_test"] == 40 and report["projects"][1]["n_test"] == 24
    assert report["beats_median"] == 2
    assert report["mean_mae"] < report["mean_median_mae"]
    assert "[1/2] alpha" in captured.err  # progress goes to stderr, never into the JSON


def test_estimate_eval_table(histories: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate-eval", str(histories)]) == 0
    out = capsys.readouterr().out
    assert "| alpha | 40 |" in out and "beats the median on 2 of 2" in out


def test_estimate_explains_and_saves_a_model(
    histories: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "alpha.model"
    args = ["estimate", "--history", str(histories / "alpha.csv"), "--title", "engine sharding"]
    assert main([*args, "--save-model", str(saved)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Estimate: 8 points")
    assert "Most similar past stories:" in out and "engine" in out
    assert main(["estimate", "--model", str(saved), "--title", "engine sharding", "--json"]) == 0
    estimate = json.loads(capsys.readouterr().out)
    assert estimate["points"] == 8 and len(estimate["similar"]) == 3


def test_estimate_flags_a_median_fallback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "tiny.csv", make_history(6, seed=43), with_split=False)
    assert (
        main(["estimate", "--history", str(path), "--title", "fix typo", "--description", ""]) == 0
    )
    assert "Fell back to the history's median: history has 6 stories" in capsys.readouterr().out


def test_bad_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "--history", str(tmp_path / "none.csv"), "--title", "x"]) == 2
    (tmp_path / "junk.model").write_bytes(b"junk")
    assert main(["estimate", "--model", str(tmp_path / "junk.model"), "--title", "x"]) == 2
    assert main(["estimate-eval", str(tmp_path)]) == 2
    assert "error:" in capsys.readouterr().err


def test_console_script_runs(histories: Path) -> None:
    script = Path(sys.executable).with_name("dcoder-integrations")
    done = subprocess.run(
        [str(script), "estimate", "--history", str(histories / "beta.csv"), "--title", "typo"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Estimate: ")
