"""Outbound Jira webhooks: real-shaped payloads sent through part B's ``WebhookSender``.

Each registered Jira webhook is one sender hook whose ``scope`` is ``jira-webhook-<id>``, so that
the webhook's JQL filter decides per delivery, and dynamic webhooks get ``matchedWebhookIds``.
"""

from __future__ import annotations

import time
from typing import Any

from simulators.jira import jql, render
from simulators.jira.state import Comment, Issue, JiraState, Webhook
from simulators.webhooks_out import WebhookSender

SUMMARY_FIELDS = ("summary", "issuetype", "project", "assignee", "priority", "status")


def scope_of(webhook: Webhook) -> str:
    """The sender scope of one Jira webhook."""
    return f"jira-webhook-{webhook.id}"


class JiraEvents:
    """Builds Jira's webhook payloads and emits them to the matching registered webhooks."""

    def __init__(self, state: JiraState, sender: WebhookSender) -> None:
        self.state = state
        self.sender = sender

    def _emit(self, event: str, issue: Issue, payload: dict[str, Any]) -> None:
        for webhook in list(self.state.webhooks.values()):
            if not webhook.enabled or (webhook.events and event not in webhook.events):
                continue
            if webhook.jql:
                try:
                    if not jql.parse(self.state, webhook.jql).matches(issue):
                        continue
                except jql.JqlError:
                    continue  # Jira skips webhooks whose filter no longer parses
            body = dict(payload)
            if webhook.secret is None:  # dynamic (OAuth/Connect) webhooks list their ids
                body["matchedWebhookIds"] = [webhook.id]
            try:
                self.sender.emit("jira", event, body, scope=scope_of(webhook))
            except RuntimeError:
                return  # no running loop (state changed outside a request): nothing to send

    def _base(self, event: str) -> dict[str, Any]:
        return {"timestamp": int(time.time() * 1000), "webhookEvent": event}

    def _full_issue(self, issue: Issue) -> dict[str, Any]:
        fields = render.select_fields(self.state, ["*navigable"], "*navigable")
        return render.issue(self.state, issue, "2", fields)

    def _user(self, account_id: str) -> dict[str, Any]:
        """The acting user, with the e-mail (admin webhooks see it)."""
        found = self.state.users.get(account_id) or self.state.me
        user = render.user(self.state, found.account_id, "2") or {}
        return {**user, "emailAddress": found.email}

    def issue_created(self, issue: Issue, actor: str) -> None:
        """``jira:issue_created`` by ``actor`` (an account id)."""
        payload = {
            **self._base("jira:issue_created"),
            "issue_event_type_name": "issue_created",
            "user": self._user(actor),
            "issue": self._full_issue(issue),
        }
        self._emit("jira:issue_created", issue, payload)

    def issue_updated(
        self, issue: Issue, items: list[dict[str, Any]], actor: str, kind: str = "issue_updated"
    ) -> None:
        """``jira:issue_updated`` by ``actor`` with the changelog of this edit."""
        changelog = {"id": issue.changelog[-1]["id"] if issue.changelog else "0", "items": items}
        payload = {
            **self._base("jira:issue_updated"),
            "issue_event_type_name": kind,
            "user": self._user(actor),
            "issue": self._full_issue(issue),
            "changelog": changelog,
        }
        self._emit("jira:issue_updated", issue, payload)

    def comment_created(self, issue: Issue, comment: Comment) -> None:
        """``comment_created`` (mentions are ``[~accountid:...]`` in the v2 body), as Jira sends.

        The comment's ``author`` is whoever wrote it, so a bot can tell its own comments apart.
        """
        short = render.issue(self.state, issue, "2", list(SUMMARY_FIELDS))
        short.pop("expand", None)
        payload = {
            **self._base("comment_created"),
            "comment": render.comment(self.state, issue, comment, "2"),
            "issue": short,
        }
        self._emit("comment_created", issue, payload)
        commented = {
            **self._base("jira:issue_updated"),
            "issue_event_type_name": "issue_commented",
            "user": self._user(comment.author),
            "issue": self._full_issue(issue),
            "comment": payload["comment"],
        }
        self._emit("jira:issue_updated", issue, commented)
