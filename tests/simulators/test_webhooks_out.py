"""Outbound webhooks: real HTTP to a local receiver, product headers, signatures, retries, log."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from core.signing import verify_hub_signature
from simulators.webhooks_out import RetryPolicy, WebhookSender
from tests.simulators.bitbucket_cloud.live import LiveServer, Receiver, bind_free_port

FAST = RetryPolicy(max_attempts=3, backoff_s=0.01, max_backoff_s=0.02, timeout_s=5)
PAYLOAD = {"pullrequest": {"id": 1}, "repository": {"full_name": "ws/repo"}}


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()
    with LiveServer(lambda _url: rec.app()) as server:
        yield rec, server.url


async def test_bitbucket_cloud_delivery_is_signed_with_the_real_headers(
    receiver: tuple[Receiver, str],
) -> None:
    rec, url = receiver
    sender = WebhookSender(FAST)
    hook = sender.register("bitbucket-cloud", url + "/hook", secret="s3cret", scope="ws/repo")
    [delivery] = sender.emit("bitbucket-cloud", "pullrequest:created", PAYLOAD, scope="ws/repo")
    await sender.drain()
    [got] = rec.requests
    assert got.headers["x-event-key"] == "pullrequest:created"
    assert got.headers["x-hook-uuid"] == hook.uuid
    assert got.headers["x-request-uuid"] == delivery.id
    assert got.headers["x-attempt-number"] == "1"
    assert got.headers["user-agent"] == "Bitbucket-Webhooks/2.0"
    assert verify_hub_signature(["old", "s3cret"], got.body, got.headers["x-hub-signature"])
    assert delivery.state == "delivered"
    assert delivery.payload() == PAYLOAD


async def test_retries_with_backoff_keep_the_request_id(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    rec.statuses[:] = [500, 503]
    sender = WebhookSender(FAST)
    sender.register("bitbucket-cloud", url)
    [delivery] = sender.emit("bitbucket-cloud", "pullrequest:updated", PAYLOAD)
    await sender.drain()
    assert [r.headers["x-attempt-number"] for r in rec.requests] == ["1", "2", "3"]
    assert {r.headers["x-request-uuid"] for r in rec.requests} == {delivery.id}
    assert [a.status for a in delivery.attempts] == [500, 503, 200]
    assert delivery.state == "delivered"


async def test_retries_are_bounded_and_client_errors_are_not_retried(
    receiver: tuple[Receiver, str],
) -> None:
    rec, url = receiver
    rec.statuses[:] = [502] * 5
    sender = WebhookSender(FAST)
    sender.register("bitbucket-dc", url)
    [failed] = sender.emit("bitbucket-dc", "pr:opened", PAYLOAD)
    await sender.drain()
    assert failed.state == "failed" and len(failed.attempts) == 3

    rec.statuses[:] = [400]
    [refused] = sender.emit("bitbucket-dc", "pr:opened", PAYLOAD)
    await sender.drain()
    assert refused.state == "failed" and [a.status for a in refused.attempts] == [400]


async def test_unreachable_endpoint_records_the_transport_error() -> None:
    sock = bind_free_port()  # bound but never listening: connections are refused
    try:
        sender = WebhookSender(FAST)
        sender.register("jira", f"http://127.0.0.1:{sock.getsockname()[1]}/hook")
        [delivery] = sender.emit("jira", "jira:issue_updated", {"webhookEvent": "x"})
        await sender.drain()
    finally:
        sock.close()
    assert delivery.state == "failed"
    assert len(delivery.attempts) == 3
    assert all(a.error and a.status is None for a in delivery.attempts)


async def test_jira_and_dc_headers(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    rec.statuses[:] = [503]
    sender = WebhookSender(FAST)
    sender.register("jira", url, secret="j")
    sender.register("bitbucket-dc", url)
    [jira] = sender.emit("jira", "jira:issue_updated", {"webhookEvent": "jira:issue_updated"})
    await sender.drain()
    first, second = rec.requests
    assert first.headers["x-atlassian-webhook-identifier"] == jira.id
    assert second.headers["x-atlassian-webhook-identifier"] == jira.id
    assert "x-atlassian-webhook-retry" not in first.headers
    assert second.headers["x-atlassian-webhook-retry"] == "1"
    assert verify_hub_signature(["j"], second.body, second.headers["x-hub-signature"])

    [dc] = sender.emit("bitbucket-dc", "pr:merged", {"eventKey": "pr:merged"})
    await sender.drain()
    last = rec.requests[-1]
    assert last.headers["x-event-key"] == "pr:merged"
    assert last.headers["x-request-id"] == dc.id
    assert "x-hub-signature" not in last.headers  # no secret, no signature
    assert last.headers["user-agent"].startswith("Atlassian HttpClient")


async def test_only_matching_hooks_receive(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    sender = WebhookSender(FAST)
    sender.register("bitbucket-cloud", url + "/a", events={"pullrequest:created"})
    sender.register("bitbucket-cloud", url + "/b", scope="ws/other")
    sender.register("jira", url + "/c")
    removed = sender.register("bitbucket-cloud", url + "/d")
    assert sender.unregister(removed.uuid) and not sender.unregister(removed.uuid)
    sender.emit("bitbucket-cloud", "pullrequest:created", PAYLOAD, scope="ws/repo")
    sender.emit("bitbucket-cloud", "pullrequest:updated", PAYLOAD, scope="ws/repo")
    await sender.drain()
    assert [r.path for r in rec.requests] == ["/a"]


async def test_sim_router_exposes_hooks_and_log(receiver: tuple[Receiver, str]) -> None:
    _rec, url = receiver
    sender = WebhookSender(FAST)
    sender.register("bitbucket-cloud", url, secret="never-shown")
    app = FastAPI()
    app.include_router(sender.router())
    sender.emit("bitbucket-cloud", "pullrequest:created", PAYLOAD)
    await sender.drain()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        hooks = (await client.get("/_sim/webhooks/hooks")).json()
        log = (await client.get("/_sim/webhooks/deliveries")).json()
        assert (await client.delete("/_sim/webhooks/deliveries")).status_code == 204
        assert (await client.get("/_sim/webhooks/deliveries")).json() == []
    assert hooks[0]["secret"] is True and "never-shown" not in str(hooks)
    assert log[0]["event"] == "pullrequest:created" and log[0]["body"] == PAYLOAD
    assert log[0]["state"] == "delivered"
    assert sender.wait_settled(1.0)
