"""Typed failures of a Jira site, in the platform's families (retry, dead-letter, re-auth)."""

from __future__ import annotations

from typing import Any

from plugin_sdk import PermanentError, PluginAuthFailed, RetryableError

# Errors cross process boundaries (tenant host → relay, pickled by Ray): the ones with their own
# constructor arguments say how to rebuild themselves, or the delivery's error becomes an
# unpicklable-exception system error instead of the reason.


class JiraAuthFailed(PluginAuthFailed):
    """401: the site refused the credentials (the instance needs re-authentication)."""

    code = "jira-auth-failed"


class JiraForbidden(PermanentError):
    """403: the agent's account may not do this (a permission to grant on the site)."""

    code = "jira-forbidden"


class JiraNotFound(PermanentError):
    """404: the issue (or resource) does not exist or the agent cannot see it."""

    code = "jira-not-found"


class JiraBadRequest(PermanentError):
    """400 and other 4xx: Jira refused the request; ``messages`` are Jira's own words."""

    code = "jira-bad-request"

    def __init__(self, detail: str, messages: list[str], status: int) -> None:
        super().__init__(detail, jira_status=status)
        self.messages = messages
        self.jira_status = status
        self.detail_text = detail

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.detail_text, self.messages, self.jira_status))


class JiraRateLimited(RetryableError):
    """429 beyond what the client waits for itself; retry after ``retry_after_s``."""

    code = "jira-rate-limited"

    def __init__(self, detail: str, retry_after_s: float) -> None:
        super().__init__(detail, retry_after=max(1, round(retry_after_s)))
        self.retry_after_s = retry_after_s
        self.detail_text = detail

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.detail_text, self.retry_after_s))


class JiraUnavailable(RetryableError):
    """5xx or no connection after the client's own bounded retries."""

    code = "jira-unavailable"
