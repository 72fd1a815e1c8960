"""README.md's settings table, generated from the models: ``python -m core.settings_doc``."""

from __future__ import annotations

from pydantic import BaseModel
from pydantic_settings import BaseSettings

from core.paths import PROJECT_ROOT
from core.settings import Settings


def _default(field: object) -> str:
    value = getattr(field, "default", None)
    if value is None or str(value) == "PydanticUndefined":
        factory = getattr(field, "default_factory", None)
        return "" if factory is None else "(nested)"
    text = str(value).replace(str(PROJECT_ROOT.parent / "shared"), "../shared")
    return text.replace(str(PROJECT_ROOT), ".") if text else '""'


def rows(model: type[BaseModel] = Settings) -> list[tuple[str, str, str]]:
    """(environment variable, default, meaning) for every leaf setting."""
    out = []
    prefix = str(model.model_config.get("env_prefix", ""))
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            out.extend(rows(annotation))
            continue
        out.append(((prefix + name).upper(), _default(field), field.description or ""))
    return out


def table() -> str:
    """The Markdown table of every setting."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for env, default, meaning in rows():
        shown = f"`{default}`" if default else "unset"
        lines.append(f"| `{env}` | {shown} | {meaning} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
