"""Typed failures of a Jira site, in the platform's families (retry, dead-letter, re-auth)."""

from __future__ import annotations

from plugin_sdk import PermanentError, PluginAuthFailed, RetryableError
from plugin_sdk.errors import RemoteRateLimited

# Errors cross process boundaries (tenant host → relay, pickled by Ray): ``IntegrationsError``
# rebuilds every subclass from its state, whatever its constructor takes.


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


class JiraRateLimited(RemoteRateLimited):
    """429 beyond what the client waits for itself; retry after ``retry_after_s``."""

    code = "jira-rate-limited"


class JiraUnavailable(RetryableError):
    """5xx or no connection after the client's own bounded retries."""

    code = "jira-unavailable"
