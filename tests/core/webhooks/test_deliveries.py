"""Delivery records and dead letters on real PostgreSQL: dedupe, lifecycle, isolation, retention."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from core.db import Database, apply_migrations
from core.errors import Conflict, NotFound
from core.webhooks.deliveries import DeliveryStore
from core.webhooks.models import DeadLetterWithPayload
from tests.conftest import TestServices

PAYLOAD = b'{"delivery_id": "d1", "body": "eyJhIjogMX0="}'
HEADERS = {"Nats-Msg-Id": "acme.jira-1.atl:42"}


@pytest.fixture(scope="module")
async def store(test_services: TestServices) -> AsyncIterator[DeliveryStore]:
    db = Database(test_services.database_url)
    await apply_migrations(db)
    yield DeliveryStore(db)
    await db.close()


async def _tenant(store: DeliveryStore, plugin: str = "jira") -> tuple[str, str]:
    """A fresh tenant with one instance; returns (tenant_id, instance_id)."""
    tenant, instance = f"t-{secrets.token_hex(4)}", f"i-{secrets.token_hex(4)}"
    await store.db.execute("INSERT INTO tenants (id, name) VALUES ($1, $1)", tenant)
    await store.db.execute(
        "INSERT INTO plugin_instances (id, tenant_id, plugin, version, name, state)"
        " VALUES ($1, $2, $3, '1.0.0', $4, 'running')",
        instance, tenant, plugin, f"{plugin}-{secrets.token_hex(2)}",
    )  # fmt: skip
    return tenant, instance


async def test_repeated_idempotency_key_returns_the_first_delivery(store: DeliveryStore) -> None:
    tenant, instance = await _tenant(store)
    first, is_new = await store.record_accepted(tenant, instance, "atl:1", event_key="jira:x")
    assert is_new
    again, is_new = await store.record_accepted(tenant, instance, "atl:1")
    assert (again, is_new) == (first, False)
    other, is_new = await store.record_accepted(tenant, instance, "atl:2")
    assert is_new and other != first
    delivery = await store.get(tenant, first)
    assert (delivery.status, delivery.plugin, delivery.attempts) == ("accepted", "jira", 0)
    assert delivery.event_key == "jira:x"


async def test_concurrent_duplicates_record_exactly_one_delivery(store: DeliveryStore) -> None:
    tenant, instance = await _tenant(store)
    results = await asyncio.gather(
        *(store.record_accepted(tenant, instance, "std:msg_1") for _ in range(8))
    )
    assert len({delivery_id for delivery_id, _ in results}) == 1
    assert sum(is_new for _, is_new in results) == 1


async def test_same_key_in_another_instance_or_tenant_is_a_new_delivery(
    store: DeliveryStore,
) -> None:
    tenant_a, instance_a = await _tenant(store)
    tenant_b, instance_b = await _tenant(store)
    a, _ = await store.record_accepted(tenant_a, instance_a, "sha256:abc")
    b, is_new = await store.record_accepted(tenant_b, instance_b, "sha256:abc")
    assert is_new and a != b


async def test_an_instance_of_another_tenant_is_not_found(store: DeliveryStore) -> None:
    tenant_a, _ = await _tenant(store)
    _, instance_b = await _tenant(store)
    with pytest.raises(NotFound, match="no plugin instance"):
        await store.record_accepted(tenant_a, instance_b, "atl:1")


async def test_lifecycle_retry_then_done(store: DeliveryStore) -> None:
    tenant, instance = await _tenant(store)
    delivery_id, _ = await store.record_accepted(tenant, instance, "atl:9")
    started = await store.mark_processing(tenant, delivery_id)
    assert started is not None and started.attempts == 1 and started.queue_lag_s is not None
    next_at = datetime.now(UTC) + timedelta(seconds=30)
    assert await store.mark_retrying(tenant, delivery_id, "ConnectError: refused", next_at)
    retrying = await store.get(tenant, delivery_id)
    assert retrying.status == "retrying" and retrying.next_attempt_at == next_at
    again = await store.mark_processing(tenant, delivery_id)
    assert again is not None and again.attempts == 2 and again.next_attempt_at is None
    assert again.started_at == started.started_at  # timings keep the first start
    assert await store.mark_done(tenant, delivery_id)
    done = await store.get(tenant, delivery_id)
    assert done.status == "done" and done.total_s is not None and done.total_s >= 0
    assert done.last_error == "ConnectError: refused"
    # A redelivery after the ack was lost finds it done: nothing runs twice.
    assert await store.mark_processing(tenant, delivery_id) is None
    assert not await store.mark_done(tenant, delivery_id)
    assert not await store.mark_retrying(tenant, delivery_id, "late", next_at)


async def test_batch_start_and_finish_skip_what_is_not_open(store: DeliveryStore) -> None:
    tenant, instance = await _tenant(store)
    other_tenant, other_instance = await _tenant(store)
    ids = [(await store.record_accepted(tenant, instance, f"atl:b{i}"))[0] for i in range(3)]
    foreign, _ = await store.record_accepted(other_tenant, other_instance, "atl:f")
    assert await store.mark_done(tenant, ids[2])  # finished earlier (a redelivery)
    started = await store.mark_processing_many(tenant, [*ids, foreign])
    assert sorted(started) == sorted(ids[:2])  # not the done one, not another tenant's
    assert all(d.attempts == 1 and d.status == "processing" for d in started.values())
    assert await store.mark_done_many(tenant, [*ids, foreign]) == 2
    assert {(await store.get(tenant, i)).status for i in ids} == {"done"}
    assert (await store.get(other_tenant, foreign)).status == "accepted"
    assert await store.mark_processing_many(tenant, ids) == {}


async def test_dead_letter_is_written_once_with_the_message(store: DeliveryStore) -> None:
    tenant, instance = await _tenant(store, plugin="bitbucket")
    delivery_id, _ = await store.record_accepted(tenant, instance, "bbc:h/r")
    for _ in range(3):
        await store.mark_processing(tenant, delivery_id)
    letter_id = await store.mark_dead(
        tenant, delivery_id, "PermanentError: bad payload", PAYLOAD, HEADERS, "webhook"
    )
    assert letter_id is not None
    again = await store.mark_dead(tenant, delivery_id, "again", PAYLOAD, HEADERS, "webhook")
    assert again is None
    dead = await store.get(tenant, delivery_id)
    assert dead.status == "dead" and dead.attempts == 3 and dead.finished_at is not None
    [listed] = await store.list_dead_letters(tenant)
    assert listed.id == letter_id and listed.payload_bytes == len(PAYLOAD)
    assert (listed.plugin, listed.kind, listed.attempts) == ("bitbucket", "webhook", 3)
    assert "payload" not in listed.model_dump()
    full = await store.get_dead_letter(tenant, letter_id)
    assert full.payload == PAYLOAD and full.headers == HEADERS
    assert full.last_error == "PermanentError: bad payload"
    wire = json.loads(full.model_dump_json())
    assert DeadLetterWithPayload.model_validate_json(json.dumps(wire)).payload == PAYLOAD


async def test_replay_reopens_the_delivery_once(store: DeliveryStore) -> None:
    tenant, instance = await _tenant(store)
    delivery_id, _ = await store.record_accepted(tenant, instance, "req:1")
    await store.mark_processing(tenant, delivery_id)
    letter_id = await store.mark_dead(tenant, delivery_id, "boom", PAYLOAD, {}, "event")
    assert letter_id is not None
    replayed = await store.mark_replayed(tenant, letter_id)
    assert replayed.payload == PAYLOAD and replayed.replayed_at is not None
    reopened = await store.get(tenant, delivery_id)
    assert (reopened.status, reopened.attempts, reopened.finished_at) == ("accepted", 0, None)
    with pytest.raises(Conflict, match="already replayed"):
        await store.mark_replayed(tenant, letter_id)
    assert await store.mark_processing(tenant, delivery_id) is not None
    assert await store.mark_done(tenant, delivery_id)


async def test_dead_letters_are_isolated_per_tenant(store: DeliveryStore) -> None:
    tenant, instance = await _tenant(store)
    intruder, _ = await _tenant(store)
    delivery_id, _ = await store.record_accepted(tenant, instance, "atl:x")
    letter_id = await store.mark_dead(tenant, delivery_id, "boom", PAYLOAD, {}, "webhook")
    assert letter_id is not None
    assert await store.list_dead_letters(intruder) == []
    assert await store.list_deliveries(intruder) == []
    for attempt in (
        store.get_dead_letter(intruder, letter_id),
        store.mark_replayed(intruder, letter_id),
        store.delete_dead_letter(intruder, letter_id),
        store.get(intruder, delivery_id),
    ):
        with pytest.raises(NotFound):
            await attempt
    assert await store.mark_processing(intruder, delivery_id) is None
    assert not await store.mark_done(intruder, delivery_id)
    assert await store.mark_dead(intruder, delivery_id, "x", b"", {}, "webhook") is None
    await store.delete_dead_letter(tenant, letter_id)
    assert await store.list_dead_letters(tenant) == []
    with pytest.raises(NotFound):
        await store.delete_dead_letter(tenant, letter_id)


async def test_list_deliveries_filters_and_orders(store: DeliveryStore) -> None:
    tenant, jira = await _tenant(store, plugin="jira")
    bitbucket = f"i-{secrets.token_hex(4)}"
    await store.db.execute(
        "INSERT INTO plugin_instances (id, tenant_id, plugin, version, name, state)"
        " VALUES ($1, $2, 'bitbucket', '1.0.0', 'bb', 'running')",
        bitbucket, tenant,
    )  # fmt: skip
    base = datetime.now(UTC) - timedelta(hours=1)
    ids = []
    for i, instance in enumerate([jira, bitbucket, jira]):
        delivery_id, _ = await store.record_accepted(
            tenant, instance, f"k{i}", received_at=base + timedelta(minutes=i)
        )
        ids.append(delivery_id)
    await store.mark_processing(tenant, ids[2])
    assert [d.id for d in await store.list_deliveries(tenant)] == ids[::-1]
    assert [d.id for d in await store.list_deliveries(tenant, plugin="jira")] == [ids[2], ids[0]]
    assert [d.id for d in await store.list_deliveries(tenant, status="processing")] == [ids[2]]
    since = base + timedelta(seconds=30)
    assert [d.id for d in await store.list_deliveries(tenant, since=since)] == [ids[2], ids[1]]
    assert len(await store.list_deliveries(tenant, limit=1)) == 1
    row = json.loads((await store.list_deliveries(tenant, limit=1))[0].model_dump_json())
    assert row["status"] == "processing" and "queue_lag_s" in row and row["total_s"] is None


async def test_purge_keeps_recent_open_and_replayable_deliveries(store: DeliveryStore) -> None:
    tenant, instance = await _tenant(store)
    old = datetime.now(UTC) - timedelta(days=10)

    async def delivery(key: str, received_at: datetime, end: str | None) -> str:
        delivery_id, _ = await store.record_accepted(tenant, instance, key, received_at=received_at)
        if end == "done":
            await store.mark_done(tenant, delivery_id)
        elif end == "dead":
            await store.mark_dead(tenant, delivery_id, "boom", b"x", {}, "webhook")
        return delivery_id

    old_done = await delivery("a", old, "done")
    old_open = await delivery("b", old, None)
    recent_done = await delivery("c", datetime.now(UTC), "done")
    old_dead_fresh_letter = await delivery("d", old, "dead")
    old_dead_stale_letter = await delivery("e", old, "dead")
    await store.db.execute(
        "UPDATE dead_letters SET dead_at = now() - interval '40 days' WHERE delivery_id = $1",
        old_dead_stale_letter,
    )
    assert await store.purge_older_than(7) >= 2
    remaining = {d.id for d in await store.list_deliveries(tenant)}
    assert remaining == {old_open, recent_done, old_dead_fresh_letter}
    assert old_done not in remaining
    assert len(await store.list_dead_letters(tenant)) == 1
    # The key of a purged delivery is accepted again as new (outside the dedup window).
    _, is_new = await store.record_accepted(tenant, instance, "a")
    assert is_new
