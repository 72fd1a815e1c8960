"""Typed failures of a Bitbucket server in the platform's families (retry, dead-letter, re-auth)."""

from __future__ import annotations

from plugin_sdk import PermanentError, PluginAuthFailed, RetryableError
from plugin_sdk.errors import RemoteRateLimited


class BitbucketAuthFailed(PluginAuthFailed):
    """401: the server refused the credentials (the instance needs re-authentication)."""

    code = "bitbucket-auth-failed"


class BitbucketForbidden(PermanentError):
    """403: the account may not do this (a repository permission or token scope to grant)."""

    code = "bitbucket-forbidden"


class BitbucketNotFound(PermanentError):
    """404: the repository, pull request, comment or file does not exist (or is not visible)."""

    code = "bitbucket-not-found"


class BitbucketConflict(PermanentError):
    """409: an out-of-date version (Data Center), or a state that forbids it (already resolved)."""

    code = "bitbucket-conflict"


class BitbucketBadRequest(PermanentError):
    """400 and other 4xx: Bitbucket refused the request; ``messages`` are its own words."""

    code = "bitbucket-bad-request"

    def __init__(self, detail: str, messages: list[str], status: int) -> None:
        super().__init__(detail, bitbucket_status=status)
        self.messages = messages
        self.bitbucket_status = status


class BitbucketRateLimited(RemoteRateLimited):
    """429 beyond what the client waits for itself; retry after ``retry_after_s``."""

    code = "bitbucket-rate-limited"


class BitbucketUnavailable(RetryableError):
    """5xx or no connection after the client's bounded retries.

    ``ambiguous`` is true when a write that is not idempotent (a new comment) may have been
    applied: the caller must look for it (by its marker) before writing it again.
    """

    code = "bitbucket-unavailable"

    def __init__(self, detail: str, *, ambiguous: bool = False) -> None:
        super().__init__(detail, ambiguous=ambiguous)
        self.ambiguous = ambiguous
