"""Which clone URLs the review job may fetch with the instance's credential."""

from __future__ import annotations

import pytest

from plugins.bitbucket.job import clone_url_allowed


@pytest.mark.parametrize(
    ("clone", "api", "allowed"),
    [
        ("https://bitbucket.org/acme/shop.git", "https://api.bitbucket.org", True),
        ("https://api.bitbucket.org/acme/shop.git", "https://api.bitbucket.org", True),
        ("https://git.example.com/scm/SHOP/svc.git", "https://git.example.com", True),
        ("http://127.0.0.1:8900/bitbucket/acme/shop.git", "http://127.0.0.1:8900/bitbucket", True),
        # another host, another port, user info, a downgrade, another scheme: never
        ("https://evil.example/acme/shop.git", "https://api.bitbucket.org", False),
        ("http://127.0.0.1:9999/x.git", "http://127.0.0.1:8900/bitbucket", False),
        ("https://u:p@bitbucket.org/acme/shop.git", "https://api.bitbucket.org", False),
        ("http://bitbucket.org/acme/shop.git", "https://api.bitbucket.org", False),
        ("ssh://git@bitbucket.org/acme/shop.git", "https://api.bitbucket.org", False),
        ("file:///etc/passwd", "https://api.bitbucket.org", False),
    ],
)
def test_only_the_servers_own_host(clone: str, api: str, allowed: bool) -> None:
    assert clone_url_allowed(clone, api) is allowed
