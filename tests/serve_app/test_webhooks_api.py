"""Signed webhooks end to end: ingest → JetStream → relay actor → tenant actor → plugin."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import nats
import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from core.bus import H_KEY, H_MAX_ATTEMPTS, H_ROUTED
from plugin_sdk.events import Event, EventSource, WebhookDelivery
from serve_app.ingest import delivery_id_for
from tests.conftest import TestServices
from tests.serve_app.api_client import install_generic, new_tenant, whsec
from tests.serve_app.webhook_helpers import counter_instance, effects, signed, wait_status


def test_generic_webhook_delivered_once(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    secret = whsec()
    iid = install_generic(tenant, secret=secret)["id"]
    assert tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{iid}/enable").status_code == 200
    body = json.dumps({"type": "build.finished", "ok": True}).encode()
    url = f"{serve_url}/v1/webhooks/{tenant.id}/{iid}"
    first = httpx.post(url, content=body, headers=signed(secret, body, "msg_1"))
    assert first.status_code == 202, first.text
    delivery_id = first.json()["delivery_id"]
    done = wait_status(tenant, delivery_id, "done")
    assert done["attempts"] == 1
    assert done["event_key"] == "build.finished"  # the manifest's json:/type
    again = httpx.post(url, content=body, headers=signed(secret, body, "msg_1"))
    assert again.status_code == 200
    assert again.json() == {"delivery_id": delivery_id, "duplicate": True}


def test_bad_requests_get_their_documented_status(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    secret = whsec()
    iid = install_generic(tenant, secret=secret)["id"]
    url = f"{serve_url}/v1/webhooks/{tenant.id}/{iid}"
    body = b'{"a": 1}'
    # Installed but not enabled: not an endpoint yet.
    assert httpx.post(url, content=body, headers=signed(secret, body, "m0")).status_code == 404
    assert tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{iid}/enable").status_code == 200
    cases = {
        "wrong secret": (body, signed(whsec(), body, "m1"), 401),
        "missing signature": (body, {"content-type": "application/json"}, 401),
        "stale": (body, signed(secret, body, "m2", int(time.time()) - 3600), 401),
        "tampered": (b'{"a": 2}', signed(secret, body, "m3"), 401),
        "not json type": (body, {**signed(secret, body, "m4"), "content-type": "text/plain"}, 415),
        "invalid json": (b"{nope", signed(secret, b"{nope", "m5"), 400),
        "too large": (b"x" * 2_000_000, signed(secret, b"x" * 2_000_000, "m6"), 413),
    }
    for name, (content, headers, status) in cases.items():
        response = httpx.post(url, content=content, headers=headers)
        assert response.status_code == status, f"{name}: {response.status_code} {response.text}"
        assert response.headers["content-type"] == "application/problem+json", name
        if status == 401:
            assert response.headers["www-authenticate"].startswith("Webhook-Signature "), name
    ahead = signed(secret, body, "m8", int(time.time()) + 3600)
    future = httpx.post(url, content=body, headers=ahead)
    assert future.status_code == 401
    assert future.json()["detail"].endswith("s in the future"), future.text
    unknown = httpx.post(f"{serve_url}/v1/webhooks/{tenant.id}/i-nope", content=body,
                         headers=signed(secret, body, "m7"))  # fmt: skip
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no webhook endpoint here"


def test_dead_letter_fix_config_replay_processed_once(
    serve_url: str, counter_source: Path, db_fetch
) -> None:  # type: ignore[no-untyped-def]
    tenant = new_tenant(serve_url)
    secret = whsec()
    iid = counter_instance(tenant, secret, mode="permanent")
    body = b'{"n": 1}'
    response = httpx.post(f"{serve_url}/v1/webhooks/{tenant.id}/{iid}", content=body,
                          headers=signed(secret, body, "dl-1"))  # fmt: skip
    assert response.status_code == 202
    delivery_id = response.json()["delivery_id"]
    dead = wait_status(tenant, delivery_id, "dead")
    assert dead["attempts"] == 1  # permanent: no retries
    letters = tenant.http.get(f"/v1/tenants/{tenant.id}/dead-letters").json()
    letter = next(x for x in letters if x["delivery_id"] == delivery_id)
    assert "configured to fail permanently" in letter["last_error"]
    fixed = tenant.http.patch(f"/v1/tenants/{tenant.id}/plugins/{iid}",
                              json={"config": {"mode": "ok", "label": "x"}})  # fmt: skip
    assert fixed.status_code == 200, fixed.text
    replay = tenant.http.post(f"/v1/tenants/{tenant.id}/dead-letters/{letter['id']}/replay")
    assert replay.status_code == 202, replay.text
    wait_status(tenant, delivery_id, "done")
    assert effects(db_fetch, iid) == {f"effect/{delivery_id}": 1}
    again = tenant.http.post(f"/v1/tenants/{tenant.id}/dead-letters/{letter['id']}/replay")
    assert again.status_code == 409


def test_a_burst_settles_each_delivery_on_its_own_outcome(
    serve_url: str, counter_source: Path, db_fetch
) -> None:  # type: ignore[no-untyped-def]
    # The relay hands a fetched batch of one tenant's webhooks to its tenant actor in one call:
    # successes and failures of the same batch must still be settled one by one.
    tenant = new_tenant(serve_url)
    secret = whsec()
    good = counter_instance(tenant, secret, mode="ok", name="good")
    bad = counter_instance(tenant, secret, mode="permanent", name="bad")

    def send(i: int) -> tuple[str, str]:
        iid = good if i % 2 == 0 else bad
        body = json.dumps({"n": i}).encode()
        response = httpx.post(f"{serve_url}/v1/webhooks/{tenant.id}/{iid}", content=body,
                              headers=signed(secret, body, f"burst-{i}"), timeout=30)  # fmt: skip
        assert response.status_code == 202, response.text
        return iid, response.json()["delivery_id"]

    with ThreadPoolExecutor(8) as pool:
        sent = list(pool.map(send, range(24)))
    for iid, delivery_id in sent:
        final = wait_status(tenant, delivery_id, "done" if iid == good else "dead")
        assert final["attempts"] == 1
    assert effects(db_fetch, good) == {f"effect/{d}": 1 for iid, d in sent if iid == good}
    assert effects(db_fetch, bad) == {}
    letters = tenant.http.get(f"/v1/tenants/{tenant.id}/dead-letters").json()
    assert sorted(x["delivery_id"] for x in letters) == sorted(d for i, d in sent if i == bad)


def test_retryable_failures_back_off_then_dead_letter(serve_url: str, counter_source: Path) -> None:
    tenant = new_tenant(serve_url)
    secret = whsec()
    iid = counter_instance(tenant, secret, mode="retryable")
    body = b'{"n": 2}'
    response = httpx.post(f"{serve_url}/v1/webhooks/{tenant.id}/{iid}", content=body,
                          headers=signed(secret, body, "rt-1"))  # fmt: skip
    delivery_id = response.json()["delivery_id"]
    dead = wait_status(tenant, delivery_id, "dead", timeout_s=90)
    assert dead["attempts"] == 3  # the plugin's max_attempts
    assert "configured to fail for now" in dead["last_error"]


def test_upgrade_migrates_config_and_failed_upgrade_rolls_back(
    serve_url: str, counter_source: Path
) -> None:
    tenant = new_tenant(serve_url)
    iid = counter_instance(tenant, whsec())
    base = f"/v1/tenants/{tenant.id}/plugins/{iid}"
    broken = tenant.http.post(f"{base}/upgrade", json={"version": "3.0.0"})
    assert broken.status_code == 502, broken.text
    assert "migration bug" in broken.json()["detail"]
    still = tenant.http.get(base).json()
    assert (still["version"], still["config"]) == ("1.0.0", {"mode": "ok", "label": "x"})
    upgraded = tenant.http.post(f"{base}/upgrade", json={"version": "2.0.0"})
    assert upgraded.status_code == 200, upgraded.text
    assert upgraded.json()["version"] == "2.0.0"
    assert upgraded.json()["config"] == {"mode": "ok", "title": "x"}
    assert upgraded.json()["state"] == "enabled"


def test_events_chain_to_other_plugins_of_the_same_tenant_only(
    serve_url: str, counter_source: Path, db_fetch, test_services: TestServices
) -> None:  # type: ignore[no-untyped-def]
    owner, other = new_tenant(serve_url), new_tenant(serve_url)
    secret = whsec()
    hooks = install_generic(owner, secret=secret)["id"]
    assert owner.http.post(f"/v1/tenants/{owner.id}/plugins/{hooks}/enable").status_code == 200
    mine = counter_instance(owner, whsec())
    theirs = counter_instance(other, whsec())
    with _witness(test_services, owner.id):
        body = json.dumps({"type": "build.finished"}).encode()
        response = httpx.post(f"{serve_url}/v1/webhooks/{owner.id}/{hooks}", content=body,
                              headers=signed(secret, body, "chain-1"))  # fmt: skip
        assert response.status_code == 202
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not effects(db_fetch, mine):
            time.sleep(0.3)
        counted = effects(db_fetch, mine)
        assert len(counted) == 1 and list(counted.values()) == [1], counted
        assert effects(db_fetch, theirs) == {}
        rows = owner.http.get(f"/v1/tenants/{owner.id}/deliveries").json()
        assert {r["instance_id"] for r in rows if r["status"] == "done"} == {hooks, mine}
        # routed when published: the event names its consumers, the relay needs no lookup
        [stored] = asyncio.run(_new_events(test_services, owner.id, "generic.build"))
        assert stored.headers[H_ROUTED] == mine


@contextlib.contextmanager
def _witness(services: TestServices, tenant: str, kind: str = "events") -> Iterator[None]:
    """A durable consumer of the tenant's events (or webhooks) next to the relays', deleted
    afterwards.

    The relayed streams keep a message only until every consumer acknowledged it (interest
    retention): the relay's ack alone deletes it, the witness's interest keeps it readable.
    """
    stream = f"{services.namespace.upper()}_{kind.upper()}"
    name = f"witness-{kind}-{tenant}"
    config = ConsumerConfig(
        durable_name=name, filter_subject=f"{services.namespace}.{kind}.{tenant}.>",
        ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
    )  # fmt: skip

    async def on_jetstream(op: Callable[[JetStreamContext], Awaitable[object]]) -> None:
        nc = await nats.connect(services.nats_url)
        try:
            await op(nc.jetstream())
        finally:
            await nc.close()

    asyncio.run(on_jetstream(lambda js: js.add_consumer(stream, config)))
    try:
        yield
    finally:
        asyncio.run(on_jetstream(lambda js: js.delete_consumer(stream, name)))


async def _new_events(
    services: TestServices, tenant: str, subject: str, kind: str = "events"
) -> list[Msg]:
    """The messages on ``subject`` stored since the tenant's witness last read (acknowledged)."""
    nc = await nats.connect(services.nats_url)
    try:
        ns = services.namespace
        sub = await nc.jetstream().pull_subscribe(
            f"{ns}.{kind}.{tenant}.>", durable=f"witness-{kind}-{tenant}",
            stream=f"{ns.upper()}_{kind.upper()}",
        )  # fmt: skip
        try:
            msgs = await sub.fetch(100, timeout=2)
        except nats.errors.TimeoutError:
            msgs = []
        for msg in msgs:
            await msg.ack()
        return [m for m in msgs if m.subject == f"{ns}.{kind}.{tenant}.{subject}"]
    finally:
        await nc.close()


