"""What keeps work bounded when the dispatch falls behind (issue #19), on real Ray and NATS.

- a call to a tenant host that its caller gave up on is cancelled, not left queued in the host
  (else the caller, its slot free again, sends more while the host still runs the old ones);
- a relay still working on a message keeps it from being redelivered past the ack wait;
- the ingress replica sends one instance-profile lookup at a time, however many requests wait
  for it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from typing import Any

import pytest
import ray
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from actors.event_relay import keep_alive
from actors.handles import TenantHosts
from core.bus import Bus
from core.errors import DependencyUnavailable, NotFound
from core.settings import NatsSettings, load_settings
from serve_app.ingest import WebhookIngest
from tests.conftest import TestServices


@ray.remote(max_concurrency=1)
class OneAtATime:
    """An async actor that runs one call at a time, so later calls queue (like a busy host)."""

    def __init__(self) -> None:
        self.finished: list[str] = []

    async def work(self, tag: str, seconds: float) -> str:
        await asyncio.sleep(seconds)
        self.finished.append(tag)
        return tag

    async def done(self) -> list[str]:
        return list(self.finished)


async def test_a_host_call_given_up_on_is_cancelled_not_left_queued(ray_address: str) -> None:
    actor = OneAtATime.remote()  # type: ignore[attr-defined]
    hosts = TenantHosts(os.environ["DCODER_RAY_NAMESPACE"], 1, spawn=lambda _: actor)
    assert await actor.done.remote() == []  # up and idle
    busy = actor.work.remote("busy", 3.0)  # the host is working on something else
    # queued behind it: given up on after 0.5 s
    with pytest.raises(DependencyUnavailable, match="timed out"):
        await hosts.on_host("t", "work", lambda h: h.work.remote("queued", 0.0), 0.5)
    # running when given up on: interrupted
    await busy
    with pytest.raises(DependencyUnavailable, match="timed out"):
        await hosts.on_host("t", "work", lambda h: h.work.remote("running", 3.0), 0.5)
    await asyncio.sleep(3.5)  # long enough for either to have finished, had it gone on
    assert await actor.done.remote() == ["busy"]
    ray.kill(actor)


async def test_a_message_in_hand_is_not_redelivered_past_its_ack_wait(
    test_services: TestServices,
) -> None:
    ns = f"k{secrets.token_hex(3)}"
    bus = Bus(test_services.nats_url, NatsSettings(namespace=ns))
    js = await bus.jetstream()
    await js.add_stream(StreamConfig(name=ns.upper(), subjects=[f"{ns}.>"]))
    try:
        config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=2.0, max_deliver=-1)
        sub = await js.pull_subscribe(f"{ns}.>", durable="relay", config=config)
        await js.publish(f"{ns}.a", b"kept", headers={"Nats-Msg-Id": "a"})
        await js.publish(f"{ns}.b", b"left", headers={"Nats-Msg-Id": "b"})
        kept, left = await sub.fetch(2, timeout=5)
        alive = asyncio.create_task(keep_alive([kept], every_s=0.5))
        await asyncio.sleep(4.5)  # more than twice the ack wait
        again = await sub.fetch(2, timeout=2)
        alive.cancel()
        # only the message nobody kept alive came back
        assert [m.data for m in again] == [b"left"]
        assert again[0].metadata.num_delivered == 2
        await kept.ack()
        await again[0].ack()
    finally:
        await js.delete_stream(ns.upper())
        await bus.close()


class SlowProfiles:
    """Answers ``ingest_profile`` after a while and counts the lookups (the ingest's only use
    of the tenant hosts on this path)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    async def ingest_profile(self, tenant_id: str, instance_id: str) -> dict[str, Any] | None:
        self.calls += 1
        await asyncio.sleep(self.seconds)
        spec = {"scheme": "standard-webhooks", "secret": "signing_secret"}
        return {"plugin": "generic-webhook", "spec": spec, "scheme": "standard-webhooks"}


async def test_waiting_requests_share_one_profile_lookup(test_services: TestServices) -> None:
    hosts = SlowProfiles(0.3)
    ingest = WebhookIngest(load_settings().webhooks, hosts, None, None)  # type: ignore[arg-type]
    waiting = [asyncio.create_task(ingest.profile("t", "i")) for _ in range(50)]
    await asyncio.sleep(0.05)
    for task in waiting[:10]:  # their clients gave up: the others' lookup goes on
        task.cancel()
    found = await asyncio.gather(*waiting[10:])
    assert hosts.calls == 1
    assert all(p["plugin"] == "generic-webhook" for p in found)
    await ingest.profile("t", "i")  # cached
    assert hosts.calls == 1
    started = time.monotonic()
    ingest.forget("t", "i")
    await asyncio.gather(*(ingest.profile("t", "i") for _ in range(5)))
    assert hosts.calls == 2 and time.monotonic() - started >= 0.3


class Profiles(SlowProfiles):
    """SlowProfiles that can be told the instance stopped taking webhooks."""

    gone = False

    async def ingest_profile(self, tenant_id: str, instance_id: str) -> dict[str, Any] | None:
        found = await super().ingest_profile(tenant_id, instance_id)
        return None if self.gone else found


async def test_a_profile_is_looked_up_again_ahead_of_its_expiry(
    test_services: TestServices,
) -> None:
    """Past half its lifetime a cached profile is refreshed in the background: no request waits."""
    hosts = Profiles(0.2)
    ingest = WebhookIngest(load_settings().webhooks, hosts, None, None)  # type: ignore[arg-type]
    ingest.profile_ttl_s = 1.0
    await ingest.profile("t", "i")  # looked up from 0 to 0.2 s
    assert hosts.calls == 1
    await ingest.profile("t", "i")  # fresh: no lookup
    assert hosts.calls == 1
    await asyncio.sleep(0.35)  # past half its lifetime
    started = time.monotonic()
    await asyncio.gather(*(ingest.profile("t", "i") for _ in range(5)))
    assert time.monotonic() - started < 0.1  # the cached one, at once
    assert hosts.calls == 2  # one lookup in the background, shared
    await asyncio.sleep(0.3)  # it finished: the profile is good for 1 s from its start
    started = time.monotonic()
    await ingest.profile("t", "i")
    assert time.monotonic() - started < 0.1 and hosts.calls == 2
    # the instance stops taking webhooks: the background lookup drops the cached profile
    hosts.gone = True
    await asyncio.sleep(0.3)
    await ingest.profile("t", "i")  # still the cached one; starts the lookup that finds it gone
    await asyncio.sleep(0.01)
    assert hosts.calls == 3
    await asyncio.sleep(0.3)
    with pytest.raises(NotFound):
        await ingest.profile("t", "i")
    # expired without traffic: the next request waits for a lookup, as before
    hosts.gone = False
    await ingest.profile("t", "i")
    await asyncio.sleep(1.1)
    started = time.monotonic()
    await ingest.profile("t", "i")
    assert time.monotonic() - started >= 0.2
