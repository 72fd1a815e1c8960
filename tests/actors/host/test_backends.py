"""The effect ledger on PostgreSQL: claims and completions issued together (a relay batch's
handlers) share one statement, and each key keeps its own outcome."""

from __future__ import annotations

import asyncio
import secrets

from actors.host.backends import PostgresEffectLedger
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
