"""The wait in HAProxy's queue in front of a replica is bounded, through the real service.

Serve 2.60 renders its replica servers without ``maxconn``; the shim adds one
(``DCODER_HTTP_REPLICA_MAXCONN``) and a ``timeout queue`` (``DCODER_HTTP_QUEUE_TIMEOUT_MS``) from
the ``limits.json`` `up` writes. This module writes a tiny bound into the session's file and
redeploys the app, which restarts its replica, so Serve re-renders the config and restarts HAProxy
through the shim; afterwards it puts the session's file back the same way. The replica's slots
are held deterministically by requests whose body has not arrived yet (HAProxy forwards the
headers and keeps the connection to the replica), checked on HAProxy's own admin socket, so no
assertion depends on timing: a request past the bound is answered 503 by HAProxy once the queue
timeout passes, never left waiting; and once ``queue_max`` requests wait, the next ones are
answered 503 at once by HAProxy itself, on a connection it keeps open.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import load_settings
from serve_app.haproxy_stats import admin_command, show_stat
from serve_app.launcher.data_plane import haproxy_dir
from serve_app.launcher.haproxy_shim import RETRY_RANGE_VAR
from serve_app.retry_window import GROWTH
from tests.conftest import session_app
from tests.serve_app.api_client import TenantClient, install_generic, new_tenant, whsec
from tests.serve_app.test_admission import HeldRequest, _no_rows
from tests.serve_app.webhook_helpers import signed, wait_status

MAXCONN = 2
QUEUE_MS = 4000
QUEUE_MAX = 1
SPREAD_S = 3
WAIT_S = 90.0
DbFetch = Callable[..., list[Any]]


def _deploy(*, session: bool = False) -> None:
    """Redeploy the app on a new replica (so Serve renders HAProxy's config again).

    Without a version Serve gives the deployment a new random one; ``session``: the session's
    own version again (tests/conftest.py), which differs from that random one just as well.
    """
    from ray import serve

    from serve_app.app import AppArgs, Ingress

    fresh = Ingress.bind  # type: ignore[attr-defined]
    app = session_app(Ingress, AppArgs()) if session else fresh(AppArgs())
    serve.run(app, name="dcoder", route_prefix="/")


def _haproxy_files(root: Path, name: str) -> list[Path]:
    return sorted(root.glob(f"*/{name}"))


def _stat(root: Path) -> list[dict[str, str]]:
    """HAProxy's ``show stat`` from its admin socket, read as ``/metrics`` reads it."""
    [admin] = _haproxy_files(root, "admin.sock")
    return asyncio.run(show_stat(admin, timeout_s=10))


def _replicas(root: Path) -> list[dict[str, str]]:
    return [row for row in _stat(root) if row["svname"].startswith("SERVE_REPLICA_")]


def _bounded_and_up(root: Path, serve_url: str, maxconn: int, queue_ms: int) -> None:
    """Wait until HAProxy runs the config with this bound and answers through one replica."""
    deadline = time.monotonic() + WAIT_S
    seen = "no config"
    while time.monotonic() < deadline:
        configs = [p.read_text() for p in _haproxy_files(root, "haproxy.cfg")]
        if configs:
            seen = configs[0]
        if (
            len(configs) == 1 and f" maxconn {maxconn}\n" in seen
            and f"timeout queue {queue_ms}ms" in seen and seen.count("server SERVE_REPLICA_") == 1
        ):  # fmt: skip
            try:
                up = httpx.get(f"{serve_url}/healthz", timeout=10).status_code == 200
                rows = _replicas(root)
            except (httpx.HTTPError, OSError, ValueError):
                up, rows = False, []
            if up and len(rows) == 1 and rows[0]["slim"] == str(maxconn):
                return
        time.sleep(0.3)
    raise AssertionError(f"HAProxy not bounded at maxconn {maxconn} after {WAIT_S:.0f} s:\n{seen}")


@pytest.fixture(scope="module")
def tiny_queue(serve_url: str) -> Iterator[Path]:
    settings = load_settings()
    root = haproxy_dir(settings)
    limits = root / "limits.json"
    original = limits.read_text()
    limits.write_text(json.dumps({
        "replica_maxconn": MAXCONN, "queue_timeout_ms": QUEUE_MS, "queue_max": QUEUE_MAX,
        "retry_after_s": 1, "retry_spread_s": SPREAD_S,
    }))  # fmt: skip
    try:
        _deploy()
        _bounded_and_up(root, serve_url, MAXCONN, QUEUE_MS)
        yield root
    finally:
        limits.write_text(original)
        _deploy(session=True)  # the session's bound again (a new replica: Serve restarts HAProxy)
        _bounded_and_up(
            root, serve_url, settings.http.replica_maxconn, settings.http.queue_timeout_ms
        )


def _replica_row(rows: list[dict[str, str]]) -> dict[str, str]:
    """The one replica server's row (its current connections in ``scur``)."""
    [row] = [r for r in rows if r["svname"].startswith("SERVE_REPLICA_")]
    return row


def _backend_row(rows: list[dict[str, str]]) -> dict[str, str]:
    """The replicas' backend row (requests waiting in HAProxy's queue in ``qcur``)."""
    apps = {r["pxname"] for r in rows if r["svname"].startswith("SERVE_REPLICA_")}
    [row] = [r for r in rows if r["svname"] == "BACKEND" and r["pxname"] in apps]
    return row


def _wait_stat(
    root: Path, pick: Callable[[list[dict[str, str]]], dict[str, str]], field: str, want: int
) -> dict[str, str]:
    """The row ``pick`` chooses from HAProxy's ``show stat`` once its ``field`` is ``want``."""
    deadline = time.monotonic() + WAIT_S
    row: dict[str, str] = {}
    while time.monotonic() < deadline:
        row = pick(_stat(root))
        if row[field] == str(want):
            return row
        time.sleep(0.05)
    raise AssertionError(f"HAProxy's {field} is {row.get(field)}, not {want}: {row}")


def _wait_busy(root: Path, want: int) -> dict[str, str]:
    return _wait_stat(root, _replica_row, "scur", want)


def _wait_queued(root: Path, want: int) -> dict[str, str]:
    return _wait_stat(root, _backend_row, "qcur", want)


def _raw_post(sock: socket.socket, path: str, secret: str, msg_id: str) -> tuple[bytes, bytes]:
    """One signed webhook on an open keep-alive connection: the answer's head and body."""
    body = json.dumps({"type": "shed", "id": msg_id}).encode()
    head = [f"POST {path} HTTP/1.1", "Host: x", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in signed(secret, body, msg_id).items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += sock.recv(65536)
    answer_head, _, rest = raw.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", answer_head)[1])  # type: ignore[index]
    while len(rest) < length:
        rest += sock.recv(65536)
    return answer_head, rest


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found[1])


def _endpoint(serve_url: str, prefix: str) -> tuple[TenantClient, str, str]:
    """A new tenant's enabled generic-webhook instance: the tenant, its secret, its URL path."""
    tenant = new_tenant(serve_url, prefix)
    secret = whsec()
    iid = install_generic(tenant, secret=secret)["id"]
    assert tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{iid}/enable").status_code == 200
    return tenant, secret, f"/v1/webhooks/{tenant.id}/{iid}"


def test_past_the_replicas_bound_haproxy_answers_503_with_retry_after_not_a_wait(
    serve_url: str, tiny_queue: Path, db_fetch: DbFetch
) -> None:
    root = tiny_queue
    tenant, secret, path = _endpoint(serve_url, "hq")
    run = secrets.token_hex(3)
    before = httpx.get(f"{serve_url}/metrics", timeout=30).text

    # Every slot HAProxy allows on the replica taken by a request whose body is still to come.
    held = [HeldRequest(serve_url, path, secret, f"hq-held-{run}-{n}") for n in range(MAXCONN)]
    _wait_busy(root, MAXCONN)

    # One more waits in HAProxy's queue (the client would wait a minute) ...
    queued_id = f"hq-queued-{run}"
    queued: list[httpx.Response] = []
    body = json.dumps({"type": "shed", "id": queued_id}).encode()
    waiter = threading.Thread(target=lambda: queued.append(httpx.post(
        serve_url + path, content=body, headers=signed(secret, body, queued_id), timeout=WAIT_S,
    )))  # fmt: skip
    waiter.start()
    assert _wait_queued(root, QUEUE_MAX)["qcur"] == str(QUEUE_MAX)

    # ... so the queue is full: the next ones are answered at once by HAProxy itself, one after
    # the other on the same connection (kept open: a retrying sender need not reconnect).
    shed_ids = [f"hq-shed-{run}-{n}" for n in range(3)]
    url = httpx.URL(serve_url)
    waits = []
    with socket.create_connection((url.host, url.port), timeout=WAIT_S) as sock:
        for msg_id in shed_ids:
            head, payload = _raw_post(sock, path, secret, msg_id)
            assert head.startswith(b"HTTP/1.1 503 "), head
            assert b"\r\ncontent-type: application/problem+json" in head.lower()
            assert b"connection: close" not in head.lower()
            waits.append(int(re.search(rb"(?i)\r\nretry-after: *(\d+)", head)[1]))  # type: ignore[index]
            problem = json.loads(payload)
            assert problem["status"] == 503 and problem["code"] == "overloaded"
    # jittered: retries spread out (over 1..4 s, or one steering step wider, retry_window.py)
    assert all(1 <= w <= 1 + round(SPREAD_S * GROWTH) for w in waits)

    # The queued one is answered 503 once the queue timeout passes, never left waiting.
    waiter.join(WAIT_S)
    [refused] = queued
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["code"] == "unavailable"
    stats = _wait_busy(root, MAXCONN)  # still the held ones only; none of the others got in
    assert stats["qcur"] == "0"  # nobody left waiting in the queue
    shed_ids.append(queued_id)
    assert _no_rows(db_fetch, tenant, shed_ids)  # nothing recorded, nothing queued

    # The held requests complete: each 202 is a durable delivery that the relay then handles.
    for request in held:
        status, answer = request.finish()
        assert status == 202, answer
        wait_status(tenant, answer["delivery_id"], "done")

    # What HAProxy shed is on /metrics, though no replica saw it.
    after = httpx.get(f"{serve_url}/metrics", timeout=30).text
    assert _metric(after, "dcoder_http_shed_total") - _metric(before, "dcoder_http_shed_total") == 3
    gave_up = "dcoder_http_queue_gave_up_total"
    assert _metric(after, gave_up) - _metric(before, gave_up) == 1
    assert _metric(after, "dcoder_http_queued") == 0

    # Load dropped: the sender's retries go through and are accepted exactly once.
    _wait_busy(root, 0)
    for msg_id in shed_ids:
        body = json.dumps({"type": "shed", "id": msg_id}).encode()
        retried = httpx.post(
            serve_url + path, content=body, headers=signed(secret, body, msg_id), timeout=WAIT_S
        )
        assert retried.status_code == 202, retried.text
        assert wait_status(tenant, retried.json()["delivery_id"], "done")["attempts"] == 1
    rows = db_fetch("SELECT count(*) AS n FROM deliveries WHERE tenant_id = $1", tenant.id)
    assert rows[0]["n"] == MAXCONN + len(shed_ids)


def _door_range(root: Path) -> int:
    """The Retry-After range (spread + 1) HAProxy's shed backend draws from now."""
    [admin] = _haproxy_files(root, "admin.sock")
    answer = asyncio.run(
        admin_command(admin, f"experimental-mode on; get var {RETRY_RANGE_VAR}", 10)
    )
    found = re.search(r"value=<(\d+)>", answer)
    assert found, answer
    return int(found[1])


def test_while_the_door_keeps_shedding_its_retry_after_widens_then_narrows_again(
    serve_url: str, tiny_queue: Path
) -> None:
    """The replica steers the door's Retry-After from HAProxy's counters once a second, though
    none of the shed requests reaches it: told to come back within 1..4 s, senders refused
    for seconds on end would all come back into the same overload."""
    root = tiny_queue
    spread = "dcoder_webhook_retry_after_spread_seconds"
    assert _metric(httpx.get(f"{serve_url}/metrics", timeout=30).text, spread) == SPREAD_S
    assert _door_range(root) == SPREAD_S + 1
    _, secret, path = _endpoint(serve_url, "hw")
    run = secrets.token_hex(3)
    held = [HeldRequest(serve_url, path, secret, f"hw-held-{run}-{n}") for n in range(MAXCONN)]
    _wait_busy(root, MAXCONN)
    queued = HeldRequest(serve_url, path, secret, f"hw-queued-{run}")
    _wait_queued(root, QUEUE_MAX)
    # The door sheds everything for 3.4 s (the queued one waits QUEUE_MS = 4 s): two or three
    # overloaded seconds for the replica's steering, each widening the spread 1.5 times.
    url = httpx.URL(serve_url)
    started = time.monotonic()
    with socket.create_connection((url.host, url.port), timeout=WAIT_S) as sock:
        n = 0
        while time.monotonic() - started < 3.4:
            head, _ = _raw_post(sock, path, secret, f"hw-shed-{run}-{n}")
            assert head.startswith(b"HTTP/1.1 503 "), head
            n += 1
            time.sleep(0.1)
    widened = _door_range(root) - 1  # written into HAProxy by the replica
    assert widened >= round(SPREAD_S * GROWTH**2), widened
    queued.sock.close()
    for request in held:
        status, answer = request.finish()
        assert status == 202, answer
    assert _metric(httpx.get(f"{serve_url}/metrics", timeout=30).text, spread) > SPREAD_S

    # Load dropped: the window narrows back to the configured spread, 0.8 times per second.
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if _metric(httpx.get(f"{serve_url}/metrics", timeout=30).text, spread) == SPREAD_S:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"{spread} not back to {SPREAD_S} after {WAIT_S:.0f} s")
    assert _door_range(root) == SPREAD_S + 1
