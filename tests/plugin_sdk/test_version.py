from __future__ import annotations

import pytest

from plugin_sdk.version import SDK_API_VERSION, SemVer, is_semver, sdk_range_includes


def test_semver_precedence_follows_the_spec() -> None:
    # the example chain of semver.org 2.0.0, section 11
    chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
    ]
    assert sorted(reversed(chain), key=SemVer.parse) == chain
    assert SemVer.parse("1.0.0+build.1") == SemVer.parse("1.0.0")
    assert str(SemVer.parse("2.1.3-rc.1+b7")) == "2.1.3-rc.1+b7"


@pytest.mark.parametrize("text", ["1.0", "01.0.0", "1.0.0.post1", "v1.0.0", "1.0.0-", ""])
def test_pep440_only_versions_are_not_semver(text: str) -> None:
    assert not is_semver(text)
    with pytest.raises(ValueError, match="not a semantic version"):
        SemVer.parse(text)


def test_sdk_ranges() -> None:
    assert SDK_API_VERSION == "1.0"
    assert sdk_range_includes(">=1.0,<2")
    assert not sdk_range_includes(">=1.1,<2")
    assert not sdk_range_includes(">=2")
    with pytest.raises(ValueError, match="range"):
        sdk_range_includes("about one")
