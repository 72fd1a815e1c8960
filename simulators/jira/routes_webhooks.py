"""Webhook registration: admin webhooks (``/rest/webhooks/1.0``, signed with a secret) and
dynamic webhooks (``/rest/api/{2,3}/webhook``, as OAuth 2.0 and Connect apps register them).

Who may call which follows the contract (``../shared/contracts/specs/jira-platform-v3``):
the dynamic webhook operations are for apps only ("Only Connect and OAuth 2.0 apps can use this
operation"; 403 "if the caller isn't an app") with the ``manage:jira-webhook`` scope, so a user's
API token or PAT gets 403 there. The admin resource is not part of the OAuth 2.0 API (no scope
grants it), so an OAuth 2.0 token gets 403 there; users (basic auth, PAT) may use it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response

from simulators.auth import Principal
from simulators.jira.deps import Who
from simulators.jira.errors import JiraError, api_version, not_found
from simulators.jira.events import scope_of
from simulators.jira.state import JiraState, Webhook
from simulators.webhooks_out import WebhookSender

Api = Annotated[str, Depends(api_version)]
JsonBody = Annotated[dict[str, Any], Body()]
ADMIN = "/rest/webhooks/1.0/webhook"
WEBHOOK_SCOPE = "manage:jira-webhook"


def app_only(who: Principal) -> None:
    """The dynamic webhook operations: an OAuth 2.0 app with ``manage:jira-webhook``, else 403."""
    if who.client_id is None:
        raise JiraError(403, "Only Connect and OAuth 2.0 apps can use this operation.")
    if WEBHOOK_SCOPE not in who.scope.split():
        raise JiraError(403, f"The app's token does not have the scope {WEBHOOK_SCOPE}.")


def users_only(who: Principal) -> None:
    """The admin resource: not reachable with an OAuth 2.0 app's token."""
    if who.client_id is not None:
        raise JiraError(
            403, "OAuth 2.0 apps cannot use /rest/webhooks/1.0: register dynamic webhooks "
            "(/rest/api/3/webhook) or ask an administrator."
        )  # fmt: skip


def router(state: JiraState, sender: WebhookSender) -> APIRouter:
    """Routes that add, list and remove Jira webhooks."""
    routes = APIRouter()

    def add(name: str, url: str, events: list[str], jql: str | None, secret: str | None) -> Webhook:
        """Store a webhook; ``secret`` None marks a dynamic one, "" an unsigned admin one."""
        if not url.startswith(("http://", "https://")) or not events:
            raise JiraError(400, "A webhook needs an http(s) url and at least one event.")
        webhook = Webhook(state.new_id() + 1000, name, url, events, jql or None, secret)
        state.webhooks[webhook.id] = webhook
        # Jira itself filters by event and JQL (events.py); the sender hook takes all of this scope.
        sender.register(
            "jira", url, secret=secret or None, scope=scope_of(webhook), description=name
        )
        return webhook

    def remove(webhook_id: int) -> None:
        webhook = state.webhooks.pop(webhook_id, None)
        if webhook is None:
            raise not_found("Webhook")
        for hook in sender.hooks("jira", scope_of(webhook)):
            sender.unregister(hook.uuid)

    def admin_json(webhook: Webhook) -> dict[str, Any]:
        return {
            "name": webhook.name,
            "url": webhook.url,
            "events": webhook.events,
            "filters": {"issue-related-events-section": webhook.jql or ""},
            "excludeBody": False,
            "enabled": webhook.enabled,
            "self": f"{state.site}{ADMIN}/{webhook.id}",
            "lastUpdatedUser": state.me.account_id,
        }

    @routes.post(ADMIN, status_code=201)
    def create_admin(body: JsonBody, who: Who) -> dict[str, Any]:
        """Register an admin webhook; with ``secret`` its deliveries carry ``X-Hub-Signature``."""
        users_only(who)
        filters = body.get("filters") or {}
        webhook = add(
            str(body.get("name") or "webhook"),
            str(body.get("url") or ""),
            list(body.get("events") or []),
            filters.get("issue-related-events-section"),
            str(body.get("secret") or ""),
        )
        return admin_json(webhook)

    @routes.get(ADMIN)
    def list_admin(who: Who) -> list[dict[str, Any]]:
        """Admin webhooks."""
        users_only(who)
        return [admin_json(w) for w in state.webhooks.values() if w.secret is not None]

    @routes.delete(f"{ADMIN}/{{webhook_id}}", status_code=204)
    def delete_admin(webhook_id: int, who: Who) -> Response:
        """Remove an admin webhook."""
        users_only(who)
        remove(webhook_id)
        return Response(status_code=204)

    @routes.post("/rest/api/{api}/webhook")
    def register_dynamic(api: Api, body: JsonBody, who: Who) -> dict[str, Any]:
        """Register dynamic webhooks (unsigned; their payloads list ``matchedWebhookIds``)."""
        app_only(who)
        results = []
        for item in body.get("webhooks") or []:
            webhook = add(
                "dynamic",
                str(body.get("url") or ""),
                list(item.get("events") or []),
                item.get("jqlFilter"),
                None,
            )
            results.append({"createdWebhookId": webhook.id})
        return {"webhookRegistrationResult": results}

    @routes.get("/rest/api/{api}/webhook")
    def list_dynamic(api: Api, who: Who, startAt: int = 0, maxResults: int = 100) -> dict[str, Any]:  # noqa: N803
        """Dynamic webhooks, paged."""
        app_only(who)
        items = [w for w in state.webhooks.values() if w.secret is None]
        page = [
            {
                "id": w.id,
                "jqlFilter": w.jql or "",
                "events": w.events,
                "expirationDate": 4102444800000,
            }
            for w in items[startAt : startAt + maxResults]
        ]
        return {
            "startAt": startAt,
            "maxResults": maxResults,
            "total": len(items),
            "isLast": startAt + maxResults >= len(items),
            "values": page,
        }

    @routes.delete("/rest/api/{api}/webhook", status_code=202)
    def delete_dynamic(api: Api, body: JsonBody, who: Who) -> Response:
        """Remove dynamic webhooks by id."""
        app_only(who)
        for webhook_id in body.get("webhookIds") or []:
            remove(int(webhook_id))
        return Response(status_code=202)

    return routes
