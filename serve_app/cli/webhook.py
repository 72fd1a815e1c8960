"""``webhook send``: sign a JSON body the way a sender would and POST it to the service.

Standard Webhooks signing (what the generic-webhook plugin verifies), through ``core.signing``;
prints the status and body of the answer, exit code 0 for a 2xx.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

SECRET_ENV = "WEBHOOK_SECRET"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``webhook send``."""
    webhook = subparsers.add_parser("webhook", help="send a signed test webhook")
    commands = webhook.add_subparsers(dest="webhook_command", metavar="COMMAND")
    send = commands.add_parser(
        "send",
        help="POST a Standard-Webhooks-signed JSON body to /v1/webhooks/TENANT/INSTANCE",
        description="Sign DATA with the instance's signing secret (Standard Webhooks: "
        "webhook-id, webhook-timestamp, webhook-signature) and POST it; print the answer.",
    )
    send.add_argument("tenant", metavar="TENANT", help="tenant id, e.g. acme")
    send.add_argument("instance", metavar="INSTANCE", help="instance id (i-…), not its name")
    send.add_argument(
        "--secret",
        default=os.environ.get(SECRET_ENV),
        help=f"the instance's signing secret (whsec_…); default ${SECRET_ENV}, which other "
        "users cannot see in `ps`",
    )
    send.add_argument(
        "--data", required=True, help="the JSON body; @FILE reads a file, @- reads stdin"
    )
    send.add_argument("--id", help="webhook-id (default: a new msg_…); repeat one to re-send")
    send.add_argument("--url", help="service base URL (default: from DCODER_HTTP_* settings)")
    send.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the answer")
    send.set_defaults(func=cmd_send)
    webhook.set_defaults(func=lambda _args: (webhook.print_help(), 2)[1])


def _body(data: str) -> bytes:
    if data == "@-":
        return sys.stdin.buffer.read()
    if data.startswith("@"):
        return Path(data[1:]).read_bytes()
    return data.encode()


def _base_url(url: str | None) -> str:
    if url:
        return url.rstrip("/")
    from core.settings import load_settings
    from serve_app.launcher.deploy import api_url

    return api_url(load_settings())


def signed_headers(secret: str, body: bytes, msg_id: str, timestamp: int) -> dict[str, str]:
    """The Standard Webhooks headers of one delivery."""
    from core.signing import sign_standard

    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_standard(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def cmd_send(args: argparse.Namespace) -> int:
    """Sign and send; print ``HTTP <status>`` and the answer's body."""
    import httpx

    from core.errors import IntegrationsError

    if not args.secret:
        print(f"error: give --secret or set {SECRET_ENV}", file=sys.stderr)
        return 2
    try:
        body = _body(args.data)
        msg_id = args.id or f"msg_{secrets.token_hex(12)}"
        headers = signed_headers(args.secret, body, msg_id, int(time.time()))
        url = f"{_base_url(args.url)}/v1/webhooks/{args.tenant}/{args.instance}"
        response = httpx.post(url, content=body, headers=headers, timeout=args.timeout)
    except (OSError, httpx.HTTPError, IntegrationsError) as err:
        print(f"error: {getattr(err, 'detail', None) or err!r}", file=sys.stderr)
        return 1
    print(f"HTTP {response.status_code}  webhook-id {msg_id}")
    print(response.text)
    return 0 if response.is_success else 1
