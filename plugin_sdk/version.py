"""The SDK's API version and strict semantic versions (semver.org 2.0.0) of plugins.

``packaging`` implements PEP 440, which accepts strings semver rejects (``1.0``, ``1.0.0.post1``)
and orders pre-releases differently, so plugin versions are checked and ordered here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

SDK_API_VERSION = "1.0"
"""Version of the plugin contract this SDK implements; manifests declare a range in ``sdk_api``."""

SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


@total_ordering
@dataclass(frozen=True, eq=False)
class SemVer:
    """A parsed semantic version, ordered by semver precedence (build metadata ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: str = ""

    @classmethod
    def parse(cls, text: str) -> SemVer:
        """Parse ``text`` or raise ``ValueError`` naming it."""
        match = SEMVER_RE.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH[-pre])")
        major, minor, patch, pre, build = match.groups()
        prerelease = tuple(pre.split(".")) if pre else ()
        return cls(int(major), int(minor), int(patch), prerelease, build or "")

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        # A release sorts after its pre-releases; numeric identifiers sort before alphanumeric.
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SemVer) and self._key() == other._key()

    def __lt__(self, other: SemVer) -> bool:
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        return text + (f"+{self.build}" if self.build else "")


def is_semver(text: str) -> bool:
    """Whether ``text`` is a strict semantic version."""
    return SEMVER_RE.match(text) is not None


def parse_sdk_range(text: str) -> SpecifierSet:
    """Parse an ``sdk_api`` range such as ``">=1.0,<2"`` or raise ``ValueError``."""
    try:
        spec = SpecifierSet(text)
    except InvalidSpecifier as err:
        raise ValueError(f"{text!r} is not a version range like '>=1.0,<2'") from err
    if not str(spec):
        raise ValueError("the SDK range is empty; write one like '>=1.0,<2'")
    return spec


def sdk_range_includes(range_text: str, version: str = SDK_API_VERSION) -> bool:
    """Whether the ``sdk_api`` range ``range_text`` includes the SDK API ``version``."""
    try:
        return parse_sdk_range(range_text).contains(Version(version), prereleases=True)
    except InvalidVersion as err:
        raise ValueError(f"{version!r} is not an SDK API version") from err
