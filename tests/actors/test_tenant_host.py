"""The tenant hosts through the typed client, on the real service: a deleted tenant is forgotten
by its host alone (other tenants stay active), and a name outside the closed set is refused."""

from __future__ import annotations

import asyncio
import os

import pytest
import ray

from actors import spawn
from actors.handles import TenantClient, host_index
from tests.serve_app.api_client import TenantClient as ApiTenant
from tests.serve_app.api_client import install_generic, new_tenant, operator


def _client() -> TenantClient:
    namespace, count = os.environ["DCODER_RAY_NAMESPACE"], os.environ["DCODER_RAY_TENANT_HOSTS"]
    return TenantClient(namespace, int(count))


def _tenants_on_one_host(serve_url: str) -> tuple[ApiTenant, ApiTenant]:
    count = int(os.environ["DCODER_RAY_TENANT_HOSTS"])
    first = new_tenant(serve_url, "fg")
    for _ in range(64):  # 1 in `count` lands on the same host: found within a few
        other = new_tenant(serve_url, "fg")
        if host_index(other.id, count) == host_index(first.id, count):
            return first, other
    raise AssertionError("no second tenant on the same host")


def test_deleting_a_tenant_forgets_it_alone(serve_url: str) -> None:
    deleted, kept = _tenants_on_one_host(serve_url)
    for tenant in (deleted, kept):  # each is active on the host now
        install_generic(tenant, "active")
    with operator(serve_url) as op:
        assert op.delete(f"/v1/tenants/{deleted.id}").status_code == 204
    client = _client()
    # the deletion dropped the deleted tenant and left the other one active (a forget of it
    # finds it); before, the whole host's idle tenants were passivated
    assert asyncio.run(client.forget(deleted.id)) is False
    assert asyncio.run(client.forget(kept.id)) is True
    # forgotten is not lost: the next call activates it again from PostgreSQL
    listed = kept.http.get(f"/v1/tenants/{kept.id}/plugins")
    assert [i["name"] for i in listed.json()] == ["active"]


@pytest.mark.parametrize("name", ["close", "_load", "__init__", "passivate"])
def test_the_host_refuses_operations_outside_the_closed_set(serve_url: str, name: str) -> None:
    tenant = new_tenant(serve_url, "op")
    namespace = os.environ["DCODER_RAY_NAMESPACE"]
    index = host_index(tenant.id, int(os.environ["DCODER_RAY_TENANT_HOSTS"]))
    host = spawn.tenant_host(namespace, index)  # the host, created if no test used it yet
    with pytest.raises(ray.exceptions.RayTaskError, match="unknown tenant operation"):
        ray.get(host.call.remote(tenant.id, name, {}), timeout=60)
    # refused before the tenant was activated
    assert asyncio.run(_client().forget(tenant.id)) is False
