"""Background dispatch gives way to ingest: the niceness a relay, tenant host or job task sets
itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psutil

from core.settings import load_settings
from tests.conftest import TestServices

SCRIPT = """
import os
from actors.priority import lower_priority
start = os.nice(0)
print(start, lower_priority({increment}), os.nice(0))
"""


def _run(increment: int, start_nice: int = 0) -> list[int]:
    done = subprocess.run(  # noqa: S603
        ["nice", "-n", str(start_nice), sys.executable, "-c", SCRIPT.format(increment=increment)],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return [int(x) for x in done.stdout.split()]


def test_adds_the_increment() -> None:
    start, returned, now = _run(4, start_nice=15)
    assert (start, returned, now) == (15, 19, 19)


def test_is_capped_at_19_and_zero_changes_nothing() -> None:
    assert _run(10, start_nice=15) == [15, 19, 19]
    assert _run(0, start_nice=5) == [5, 5, 5]


AT_LEAST_SCRIPT = """
from actors.priority import niceness_at_least
print(niceness_at_least(4), niceness_at_least(4), niceness_at_least(2), niceness_at_least(30))
"""


def test_niceness_at_least_goes_down_once_and_never_up() -> None:
    # a job task calls it at every start, in a worker that runs many tasks
    done = subprocess.run(  # noqa: S603
        ["nice", "-n", "0", sys.executable, "-c", AT_LEAST_SCRIPT],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert [int(x) for x in done.stdout.split()] == [4, 4, 4, 19]


THREADS_SCRIPT = """
import json, os, threading
from actors.priority import lower_priority
stop = threading.Event()
workers = [threading.Thread(target=stop.wait) for _ in range(3)]
for t in workers:
    t.start()
def nices():
    return sorted(os.getpriority(os.PRIO_PROCESS, int(t)) for t in os.listdir("/proc/self/task"))
before = nices()
lower_priority(4)
after = nices()
late = []
t = threading.Thread(target=lambda: late.append(os.nice(0)))  # started after: inherits it
t.start(); t.join()
stop.set()
print(json.dumps([before, after, late]))
"""


def test_every_thread_of_the_process_is_lowered_not_only_the_calling_one() -> None:
    # os.nice changes the calling thread only; Ray's own threads (the worker's main thread,
    # its I/O threads) kept the replicas' priority while the actor's loop thread moved to 19.
    done = subprocess.run(  # noqa: S603
        ["nice", "-n", "15", sys.executable, "-c", THREADS_SCRIPT],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    before, after, late = json.loads(done.stdout)
    assert before == [15, 15, 15, 15]
    assert after == [19, 19, 19, 19]
    assert late == [19]


SHARE_SCRIPT = """
import asyncio, os, sys
from actors.priority import share_priority
from core.db import Database

async def main():
    db = Database(sys.argv[1], on_connect=share_priority)
    print(await db.fetchval("SELECT pg_backend_pid()"), flush=True)
    sys.stdin.readline()  # keep the connection open while the test looks at its backend
    await db.close()

asyncio.run(main())
"""


def test_backends_of_a_lowered_process_share_its_priority(test_services: TestServices) -> None:
    """A relay's or tenant host's PostgreSQL backend gets its niceness, where we may set it."""
    proc = subprocess.Popen(  # noqa: S603
        ["nice", "-n", "17", sys.executable, "-c", SHARE_SCRIPT, test_services.database_url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdin is not None
        backend = psutil.Process(int(proc.stdout.readline()))
        may_renice = os.geteuid() == 0 or backend.uids().real == os.getuid()
        if may_renice:
            assert backend.nice() == 17
        else:  # another user's server: left as it is, and the connection still works
            assert backend.nice() < 17
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()


def test_a_tenant_host_runs_every_thread_below_the_ingest(serve_url: str) -> None:
    """The real actor: Ray's own threads too (its main thread serialises every call), not only
    the event loop's thread that ran ``__init__``."""
    import ray

    from actors import naming
    from actors.handles import TenantHosts
    from tests.serve_app.api_client import install_generic, new_tenant

    tenant = new_tenant(serve_url, "nice")
    install_generic(tenant)  # its tenant host is running now
    namespace = os.environ["DCODER_RAY_NAMESPACE"]
    index = TenantHosts(namespace, int(os.environ["DCODER_RAY_TENANT_HOSTS"])).index(tenant.id)
    host = ray.get_actor(naming.tenant_host(index), namespace=namespace)
    pid = ray.get(host.stats.remote(), timeout=30)["pid"]
    nices = {
        tid: os.getpriority(os.PRIO_PROCESS, int(tid)) for tid in os.listdir(f"/proc/{pid}/task")
    }
    # Ray's workers start at 0 (as `up` starts them); a host moves down by dispatch_nice
    lowered = load_settings().ray.dispatch_nice
    assert len(nices) > 3 and set(nices.values()) == {lowered} and lowered > 0, nices
