"""Runtime loading of built wheels: two versions of one plugin side by side, no restart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from plugin_sdk.scaffold import new_plugin_project
from plugin_sdk.testing import PluginHarness
from plugins.registry import PluginRegistry


def build_wheel(project: Path, out: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(project),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    [wheel] = out.glob("*.whl")
    return wheel


def set_version(project: Path, version: str) -> None:
    for path in [project / "pyproject.toml", project / "acme_tracker" / "manifest.json"]:
        path.write_text(path.read_text().replace('"0.1.0"', f'"{version}"'))


async def test_two_built_wheels_load_and_run_side_by_side(tmp_path: Path) -> None:
    project = new_plugin_project("acme-tracker", tmp_path / "src")
    first = build_wheel(project, tmp_path / "w1")
    set_version(project, "0.2.0")
    second = build_wheel(project, tmp_path / "w2")

    registry = PluginRegistry()
    for wheel in (first, second):
        registry.load_path(wheel, into=tmp_path / "plugins").raise_for_refused()
    assert registry.versions("acme-tracker") == ["0.1.0", "0.2.0"]
    old, new = registry.get("acme-tracker", "0.1.0"), registry.get("acme-tracker", "0.2.0")
    assert old.plugin_cls is not new.plugin_cls
    assert old.plugin_cls.__module__ != new.plugin_cls.__module__
    assert registry.latest("acme-tracker") is new
    assert (tmp_path / "plugins" / "acme_tracker-0.2.0" / "acme_tracker" / "manifest.json").exists()

    config = {"project_key": "DEMO"}
    secrets = {"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    async with PluginHarness(new.plugin_cls, config=config, secrets=secrets) as harness:
        await harness.install()
        await harness.enable()
        await harness.webhook(body={"type": "x.y"})
        assert harness.published_events[0].subject == "acme-tracker.received"


def test_a_wheel_whose_manifest_disagrees_is_refused(tmp_path: Path) -> None:
    project = new_plugin_project("acme-tracker", tmp_path / "src")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', 'version = "0.9.0"'))
    wheel = build_wheel(project, tmp_path / "w")
    report = PluginRegistry().load_path(wheel, into=tmp_path / "plugins")
    assert not report.loaded
    assert "distribution version 0.9.0 != manifest version 0.1.0" in report.refused[0].why


def test_a_broken_pyproject_is_refused_with_the_reason(tmp_path: Path) -> None:
    project = tmp_path / "broken"
    project.mkdir()
    for text, why in (
        ('[project\nname = "x"\n', "pyproject.toml is not valid TOML"),
        (b"[project]\nname = '\xff'\n", "pyproject.toml is not valid TOML"),
        ("project = 1\n", "[project] is not a table"),
        ('[project]\nversion = "1.0.0"\nentry-points = 3\n', "entry point"),
    ):
        path = project / "pyproject.toml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        report = PluginRegistry().load_path(project, into=tmp_path / "plugins")
        assert not report.loaded
        assert why in report.refused[0].why, report.refused[0].why


def test_a_wheel_that_is_not_a_zip_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    into = tmp_path / "plugins"
    for content in (b"not a zip at all", b"PK\x03\x04" + b"\x00" * 40):
        wheel = tmp_path / "acme_tracker-0.1.0-py3-none-any.whl"
        wheel.write_bytes(content)
        report = PluginRegistry().load_path(wheel, into=into)
        assert not report.loaded
        assert "not a valid wheel (zip)" in report.refused[0].why
        assert list(into.iterdir()) == []  # no .unpack-* staging folder, no half-unpacked target
