"""The effect ledger on PostgreSQL: claims and completions issued together (a relay batch's
handlers) share one statement, and each key keeps its own outcome."""

from __future__ import annotations

import asyncio
import secrets

from actors.host.backends import PostgresEffectLedger, purge_settled_effects
from core.db import Database
from tests.conftest import TestServices


async def _ledger(db: Database) -> PostgresEffectLedger:
    tenant = f"fx-{secrets.token_hex(3)}"
    instance = f"inst-{secrets.token_hex(4)}"
    await db.execute("INSERT INTO tenants (id, name) VALUES ($1, 'effects')", tenant)
    await db.execute(
        "INSERT INTO plugin_instances (id, tenant_id, plugin, version, name, state)"
        " VALUES ($1, $2, 'generic-webhook', '1.0.0', 'fx', 'enabled')", instance, tenant,
    )  # fmt: skip
    return PostgresEffectLedger(db, instance)


def test_concurrent_claims_and_completions_keep_each_keys_outcome(
    test_services: TestServices,
) -> None:
    async def main() -> None:
        db = Database(test_services.database_url)
        try:
            ledger = await _ledger(db)
            keys = [f"d{n}/publish" for n in range(20)]
            # one batch: every key claimed at once; the same key twice gets one claim
            claims = await asyncio.gather(
                *(ledger.claim(k, lease_s=60) for k in [*keys, keys[0]])
            )  # fmt: skip
            assert claims == [True] * 20 + [False]
            # claimed and not expired: nobody else gets them
            assert (
                await asyncio.gather(*(ledger.claim(k, lease_s=60) for k in keys[:3]))
                == [False] * 3
            )
            await asyncio.gather(*(ledger.complete(k, {"n": n}) for n, k in enumerate(keys[:10])))
            assert await ledger.result(keys[4]) == (True, {"n": 4})
            assert await ledger.result(keys[12]) == (False, None)  # still pending
            # done keys are never claimed again, expired pending ones are, fresh ones are
            await db.execute(
                "UPDATE instance_effects SET lease_until = now() - interval '1 s'"
                " WHERE instance_id = $1 AND key = $2", ledger.instance_id, keys[15],
            )  # fmt: skip
            again = await asyncio.gather(
                ledger.claim(keys[2], lease_s=60), ledger.claim(keys[15], lease_s=60),
                ledger.claim(keys[16], lease_s=60), ledger.claim("fresh/publish", lease_s=60),
            )  # fmt: skip
            assert again == [False, True, False, True]
            await ledger.release(keys[15])
            assert await ledger.claim(keys[15], lease_s=60)
            await ledger.complete(keys[15])
            assert await ledger.result(keys[15]) == (True, None)
        finally:
            await db.close()

    asyncio.run(main())


def test_a_failed_statement_fails_every_caller_of_it(test_services: TestServices) -> None:
    async def main() -> None:
        db = Database(test_services.database_url)
        try:
            ledger = await _ledger(db)
            ledger.instance_id = "no-such-instance"  # the foreign key refuses the batch
            outcomes = await asyncio.gather(
                *(ledger.claim(f"k{n}", lease_s=60) for n in range(3)), return_exceptions=True
            )
            assert all(isinstance(o, Exception) for o in outcomes)
        finally:
            await db.close()

    asyncio.run(main())


def test_settled_effects_are_purged_after_the_longest_redelivery(
    test_services: TestServices,
) -> None:
    """Entries go once no redelivery can need them; fresh, live-claimed and held ones stay."""

    async def main() -> None:
        db = Database(test_services.database_url)
        try:
            ledger, holding = await _ledger(db), await _ledger(db)
            for led in (ledger, holding):
                for key in ("old-done", "old-dead-claim", "old-live-claim", "fresh-done"):
                    assert await led.claim(key, lease_s=60)
                await led.complete("old-done")
                await led.complete("fresh-done")
                await db.execute(
                    "UPDATE instance_effects SET updated_at = now() - interval '31 days'"
                    " WHERE instance_id = $1"
                    " AND key IN ('old-done', 'old-dead-claim', 'old-live-claim')",
                    led.instance_id,
                )  # fmt: skip
                await db.execute(
                    "UPDATE instance_effects SET lease_until = now() - interval '31 days'"
                    " WHERE instance_id = $1 AND key = 'old-dead-claim'", led.instance_id,
                )  # fmt: skip
            # one instance keeps a delivery for re-authorization: its entries must all stay
            tenant = await db.fetchval(
                "SELECT tenant_id FROM plugin_instances WHERE id = $1", holding.instance_id
            )
            await db.execute(
                "INSERT INTO deliveries (id, tenant_id, instance_id, plugin, idempotency_key,"
                " status) VALUES ('held-d', $1, $2, 'generic-webhook', 'k', 'retrying')",
                tenant, holding.instance_id,
            )  # fmt: skip
            await db.execute(
                "INSERT INTO held_deliveries (id, delivery_id, tenant_id, instance_id, subject,"
                " payload) VALUES ('held-1', 'held-d', $1, $2, 's', '\\x00')",
                tenant, holding.instance_id,
            )  # fmt: skip

            assert await purge_settled_effects(db, 30) >= 2

            async def keys(led: PostgresEffectLedger) -> set[str]:
                rows = await db.fetch(
                    "SELECT key FROM instance_effects WHERE instance_id = $1", led.instance_id
                )
                return {r["key"] for r in rows}

            assert await keys(ledger) == {"old-live-claim", "fresh-done"}
            assert await keys(holding) == {
                "old-done", "old-dead-claim", "old-live-claim", "fresh-done",
            }  # fmt: skip
            # a purged key is claimable again (its redeliveries are over)
            assert await ledger.claim("old-done", lease_s=60)
        finally:
            await db.close()

    asyncio.run(main())
