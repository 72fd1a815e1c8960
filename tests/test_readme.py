"""README.md stays true: its settings table is the one generated from the settings models."""

from __future__ import annotations

from core.paths import PROJECT_ROOT
from core.settings_doc import table


def test_settings_table_is_current() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    begin, end = "<!-- settings:begin -->\n", "\n<!-- settings:end -->"
    current = readme.split(begin, 1)[1].split(end, 1)[0]
    assert current == table(), "regenerate: python -m core.settings_doc"


def test_readme_links_exist() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    for target in ("docs/plugin-development.md", "docs/webhooks.md", "docs/sandbox.md"):
        assert f"]({target})" in readme
        assert (PROJECT_ROOT / target).exists(), target
