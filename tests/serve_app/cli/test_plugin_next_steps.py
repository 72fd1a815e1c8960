"""`plugin new` tells the author what comes next, including that no feature flag is needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from serve_app.cli.main import main


def test_plugin_new_says_no_flag_is_needed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plugin", "new", "acme-tracker", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"cd {tmp_path / 'acme-tracker'} && pytest" in out
    assert "needs no\nfeature flag" in out
    assert "'plugin_acme_tracker'" in out and "docs/flags.md" in out
