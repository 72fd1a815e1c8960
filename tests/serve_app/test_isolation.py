"""Tenant isolation matrix: every tenant-scoped route, enumerated from the OpenAPI document.

Tenant B's key on tenant A's resources gets 404 (never 403, never data): existence does not leak.
New routes with ``{tenant}`` in their path are covered automatically.
"""

from __future__ import annotations

import asyncio
import re

import asyncpg
import httpx

from tests.conftest import TestServices
from tests.serve_app.api_client import install_generic, new_tenant


def _owned_job(database_url: str, tenant_id: str, instance_id: str) -> str:
    """A real job row of the owner, so the matrix probes an id that exists (not a made-up one)."""
    from core.db import Database
    from core.jobs.store import JobStore
    from core.settings import load_settings

    async def run() -> str:
        db = Database(database_url, load_settings().database)
        try:
            job, _ = await JobStore(db).submit(tenant_id, instance_id, "isolation-probe", {})
            return job.id
        finally:
            await db.close()

    return asyncio.run(run())


def _job_status(database_url: str, job_id: str) -> str:
    async def run() -> str:
        conn = await asyncpg.connect(database_url)
        try:
            return str(await conn.fetchval("SELECT status FROM jobs WHERE id = $1", job_id))
        finally:
            await conn.close()

    return asyncio.run(run())


def _tenant_routes(serve_url: str) -> list[tuple[str, str]]:
    spec = httpx.get(f"{serve_url}/openapi.json").json()
    return [
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        if "{tenant}" in path
        for method in ops
    ]


def test_other_tenants_key_gets_404_everywhere(serve_url: str, test_services: TestServices) -> None:
    owner = new_tenant(serve_url, "owner")
    intruder = new_tenant(serve_url, "intruder")
    instance = install_generic(owner)
    key_id = owner.http.get(f"/v1/tenants/{owner.id}/keys").json()[0]["id"]
    job_id = _owned_job(test_services.database_url, owner.id, instance["id"])
    values = {"tenant": owner.id, "instance": instance["id"], "key_id": key_id, "job_id": job_id}
    routes = _tenant_routes(serve_url)
    assert len(routes) >= 12, routes
    failures = []
    for method, template in routes:
        path = re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], "x-unknown"), template)
        body = {} if method in ("POST", "PATCH", "PUT") else None
        response = intruder.http.request(method, path, json=body)
        leaked = [f for f in ("secrets_set", "config", "created_at") if f in response.text]
        if response.status_code != 404 or response.json().get("code") != "not-found" or leaked:
            failures.append(f"{method} {template}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    # The owner's instance is untouched by the attempts.
    mine = owner.http.get(f"/v1/tenants/{owner.id}/plugins/{instance['id']}")
    assert mine.status_code == 200
    assert mine.json()["state"] == "installed"
    assert owner.http.get(f"/v1/tenants/{owner.id}/keys").json()[0]["id"] == key_id
    # The intruder's cancel did not reach the owner's job, which the owner still reads.
    assert _job_status(test_services.database_url, job_id) != "cancelled"
    assert owner.http.get(f"/v1/tenants/{owner.id}/jobs/{job_id}").status_code == 200


def test_unknown_tenant_and_foreign_tenant_look_the_same(serve_url: str) -> None:
    owner = new_tenant(serve_url, "owner")
    intruder = new_tenant(serve_url, "intruder")
    foreign = intruder.http.get(f"/v1/tenants/{owner.id}/plugins")
    missing = intruder.http.get("/v1/tenants/no-such-tenant/plugins")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["title"] == missing.json()["title"]
