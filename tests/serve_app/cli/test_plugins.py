from __future__ import annotations

import json
from pathlib import Path

import pytest

from serve_app.cli.main import main


def test_plugin_new_writes_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugin", "new", "acme-tracker", "--dir", str(tmp_path)]) == 0
    assert (tmp_path / "acme-tracker" / "acme_tracker" / "plugin.py").is_file()
    assert "created" in capsys.readouterr().out
    assert main(["plugin", "new", "acme-tracker", "--dir", str(tmp_path)]) == 1
    assert main(["plugin", "new", "Bad_Name", "--dir", str(tmp_path)]) == 1
    assert "not a plugin name" in capsys.readouterr().err


def test_plugin_check_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["plugin", "new", "acme-tracker", "--dir", str(tmp_path)])
    capsys.readouterr()
    assert main(["plugin", "check", str(tmp_path / "acme-tracker")]) == 0
    assert "ok       acme-tracker 0.1.0" in capsys.readouterr().out
    assert main(["plugin", "check", str(tmp_path)]) == 1
    capsys.readouterr()
    assert main(["plugin", "list", "--json"]) == 0
    catalog = json.loads(capsys.readouterr().out)
    [generic] = [e for e in catalog if e["name"] == "generic-webhook"]
    assert generic["status"] == "ok" and generic["capabilities"] == ["webhooks"]
