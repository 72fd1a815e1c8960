"""generic-webhook: publishes each verified JSON webhook as a ``generic.*`` event.

The ingress has already checked the Standard Webhooks signature with the ``signing_secret``
before a delivery reaches ``handle_webhook``; this plugin only shapes and publishes it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from plugin_sdk import (
    PermanentError,
    Plugin,
    PluginConfigInvalid,
    WebhookDelivery,
    stable_event_id,
)
from plugin_sdk.jsonpointer import PointerError, parse_pointer, resolve_tokens

from .config import GenericWebhookConfig

SECRET_PREFIX = "whsec_"


def project(doc: Any, pointers: list[str]) -> Any:
    """Keep only the values at ``pointers``, nested as in ``doc``; missing ones are skipped.

    Array positions on a path become object keys (``/items/0/id`` -> ``{"items": {"0": ...}}``).
    """
    out: dict[str, Any] = {}
    for pointer in pointers:
        tokens = parse_pointer(pointer)
        try:
            value = resolve_tokens(doc, tokens)
        except PointerError:
            continue
        node: Any = out
        for token in tokens[:-1]:
            node = node.setdefault(token, {})
            if not isinstance(node, dict):
                break  # a shorter pointer already kept the whole parent
        else:
            node[tokens[-1]] = value
    return out


class GenericWebhookPlugin(Plugin[GenericWebhookConfig]):
    """Turns signed JSON webhooks of a tenant's own systems into events."""

    config_model = GenericWebhookConfig

    async def configure(self) -> None:
        """Check the signing secret is a Standard Webhooks key (``whsec_`` + base64)."""
        secret = self.ctx.secrets["signing_secret"].removeprefix(SECRET_PREFIX)
        try:
            key = base64.b64decode(secret, validate=True)
        except (binascii.Error, ValueError) as err:
            raise PluginConfigInvalid("signing_secret is not base64 (whsec_<base64>)") from err
        if len(key) < 16:
            raise PluginConfigInvalid("signing_secret is shorter than 16 bytes")
        _ = self.config  # fail now, not on the first delivery, if the config doesn't parse

    async def handle_webhook(self, delivery: WebhookDelivery) -> None:
        """Publish the (filtered) JSON body as one event per delivery id."""
        try:
            payload = delivery.json_body()
        except ValueError as err:
            raise PermanentError(f"delivery {delivery.delivery_id} is not JSON") from err
        fields = self.config.fields
        data = {
            "event_key": delivery.event_key,
            "payload": project(payload, fields) if fields is not None else payload,
        }
        # No effect ledger: the event's id is derived from the delivery's, so publishing it
        # again (a redelivery) is the same event. JetStream drops the copy within its
        # de-duplication window, and after it each consuming instance's delivery of that event
        # id is already recorded (done), so nobody handles it twice. A ledger entry would cost
        # two writes per webhook and a row kept for every webhook (issue #19).
        await self.ctx.publish(
            self.config.event_type,
            data,
            correlation_id=delivery.delivery_id,
            causation_id=delivery.delivery_id,
            event_id=stable_event_id(self.ctx.instance_id, delivery.delivery_id),
        )
