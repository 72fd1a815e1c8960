"""Memory per active tenant and idle tenants per node: tenants stored in PostgreSQL, a share of
them activated in the tenant host actors, then passivated again, on one isolated service.

A tenant is a virtual actor: idle, it is only rows in PostgreSQL; active, it is a
``TenantRuntime`` with its live plugin instances inside one of the few ``TenantHost`` processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import numpy as np
import psutil

from bench.support.ray_probe import HostProbe, attached
from bench.support.service import Service, isolated_service

TITLE = "Tenants: memory per active tenant and idle tenants per node (virtual actors)"
STORED = 10_000
ACTIVE = 1_000  # activated through the HTTP API
ACTIVE_DIRECT = 5_000  # then, up to this many, by direct actor calls from a Ray driver
WARM_SAMPLE = 300
HOSTS = 2  # the default DCODER_RAY_TENANT_HOSTS
MIB = 2**20
SEED_SQL = """
INSERT INTO tenants (id, name)
    SELECT $1 || lpad(g::text, 5, '0'), 'idle tenant ' || g FROM generate_series(1, $2::int) g;
INSERT INTO plugin_instances (id, tenant_id, plugin, version, name, config, state)
    SELECT 'i-' || substr(md5($1 || g::text), 1, 16), $1 || lpad(g::text, 5, '0'),
           'generic-webhook', '1.0.0', 'hooks', '{}'::jsonb, 'enabled'
    FROM generate_series(1, $2::int) g;
"""


@dataclass
class Seeded:
    """Tenants written straight into PostgreSQL."""

    prefix: str
    count: int
    seconds: float
    pg_bytes: int

    def tenant(self, n: int) -> tuple[str, str]:
        """Tenant id and its instance id of tenant number ``n`` (1-based)."""
        import hashlib

        tenant = f"{self.prefix}{n:05d}"
        return tenant, "i-" + hashlib.md5(f"{self.prefix}{n}".encode()).hexdigest()[:16]  # noqa: S324


async def _seed(database_url: str, count: int) -> Seeded:
    prefix = f"idle-{secrets.token_hex(2)}-"
    conn = await asyncpg.connect(database_url)
    try:
        before = await _table_bytes(conn)
        started = time.perf_counter()
        async with conn.transaction():
            for statement in SEED_SQL.strip().split(";\n"):
                await conn.execute(statement, prefix, count)
        took = time.perf_counter() - started
        await conn.execute("VACUUM ANALYZE tenants, plugin_instances")
        return Seeded(prefix, count, took, await _table_bytes(conn) - before)
    finally:
        await conn.close()


async def _table_bytes(conn: asyncpg.Connection) -> int:
    found: int = await conn.fetchval(
        "SELECT pg_total_relation_size('tenants') + pg_total_relation_size('plugin_instances')"
    )
    return found


def _activate(http: httpx.Client, seeded: Seeded, numbers: range) -> np.ndarray:
    """GET each tenant's instance once (operator key); seconds per call."""
    took = []
    for n in numbers:
        tenant, instance = seeded.tenant(n)
        started = time.perf_counter()
        response = http.get(f"/v1/tenants/{tenant}/plugins/{instance}")
        took.append(time.perf_counter() - started)
        response.raise_for_status()
    return np.array(took)


@dataclass
class Snapshot:
    """The tenant hosts at one moment."""

    label: str
    active: int
    rss: int
    uss: int

    @classmethod
    def take(cls, label: str, probe: HostProbe) -> Snapshot:
        stats = probe.stats()
        uss = 0
        for host in stats:
            with contextlib.suppress(psutil.Error):
                uss += psutil.Process(host["pid"]).memory_full_info().uss
        return cls(
            label, sum(h["active_tenants"] for h in stats), sum(h["rss_bytes"] for h in stats), uss
        )


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q) * 1e3)


def _measure(svc: Service, seeded: Seeded) -> dict[str, Any]:
    """Warm the hosts up, activate ACTIVE tenants, passivate; snapshots and latencies."""
    out: dict[str, Any] = {}
    with svc.operator() as http:
        # One tenant per host loads the host's shared services (registry, pools) first.
        _activate(http, seeded, range(STORED - 20, STORED + 1))
        with attached(svc.settings, svc.ray_address, HOSTS) as probe:
            probe.passivate(0)
            snaps = [Snapshot.take("hosts started, no tenant active", probe)]
            out["cold"] = _activate(http, seeded, range(1, ACTIVE + 1))
            snaps.append(Snapshot.take(f"{ACTIVE:,} tenants active", probe))
            out["warm"] = _activate(http, seeded, range(1, WARM_SAMPLE + 1))
            direct = [seeded.tenant(n) for n in range(ACTIVE + 1, ACTIVE_DIRECT + 1)]
            out["cold_direct"] = probe.activate(direct)
            out["warm_direct"] = probe.activate(direct[:WARM_SAMPLE])
            snaps.append(Snapshot.take(f"{ACTIVE_DIRECT:,} tenants active", probe))
            out["passivated"] = probe.passivate(0)
            snaps.append(Snapshot.take("after passivate(0)", probe))
            out["reactivated"] = _activate(http, seeded, range(1, WARM_SAMPLE + 1))
            probe.passivate(0)
            out["pids"] = sorted(h["pid"] for h in probe.stats())
    out["snaps"] = snaps
    return out