async def _publish_event(services: TestServices, event: Event, headers: dict | None) -> None:
    nc = await nats.connect(services.nats_url)
    try:
        subject = f"{services.namespace}.events.{event.tenant_id}.{event.subject}"
        await nc.jetstream().publish(
            subject, event.model_dump_json().encode(),
            headers={**(headers or {}), "Nats-Msg-Id": event.id},
        )  # fmt: skip
    finally:
        await nc.close()


def test_events_go_to_the_consumers_named_when_published(
    serve_url: str, counter_source: Path, test_services: TestServices, db_fetch
) -> None:  # type: ignore[no-untyped-def]
    """An event carries its consumers from publish time; one without them is routed on dispatch."""
    tenant, secret = new_tenant(serve_url), whsec()
    hooks = install_generic(tenant, secret=secret)["id"]
    assert tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{hooks}/enable").status_code == 200
    counter = counter_instance(tenant, whsec())
    source = EventSource(plugin="generic-webhook", instance_id=hooks)

    def event(n: int) -> Event:
        return Event(subject="generic.build", tenant_id=tenant.id, source=source, data={"n": n})

    nobody, unrouted = event(1), event(2)  # routed to no one / published by an older version
    asyncio.run(_publish_event(test_services, nobody, {H_ROUTED: ""}))
    asyncio.run(_publish_event(test_services, unrouted, None))
    key = f"effect/event-{unrouted.id}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and key not in effects(db_fetch, counter):
        time.sleep(0.3)
    assert effects(db_fetch, counter) == {key: 1}
    rows = tenant.http.get(f"/v1/tenants/{tenant.id}/deliveries").json()
    assert [r["idempotency_key"] for r in rows if r["instance_id"] == counter] == [
        f"event:{unrouted.id}"
    ]
    # the tenant host keeps the routes it looked up until an instance of the tenant changes;
    # an event nobody consumes is not stored at all
    base = f"/v1/tenants/{tenant.id}/plugins/{counter}"
    with _witness(test_services, tenant.id):
        for step, want in (("disable", None), ("enable", counter)):
            assert tenant.http.post(f"{base}/{step}").status_code == 200
            body = json.dumps({"step": step}).encode()
            sent = httpx.post(f"{serve_url}/v1/webhooks/{tenant.id}/{hooks}", content=body,
                              headers=signed(secret, body, f"route-{step}"))  # fmt: skip
            assert sent.status_code == 202, sent.text
            wait_status(tenant, sent.json()["delivery_id"], "done")
            stored = asyncio.run(_new_events(test_services, tenant.id, "generic.build"))
            assert [m.headers.get(H_ROUTED) for m in stored] == ([] if want is None else [want])
            if want is not None:
                assert json.loads(stored[0].data)["data"]["payload"] == {"step": step}


