"""Killing a tenant host actor or a Serve replica loses no configured state; secrets never leak."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import ray

from actors import naming
from actors.handles import TenantHosts
from tests.serve_app.api_client import install_generic, new_tenant, whsec


def _wait_ok(client: httpx.Client, path: str, timeout_s: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    last: httpx.Response | str = "no answer"
    while time.monotonic() < deadline:
        try:
            last = client.get(path)
            if last.status_code == 200:
                return last
        except httpx.HTTPError as err:
            last = repr(err)
        time.sleep(0.3)
    raise AssertionError(f"{path} not 200 after {timeout_s}s: {last}")


def test_killed_tenant_actor_comes_back_with_the_same_state(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    created = install_generic(tenant, "kill-me")
    base = f"/v1/tenants/{tenant.id}/plugins/{created['id']}"
    assert tenant.http.post(f"{base}/enable").status_code == 200
    namespace = os.environ["DCODER_RAY_NAMESPACE"]
    index = TenantHosts(namespace, int(os.environ["DCODER_RAY_TENANT_HOSTS"])).index(tenant.id)
    host = ray.get_actor(naming.tenant_host(index), namespace=namespace)
    old_pid = ray.get(host.stats.remote(), timeout=30)["pid"]
    ray.kill(host)  # no restart: the next call creates a fresh host
    after = _wait_ok(tenant.http, base).json()
    assert after["state"] == "enabled"
    assert after["config"] == created["config"]
    assert after["secrets_set"] == ["signing_secret"]
    new_host = ray.get_actor(naming.tenant_host(index), namespace=namespace)
    assert ray.get(new_host.stats.remote(), timeout=30)["pid"] != old_pid


def test_killed_serve_replica_is_replaced_and_state_kept(serve_url: str) -> None:
    tenant = new_tenant(serve_url)
    created = install_generic(tenant, "replica")
    replicas = [
        a for a in ray.util.list_named_actors(all_namespaces=True)
        if a["name"].startswith("SERVE_REPLICA::") and "Ingress" in a["name"]
    ]  # fmt: skip
    assert replicas
    for replica in replicas:
        ray.kill(ray.get_actor(replica["name"], namespace=replica["namespace"]))
    after = _wait_ok(tenant.http, f"/v1/tenants/{tenant.id}/plugins/{created['id']}", 120).json()
    assert after["config"] == created["config"]
    assert after["state"] == "installed"


def test_secrets_never_appear_in_responses_logs_or_records(serve_url: str, db_fetch) -> None:  # type: ignore[no-untyped-def]
    tenant = new_tenant(serve_url)
    secret = whsec()
    marker = secret.removeprefix("whsec_")
    created = install_generic(tenant, "secretive", secret=secret)
    base = f"/v1/tenants/{tenant.id}/plugins/{created['id']}"
    rotated = whsec()
    bodies = [
        tenant.http.post(f"{base}/enable").text,
        tenant.http.patch(
            base, json={"secrets": {"signing_secret": rotated}, "secret_overlap_s": 60}
        ).text,  # fmt: skip
        tenant.http.get(base).text,
        tenant.http.get(f"/v1/tenants/{tenant.id}/plugins").text,
        tenant.http.get(f"{base}/health").text,
        tenant.http.get(f"/v1/tenants/{tenant.id}/audit").text,
        tenant.http.get(f"/v1/tenants/{tenant.id}/keys").text,
    ]
    values = (marker, rotated.removeprefix("whsec_"), tenant.key)
    for body in bodies:
        for value in values:
            assert value not in body
    rows = db_fetch(
        "SELECT row_to_json(a)::text AS j FROM audit_log a UNION ALL "
        "SELECT row_to_json(p)::text FROM plugin_instances p UNION ALL "
        "SELECT row_to_json(k)::text FROM tenant_api_keys k UNION ALL "
        "SELECT encode(ciphertext, 'escape') FROM instance_secrets"
    )
    for row in rows:
        for value in values:
            assert value not in row["j"]
    log_dir = Path(_session_dir()) / "logs"
    leaks = [
        str(path) for path in log_dir.rglob("*") if path.is_file()
        and any(v.encode() in path.read_bytes() for v in values)
    ]  # fmt: skip
    assert not leaks, leaks


def _session_dir() -> str:
    from ray._private.worker import global_worker

    return str(global_worker.node.get_session_dir_path())
