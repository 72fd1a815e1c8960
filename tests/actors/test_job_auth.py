"""A job reads its instance's credential in the worker (real PostgreSQL, the session's key)."""

from __future__ import annotations

import base64
import uuid

from actors.job_auth import instance_authorization
from core.credentials import Credential, CredentialStore
from core.crypto import SecretBox
from core.db import Database
from core.keys import secrets_keys
from core.settings import load_settings
from plugin_sdk.jobs import JobRun
from tests.conftest import TestServices
from tests.core.test_secret_store import add_instance


async def test_a_job_gets_its_own_instance_header_and_no_other(
    test_services: TestServices,
) -> None:
    db = Database(test_services.database_url)
    tenant, other = f"ja-{uuid.uuid4().hex[:6]}", f"jb-{uuid.uuid4().hex[:6]}"
    inst, other_inst = f"i-{uuid.uuid4().hex[:8]}", f"i-{uuid.uuid4().hex[:8]}"
    try:
        await add_instance(db, tenant, inst)
        await add_instance(db, other, other_inst)
        store = CredentialStore(db, SecretBox(secrets_keys(load_settings(), create=False)))
        values = {"email": "agent@example.com", "token": "tok-SECRET"}
        await store.put(tenant, inst, Credential("api_token", values))
    finally:
        await db.close()
    header = await instance_authorization(tenant, inst, dict)()
    assert header == "Basic " + base64.b64encode(b"agent@example.com:tok-SECRET").decode()
    # the ids come from the job row: another tenant's job naming this instance gets nothing
    assert await instance_authorization(other, inst, dict)() is None
    assert await instance_authorization(other, other_inst, dict)() is None
    run = JobRun(
        id="j", kind="k", payload={}, tenant_id=tenant, instance_id=inst, config={}, attempt=1,
        auth=instance_authorization(tenant, inst, dict),
    )  # fmt: skip
    assert await run.authorization() == header and "SECRET" not in repr(run)
    bare = JobRun(id="j", kind="k", payload={}, tenant_id=tenant, instance_id=inst, config={},
                  attempt=1)  # fmt: skip
    assert await bare.authorization() is None