def test_a_delivery_whose_row_was_lost_is_recorded_again_from_its_message(
    serve_url: str, test_services: TestServices
) -> None:
    """The ingest commits a delivery's row without waiting for the disk; the message carries the
    idempotency key, so a relay records a row lost in a crash of PostgreSQL again."""
    tenant, secret = new_tenant(serve_url), whsec()
    hooks = install_generic(tenant, secret=secret)["id"]
    assert tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{hooks}/enable").status_code == 200
    body = json.dumps({"n": 1}).encode()
    with _witness(test_services, tenant.id, "webhooks"):
        sent = httpx.post(f"{serve_url}/v1/webhooks/{tenant.id}/{hooks}", content=body,
                          headers=signed(secret, body, "kept-1"))  # fmt: skip
        assert sent.status_code == 202, sent.text
        [queued] = asyncio.run(_new_events(test_services, tenant.id, hooks, "webhooks"))
    assert queued.headers[H_KEY] == "std:kept-1"
    wait_status(tenant, sent.json()["delivery_id"], "done")

    # a message as the ingest publishes it, whose row is gone (never written here)
    key = "std:lost-1"
    lost = WebhookDelivery(
        delivery_id=delivery_id_for(tenant.id, hooks, key), tenant_id=tenant.id,
        instance_id=hooks, headers={"webhook-id": "lost-1"}, body=b'{"n": 2}',
    )  # fmt: skip
    subject = f"{test_services.namespace}.webhooks.{tenant.id}.{hooks}"
    headers = {H_KEY: key, H_MAX_ATTEMPTS: "", "Nats-Msg-Id": lost.delivery_id}
    asyncio.run(_publish(test_services, subject, lost.model_dump_json().encode(), headers))
    row = wait_status(tenant, lost.delivery_id, "done")
    assert row["idempotency_key"] == key and row["attempts"] == 1
    # recorded like any delivery: the same webhook sent again now is a duplicate
    again = httpx.post(f"{serve_url}/v1/webhooks/{tenant.id}/{hooks}", content=b'{"n": 2}',
                       headers=signed(secret, b'{"n": 2}', "lost-1"))  # fmt: skip
    assert again.status_code == 200 and again.json()["duplicate"] is True, again.text


