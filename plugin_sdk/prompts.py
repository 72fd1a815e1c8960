"""Versioned prompt templates under ``configs/prompts/<agent>/<name>.v<N>.md`` (any agent).

A template has a front matter (``name``, ``version``, ``answer_model``) and two sections,
``## system`` and ``## user``, with ``$placeholders`` (``string.Template``); a missing value is an
error, not an empty hole in the prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from core.paths import CONFIGS_DIR

PROMPTS_DIR = CONFIGS_DIR / "prompts"
_FRONT = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.DOTALL)
_SECTION = re.compile(r"^## (system|user)\s*$", re.MULTILINE)


class PromptInvalid(ValueError):
    """A template file that does not have the expected shape."""


@dataclass(frozen=True)
class Prompt:
    """One loaded template."""

    name: str
    version: int
    answer_model: str
    system: str
    user: str

    @property
    def label(self) -> str:
        """``name@vN``, as comments and logs name it."""
        return f"{self.name}@v{self.version}"

    def messages(self, **values: str) -> list[dict[str, str]]:
        """Chat messages with every placeholder filled (``KeyError`` when one is missing)."""
        return [
            {"role": "system", "content": Template(self.system).substitute(values)},
            {"role": "user", "content": Template(self.user).substitute(values)},
        ]


def parse_prompt(text: str) -> Prompt:
    """A ``Prompt`` from a template file's text."""
    found = _FRONT.match(text)
    if found is None:
        raise PromptInvalid("a prompt starts with a --- front matter --- block")
    meta = {}
    for line in found.group(1).splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
    parts = _SECTION.split(found.group(2))
    sections = dict(zip(parts[1::2], (p.strip() for p in parts[2::2]), strict=True))
    if set(sections) != {"system", "user"} or not {"name", "version", "answer_model"} <= set(meta):
        raise PromptInvalid("a prompt needs name, version, answer_model and ## system / ## user")
    return Prompt(
        meta["name"],
        int(meta["version"]),
        meta["answer_model"],
        sections["system"],
        sections["user"],
    )


def load_prompt(agent: str, name: str, version: int, root: Path = PROMPTS_DIR) -> Prompt:
    """``configs/prompts/<agent>/<name>.v<version>.md``, checked against its own front matter."""
    prompt = parse_prompt((root / agent / f"{name}.v{version}.md").read_text(encoding="utf-8"))
    if prompt.version != version:
        raise PromptInvalid(f"{name}.v{version}.md says version {prompt.version}")
    return prompt
