"""Repository review settings: ``.dcoder/review.yaml`` on the BASE branch, over instance defaults.

The file is read at the pull request's target (base) commit, never at its head: a pull request
cannot switch off or weaken its own review by editing the file (the edit counts from the next
pull request on, once merged). It is parsed strictly: unknown keys, wrong types and a file over
64 KiB are refused with a message naming the key; the review then runs with the instance's
defaults and its summary says why the file was not used.

```yaml
version: 1
ignore: ["docs/", "*.lock", "migrations/**/*.sql"]
severity_threshold: medium   # findings below this are not commented on (still counted)
fail_on: high                # the Code Insights report FAILs from this severity on
max_comments: 20             # inline comments per review at most
instructions: "We use SQLAlchemy Core; flag raw SQL strings."
analyzers: {semgrep: true, ruff: true, bandit: true, dataflow: true, llm: true}
skip: {drafts: true, branches: ["release/*"], authors: ["renovate-bot"]}
```
"""

from __future__ import annotations

from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from plugins.bitbucket.findings import Severity

SETTINGS_PATH = ".dcoder/review.yaml"
MAX_BYTES = 64 * 1024
ANALYZER_TOOLS = ("semgrep", "ruff", "bandit", "dataflow")  # sandbox.analysis.models.Tool
Patterns = list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Analyzers(_Strict):
    """Which reviewers run (the LLM only when the platform has a model configured)."""

    semgrep: bool = True
    ruff: bool = True
    bandit: bool = True
    dataflow: bool = True
    llm: bool = True

    def tools(self) -> list[str]:
        """Analyzer names for the sandbox review (the LLM is not one of them)."""
        return [n for n in ANALYZER_TOOLS if getattr(self, n)]

    def tools_off(self) -> frozenset[str]:
        """Analyzers switched off (their earlier findings are neither resolved nor reposted)."""
        return frozenset(n for n in ANALYZER_TOOLS if not getattr(self, n))


class SkipRules(_Strict):
    """Pull requests that get no review."""

    drafts: bool = Field(True, description="skip draft pull requests")
    branches: Patterns = Field(default_factory=list, max_length=50, description="source globs")
    target_branches: Patterns = Field(default_factory=list, max_length=50)
    authors: list[str] = Field(default_factory=list, max_length=100, description="names or ids")


class ReviewSettings(_Strict):
    """Everything a review obeys; instance config and repository file have the same keys."""

    ignore: Patterns = Field(default_factory=list, max_length=200, description="path globs")
    severity_threshold: Severity = Severity.LOW
    fail_on: Severity = Severity.HIGH
    max_comments: int = Field(20, ge=0, le=200)
    instructions: str = Field("", max_length=4000)
    analyzers: Analyzers = Field(default_factory=Analyzers)
    skip: SkipRules = Field(default_factory=SkipRules)


class AnalyzersPatch(_Strict):
    """``analyzers`` in the file: only the names it sets change."""

    semgrep: bool | None = None
    ruff: bool | None = None
    bandit: bool | None = None
    dataflow: bool | None = None
    llm: bool | None = None


class SkipPatch(_Strict):
    """``skip`` in the file: only the keys it sets change."""

    drafts: bool | None = None
    branches: Patterns | None = Field(None, max_length=50)
    target_branches: Patterns | None = Field(None, max_length=50)
    authors: list[str] | None = Field(None, max_length=100)


class RepoFile(_Strict):
    """The file's own shape: every key optional, ``version`` fixed at 1."""

    version: int = Field(1, ge=1, le=1)
    ignore: Patterns | None = Field(None, max_length=200)
    severity_threshold: Severity | None = None
    fail_on: Severity | None = None
    max_comments: int | None = Field(None, ge=0, le=200)
    instructions: str | None = Field(None, max_length=4000)
    analyzers: AnalyzersPatch | None = None
    skip: SkipPatch | None = None


class SettingsInvalid(ValueError):
    """The repository file cannot be used; ``reason`` is said in the review summary."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _where(err: ValidationError) -> str:
    parts = []
    for e in err.errors()[:3]:
        loc = ".".join(str(p) for p in e["loc"]) or "file"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


def parse_repo_file(text: str | bytes) -> RepoFile:
    """The parsed file, or ``SettingsInvalid`` naming the first problems."""
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > MAX_BYTES:
        raise SettingsInvalid(f"{SETTINGS_PATH} is larger than {MAX_BYTES // 1024} KiB")
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        where = getattr(err, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        raise SettingsInvalid(f"{SETTINGS_PATH} is not valid YAML{at}") from err
    if data is None:
        return RepoFile()
    if not isinstance(data, dict):
        raise SettingsInvalid(f"{SETTINGS_PATH} must be a mapping of settings")
    try:
        return RepoFile.model_validate(data)
    except ValidationError as err:
        raise SettingsInvalid(f"{SETTINGS_PATH}: {_where(err)}") from err


def merge(defaults: ReviewSettings, file: RepoFile) -> ReviewSettings:
    """The file's values over the defaults; ignore lists add up, instructions are appended."""
    update: dict[str, Any] = {}
    for key in ("severity_threshold", "fail_on", "max_comments"):
        value = getattr(file, key)
        if value is not None:
            update[key] = value
    if file.ignore is not None:
        update["ignore"] = list(dict.fromkeys([*defaults.ignore, *file.ignore]))
    if file.instructions:
        update["instructions"] = "\n".join(
            x for x in (defaults.instructions, file.instructions) if x
        )
    if file.analyzers is not None:
        update["analyzers"] = defaults.analyzers.model_dump() | file.analyzers.model_dump(
            exclude_none=True
        )
    if file.skip is not None:
        update["skip"] = defaults.skip.model_dump() | file.skip.model_dump(exclude_none=True)
    return ReviewSettings.model_validate(defaults.model_dump() | update)


class Effective(BaseModel):
    """The settings a review runs with, and where they came from."""

    model_config = ConfigDict(frozen=True)

    settings: ReviewSettings
    source: str  # "instance defaults" or ".dcoder/review.yaml at <commit>"
    note: str | None = None  # why the repository file was not used

    @classmethod
    def resolve(cls, defaults: ReviewSettings, text: bytes | None, base_commit: str) -> Self:
        """Settings for a review: ``text`` is the file at the base commit (None: no file)."""
        if text is None:
            return cls(settings=defaults, source="instance defaults")
        try:
            file = parse_repo_file(text)
        except SettingsInvalid as err:
            return cls(settings=defaults, source="instance defaults", note=err.reason)
        where = f"{SETTINGS_PATH} at {base_commit[:12]}"
        return cls(settings=merge(defaults, file), source=where)
