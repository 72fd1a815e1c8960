"""A failed review said on its pull request: the key parsed back, the reason without secrets."""

from __future__ import annotations

import pytest

from plugins.bitbucket.commands import help_comment, reviewed_comment
from plugins.bitbucket.events import RepoRef
from plugins.bitbucket.failed import MAX_REASON, failed_comment, public_reason, pull_request_of


def test_the_review_key_names_the_pull_request() -> None:
    assert pull_request_of("cloud:acme/shop#3") == ("cloud", RepoRef(owner="acme", slug="shop"), 3)
    assert pull_request_of("dc:SHOP/svc-1#12") == ("dc", RepoRef(owner="SHOP", slug="svc-1"), 12)
    for bad in (None, "", "cloud:acme#3", "gitlab:a/b#1", "cloud:a/b#x", "cloud:a/b/c#1"):
        assert pull_request_of(bad) is None, bad


@pytest.mark.parametrize(
    ("error", "hidden"),
    [
        ("PermanentError: git said Authorization: Bearer abcdefgh12345678 was refused", "abcdefgh"),
        ("fetch failed: basic YWdlbnRAZXhhbXBsZS5jb206dG9rZW4= rejected", "YWdlbnRA"),
        ("could not fetch https://agent:s3cr3t-pw@bitbucket.org/acme/shop.git", "s3cr3t"),
        ("config: api_key=sk-live-0123456789 invalid", "sk-live"),
        ("token: ATATT3xFfGF0 expired", "ATATT3"),
    ],
)
def test_the_reason_hides_credentials(error: str, hidden: str) -> None:
    reason = public_reason(error)
    assert hidden not in reason and "***" in reason, reason


def test_the_reason_is_one_short_line() -> None:
    reason = public_reason("TimeoutError: timed out after 600s\nTraceback (most recent call)")
    assert reason == "TimeoutError: timed out after 600s"
    assert len(public_reason("x" * 5000)) == MAX_REASON
    assert public_reason(None) == public_reason("  \n") == "unknown error"
    text = failed_comment(reason)
    assert text.startswith("⚠️ The review did not finish: TimeoutError") and "`review`" in text


def test_help_and_already_reviewed_replies() -> None:
    text = help_comment()
    for command in ("`review`", "`full review`", "`pause`", "`resume`", "`help`"):
        assert command in text
    assert "abcdef123456 is reviewed already" in reviewed_comment("abcdef1234567890")