async def _publish(services: TestServices, subject: str, data: bytes, headers: dict) -> None:
    nc = await nats.connect(services.nats_url)
    try:
        await nc.jetstream().publish(subject, data, headers=headers)
    finally:
        await nc.close()


def test_pipeline_metrics_cover_outcomes_and_backlog(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    secret = whsec()
    iid = install_generic(tenant, secret=secret)["id"]
    assert tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{iid}/enable").status_code == 200
    body = b'{"type": "m"}'
    url = f"{serve_url}/v1/webhooks/{tenant.id}/{iid}"
    delivery = httpx.post(url, content=body, headers=signed(secret, body, "metrics-1")).json()
    assert httpx.post(url, content=body, headers=signed(whsec(), body, "m-2")).status_code == 401
    wait_status(tenant, delivery["delivery_id"], "done")
    text = httpx.get(f"{serve_url}/metrics").text
    assert 'dcoder_webhook_deliveries_total{outcome="accepted",plugin="generic-webhook"}' in text
    assert 'dcoder_webhook_deliveries_total{outcome="rejected",plugin="generic-webhook"}' in text
    assert 'dcoder_relay_webhook_deliveries_total{outcome="done",plugin="generic-webhook"}' in text
    assert "dcoder_relay_webhook_queue_lag_seconds_bucket" in text
    assert 'dcoder_queue_pending_messages{stream="webhooks"}' in text
    assert "dcoder_webhook_ingest_latency_seconds_bucket" in text
    # The ingest's fast path labels request metrics with the route template, like FastAPI.
    route = 'route="/v1/webhooks/{tenant}/{instance}"'
    for status in ("202", "401"):
        assert f'dcoder_http_requests_total{{method="POST",{route},status="{status}"}}' in text


def test_rotated_secret_overlap_then_expiry(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    old, new = whsec(), whsec()
    iid = install_generic(tenant, secret=old)["id"]
    base = f"/v1/tenants/{tenant.id}/plugins/{iid}"
    assert tenant.http.post(f"{base}/enable").status_code == 200
    url = f"{serve_url}/v1/webhooks/{tenant.id}/{iid}"
    body = b'{"type": "rotation"}'
    overlap = {"secrets": {"signing_secret": new}, "secret_overlap_s": 3600}
    assert tenant.http.patch(base, json=overlap).status_code == 200
    assert httpx.post(url, content=body, headers=signed(old, body, "rot-1")).status_code == 202
    assert httpx.post(url, content=body, headers=signed(new, body, "rot-2")).status_code == 202
    # Rotating again without an overlap revokes the replaced secret at once.
    newest = whsec()
    assert tenant.http.patch(base, json={"secrets": {"signing_secret": newest}}).status_code == 200
    assert httpx.post(url, content=body, headers=signed(new, body, "rot-3")).status_code == 401
    assert httpx.post(url, content=body, headers=signed(newest, body, "rot-4")).status_code == 202


def test_tenant_rate_limit_is_429_with_retry_after(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    url = f"{serve_url}/v1/webhooks/{tenant.id}/i-none"
    headers = {"content-type": "application/json"}

    def post(_: int) -> httpx.Response:
        return httpx.post(url, content=b"{}", headers=headers, timeout=60)

    # Faster than the session's 8/s after a burst of 30; bounded in count and time.
    responses: list[httpx.Response] = []
    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(32) as pool:
        while time.monotonic() < deadline and len(responses) < 2000:
            responses += pool.map(post, range(128))
            if any(r.status_code == 429 for r in responses):
                break
    limited = [r for r in responses if r.status_code == 429]
    assert limited, sorted({r.status_code for r in responses})
    assert {r.status_code for r in responses} == {404, 429}
    assert int(limited[0].headers["retry-after"]) >= 1
    assert limited[0].headers["content-type"] == "application/problem+json"
