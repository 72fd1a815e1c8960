"""Chaos: a bounded stream of signed deliveries while the platform is being broken.

During the stream a Serve replica, the relay (consumer) actor and the tenant host actor are
killed, and NATS and PostgreSQL are restarted. Afterwards every delivery that got a 2xx was
handled exactly once in effect, and none that got an error was half-processed: its effect count
is 0 or 1, never more. The sender then retries its failed deliveries, as Atlassian does, and in
the end every delivery has exactly one effect.
"""

from __future__ import annotations

import os
import threading
import time

import httpx
import pytest
import ray

from actors import naming
from actors.handles import TenantHosts
from tests.conftest import TestServices
from tests.serve_app.api_client import new_tenant, whsec
from tests.serve_app.webhook_helpers import counter_instance, effects, signed

DELIVERIES = 120
INTERVAL_S = 0.2  # 5/s: under the test session's per-tenant rate limit


def _kill(name: str, namespace: str, restart: bool) -> None:
    try:
        ray.kill(ray.get_actor(name, namespace=namespace), no_restart=not restart)
    except ValueError:
        pass  # not created yet


def _chaos(services: TestServices, tenant_id: str, done: threading.Event) -> list[str]:
    namespace = os.environ["DCODER_RAY_NAMESPACE"]
    host = naming.tenant_host(TenantHosts(namespace, 2).index(tenant_id))
    steps: list[str] = []
    replicas = [a for a in ray.util.list_named_actors(all_namespaces=True)
                if a["name"].startswith("SERVE_REPLICA::")]  # fmt: skip
    actions = [
        ("kill serve replica", lambda: [
            _kill(r["name"], r["namespace"], restart=False) for r in replicas]),
        ("crash relay actor", lambda: _kill(naming.event_relay(0), namespace, restart=True)),
        ("kill tenant host", lambda: _kill(host, namespace, restart=False)),
        ("restart nats", lambda: (services.embedded_nats.stop(), services.embedded_nats.start())),  # type: ignore[union-attr]
        ("restart postgres", lambda: (
            services.embedded_postgres.stop(), services.embedded_postgres.start())),  # type: ignore[union-attr]
    ]  # fmt: skip
    for name, action in actions:
        if done.wait(1.5):
            break
        action()
        steps.append(name)
    return steps


def _send(url: str, secret: str, i: int, attempt: int) -> int | None:
    body = f'{{"n": {i}}}'.encode()
    try:
        response = httpx.post(url, content=body, headers=signed(secret, body, f"chaos-{i}"),
                              timeout=30)  # fmt: skip
    except httpx.HTTPError:
        return None
    return response.status_code


@pytest.mark.slow
def test_chaos_exactly_once_in_effect(
    serve_url: str, test_services: TestServices, counter_source: object, db_fetch
) -> None:  # type: ignore[no-untyped-def]
    if test_services.embedded_nats is None or test_services.embedded_postgres is None:
        pytest.skip(
            "needs the embedded NATS and PostgreSQL: the suite never restarts a server it did "
            "not start"
        )
    tenant = new_tenant(serve_url)
    secret = whsec()
    iid = counter_instance(tenant, secret)
    url = f"{serve_url}/v1/webhooks/{tenant.id}/{iid}"
    done = threading.Event()
    steps: list[str] = []
    chaos = threading.Thread(target=lambda: steps.extend(_chaos(test_services, tenant.id, done)))
    chaos.start()
    outcome: dict[int, int | None] = {}
    try:
        for i in range(DELIVERIES):
            outcome[i] = _send(url, secret, i, 1)
            time.sleep(INTERVAL_S)
    finally:
        done.set()
        chaos.join(timeout=120)
    assert len(steps) == 5, steps
    accepted = {i for i, status in outcome.items() if status in (200, 202)}
    failed = set(outcome) - accepted
    assert accepted, outcome

    def counts() -> dict[str, int]:
        return effects(db_fetch, iid)

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(counts()) < len(accepted):
        time.sleep(1)
    seen = counts()
    assert all(v == 1 for v in seen.values()), {k: v for k, v in seen.items() if v != 1}
    assert len(seen) >= len(accepted)  # every 2xx handled (errors may have been handled too)
    # The sender retries what failed; in the end each delivery has exactly one effect.
    for i in sorted(failed):
        for _ in range(20):
            if _send(url, secret, i, 2) in (200, 202):
                break
            time.sleep(1)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(counts()) < DELIVERIES:
        time.sleep(1)
    final = counts()
    assert len(final) == DELIVERIES, (len(final), steps)
    assert set(final.values()) == {1}