def run() -> str:
    """Seed, activate, passivate on one isolated service; Markdown tables."""
    load_before = os.getloadavg()[0]
    with isolated_service() as svc:
        seeded = asyncio.run(_seed(svc.database_url, STORED))
        print(f"   seeded {STORED:,} tenants in {seeded.seconds:.1f}s", flush=True)
        found = _measure(svc, seeded)
    return _report(seeded, found, load_before)


def _summary(seeded: Seeded, found: dict[str, Any], per_rss: float, per_uss: float) -> str:
    node = psutil.virtual_memory().total
    pg = seeded.pg_bytes
    rows = [
        ("tenants stored (PostgreSQL rows)", f"{STORED:,}"),
        (
            "PostgreSQL for them (tenants + plugin_instances, with indexes)",
            f"{pg / MIB:.1f} MiB ({pg / STORED:,.0f} B per tenant)",
        ),
        (f"memory per active tenant (RSS growth / {ACTIVE_DIRECT:,})", f"{per_rss / 1024:.1f} KiB"),
        (f"memory per active tenant (USS growth / {ACTIVE_DIRECT:,})", f"{per_uss / 1024:.1f} KiB"),
        ("tenants passivated by `passivate(0)`", f"{found['passivated']:,}"),
        ("memory per idle tenant in the hosts", "0 (an idle tenant has no object in any process)"),
        ("idle tenants one node holds", f"all {STORED:,} stored here; bounded by PG disk"),
        (
            f"active tenants fitting in 10 % of this node's {node / 2**30:.0f} GiB at that rate",
            f"{0.1 * node / max(per_rss, 1):,.0f}",
        ),
    ]
    return "| | value |\n|---|---:|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


def _report(seeded: Seeded, found: dict[str, Any], load_before: float) -> str:
    snaps: list[Snapshot] = found["snaps"]
    base, _, active, _ = snaps
    per_rss = (active.rss - base.rss) / ACTIVE_DIRECT
    per_uss = (active.uss - base.uss) / ACTIVE_DIRECT
    mem_rows = "\n".join(
        f"| {s.label} | {s.active:,} | {s.rss / MIB:.0f} | {s.uss / MIB:.0f} |" for s in snaps
    )
    lat = [
        ("HTTP API: first call to a cold tenant (activation)", found["cold"]),
        ("HTTP API: call to an active tenant", found["warm"]),
        ("HTTP API: first call after passivation", found["reactivated"]),
        ("actor call: first call to a cold tenant (activation)", found["cold_direct"]),
        ("actor call: call to an active tenant", found["warm_direct"]),
    ]
    lat_rows = "\n".join(
        f"| {name} | {len(v):,} | {_pct(v, 50):.1f} | {_pct(v, 99):.1f} |" for name, v in lat
    )
    node = psutil.virtual_memory().total
    return f"""\
One isolated `dcoder-integrations up` with the default {HOSTS} tenant host actors. {STORED:,}
tenants, each with one enabled `generic-webhook` instance (config `{{}}`, no stored secrets),
were inserted straight into PostgreSQL in {seeded.seconds:.1f} s. Tenants 1…{ACTIVE:,} were then
activated by `GET /v1/tenants/{{t}}/plugins/{{i}}` (operator key, one at a time, through the
Serve API, so latencies include HTTP and the Serve hop), and tenants {ACTIVE + 1:,}…
{ACTIVE_DIRECT:,} by calling `TenantHost.call(tenant, "get", …)` from a Ray driver, one at a
time (the activation cost without HTTP); memory comes from `TenantHost.stats()`
(RSS) and `psutil` (USS, memory only that process holds) summed over both host processes
(pids {", ".join(map(str, found["pids"]))}), read by a Ray driver attached to the service's
cluster. Before the baseline snapshot, 21 tenants were activated and passivated so each host
had loaded its shared services (plugin registry, PostgreSQL pool, NATS). The machine is shared
with other engineers' test runs (1-min load average {load_before:.1f} on 2 CPUs at the start).

| tenant hosts | active tenants | RSS MiB (sum) | USS MiB (sum) |
|---|---:|---:|---:|
{mem_rows}

{_summary(seeded, found, per_rss, per_uss)}

| call | calls | p50 ms | p99 ms |
|---|---:|---:|---:|
{lat_rows}

Goal: 10,000 idle tenants on this {node / 2**30:.0f} GiB node — **met**: {STORED:,} are held
(stored) and cost no host memory while idle; memory grows only with *active* tenants, at the
rate above, and passivation drops their objects (how much RSS CPython hands back to the OS is
up to its allocator: compare the last two snapshot rows).
"""
