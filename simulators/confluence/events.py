"""Outbound Confluence webhooks (``page_created``, ``page_updated``) in the real delivery shape.

Confluence puts no event name in the body, so every registered webhook names its events.
Registration uses the (undocumented on Cloud) ``/wiki/rest/webhooks/1.0/webhook`` resource.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from simulators.confluence.render import webui
from simulators.confluence.state import ConfluenceError, ConfluenceState, Page
from simulators.webhooks_out import WebhookSender

EVENTS = frozenset({"page_created", "page_updated"})


def page_payload(state: ConfluenceState, page: Page, trigger: str) -> dict[str, Any]:
    """The body Confluence POSTs for a page event."""
    return {
        "userAccountId": state.account_id,
        "accountType": "customer",
        "updateTrigger": trigger,
        "page": {
            "creatorAccountId": state.account_id,
            "spaceKey": page.space_key,
            "modificationDate": int(time.time() * 1000),
            "lastModifierAccountId": state.account_id,
            "self": state.site + webui(page),
            "id": int(page.id),
            "title": page.title,
            "creationDate": page.created_ms,
            "contentType": "page",
            "version": page.version.number,
        },
        "timestamp": int(time.time() * 1000),
    }


class ConfluenceEvents:
    """Emits page events through the shared webhook sender."""

    def __init__(self, state: ConfluenceState, sender: WebhookSender) -> None:
        self.state = state
        self.sender = sender

    def page_created(self, page: Page) -> None:
        """A page was created."""
        self._emit("page_created", page_payload(self.state, page, "create_page"))

    def page_updated(self, page: Page) -> None:
        """A page got a new version."""
        self._emit("page_updated", page_payload(self.state, page, "edit_page"))

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        try:
            self.sender.emit("confluence", event, payload)
        except RuntimeError:
            return  # no running loop (changed outside a request): nothing to deliver


def webhook_router(state: ConfluenceState, sender: WebhookSender) -> APIRouter:
    """``/rest/webhooks/1.0/webhook``: register, list and remove page webhooks."""
    routes = APIRouter()
    path = "/rest/webhooks/1.0/webhook"

    def as_json(hook_uuid: str) -> dict[str, Any]:
        hook = sender.get(hook_uuid)
        if hook is None:
            raise ConfluenceError(404, "No webhook with this id")
        return {
            "id": hook.uuid,
            "name": hook.description,
            "url": hook.url,
            "events": sorted(hook.events),
            "active": hook.active,
            "self": f"{state.site}{path}/{hook.uuid}",
        }

    @routes.post(path, status_code=201)
    def register(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        """Subscribe a URL to page events (signed with ``secret`` when one is given)."""
        events = set(body.get("events") or [])
        url = str(body.get("url") or "")
        if not events or not events <= EVENTS or not url.startswith(("http://", "https://")):
            raise ConfluenceError(
                400, f"A webhook needs an http(s) url and events from {sorted(EVENTS)}"
            )
        hook = sender.register(
            "confluence",
            url,
            secret=body.get("secret") or None,
            events=events,
            description=str(body.get("name") or ""),
        )
        return as_json(hook.uuid)

    @routes.get(path)
    def list_hooks() -> list[dict[str, Any]]:
        """Registered webhooks."""
        return [as_json(h.uuid) for h in sender.hooks("confluence")]

    @routes.delete(path + "/{hook_id}", status_code=204)
    def remove(hook_id: str) -> Response:
        """Remove a webhook."""
        if not sender.unregister(hook_id):
            raise ConfluenceError(404, "No webhook with this id")
        return Response(status_code=204)

    return routes
