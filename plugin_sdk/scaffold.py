"""Writes a new plugin project from the templates in ``plugin_sdk/templates``."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from string import Template

from core.errors import Conflict, ValidationFailed
from plugin_sdk.manifest import NAME_RE
from plugin_sdk.version import SDK_API_VERSION

# template file -> path in the project ({module} is the package folder)
LAYOUT: dict[str, str] = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "init.py.tmpl": "{module}/__init__.py",
    "manifest.json.tmpl": "{module}/manifest.json",
    "config.py.tmpl": "{module}/config.py",
    "plugin.py.tmpl": "{module}/plugin.py",
    "test_plugin.py.tmpl": "tests/test_plugin.py",
}


def template_values(name: str) -> dict[str, str]:
    """The placeholders of the templates for plugin ``name``."""
    camel = "".join(part.capitalize() for part in name.split("-"))
    major = int(SDK_API_VERSION.split(".")[0])
    return {
        "name": name,
        "module": name.replace("-", "_"),
        "class_name": f"{camel}Plugin",
        "config_class": f"{camel}Config",
        "sdk_api": SDK_API_VERSION,
        "sdk_next": str(major + 1),
    }


def new_plugin_project(name: str, parent: Path) -> Path:
    """Write project ``parent/<name>`` (``ValidationFailed``: bad name, ``Conflict``: exists)."""
    if not re.match(NAME_RE, name):
        raise ValidationFailed(
            f"{name!r} is not a plugin name (lowercase words and dashes, e.g. 'acme-tracker')",
            [{"pointer": "/name", "message": "lowercase slug with dashes", "keyword": "pattern"}],
        )
    root = parent / name
    if root.exists() and any(root.iterdir()):
        raise Conflict(f"{root} already exists and is not empty")
    values = template_values(name)
    templates = files("plugin_sdk") / "templates"
    for template_name, target in LAYOUT.items():
        text = Template((templates / template_name).read_text(encoding="utf-8"))
        path = root / target.format(module=values["module"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.substitute(values), encoding="utf-8")
    return root


def next_steps(name: str, root: Path) -> str:
    """What to do after ``plugin new``: test, build, load; and that no feature flag is needed."""
    feature = "plugin_" + name.replace("-", "_")
    return (
        f"next:\n  cd {root} && pytest\n  pip wheel --no-deps . -w dist\n"
        f"then load the wheel (POST /v1/plugins/sources, see docs/plugin-development.md).\n"
        f"Once loaded, tenants can install and enable {name!r} right away: a plugin needs no\n"
        f"feature flag. To switch it off for some or all tenants, add the flag {feature!r}\n"
        f"(Flagsmith, or configs/flags.json offline; see docs/flags.md)."
    )
