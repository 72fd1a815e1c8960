"""Where every actor of the service is created (the upper floors' side of ``actors.handles``).

Each function returns the named, detached actor's handle, creating it when missing; creating is
idempotent across processes (``get_if_exists``). An actor that needs another one is handed the
function that creates it (the relays get ``tenant_host``, the tenant hosts ``job_runner``), so
no actor module imports this one and ``actors.handles`` imports no actor class: the import graph
stays a tree (spawn → event_relay → relay_work → handles).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from actors import naming
from actors.directory import Directory
from actors.event_relay import EventRelay
from actors.handles import DirectoryClient, JobRunnerClient, TenantClient, service_version
from actors.jobs import JobRunner
from actors.tenant_host import TenantHost
from core.settings import Settings


def _detached(actor_cls: Any, name: str, namespace: str) -> Any:
    return actor_cls.options(
        name=name, namespace=namespace, lifetime="detached", get_if_exists=True
    )


def directory(namespace: str) -> Any:
    """The directory actor (service identity)."""
    return _detached(Directory, naming.DIRECTORY, namespace).remote(service_version())


def job_runner(namespace: str) -> Any:
    """The job runner (background jobs and schedules)."""
    return _detached(JobRunner, naming.JOB_RUNNER, namespace).remote()


def tenant_host(namespace: str, index: int) -> Any:
    """The tenant host of slot ``index``; it may create the job runner (``ctx.jobs``)."""
    return _detached(TenantHost, naming.tenant_host(index), namespace).remote(
        index, partial(job_runner, namespace)
    )


def relay_handles(namespace: str, count: int) -> list[Any]:
    """The event relays; each may create the tenant hosts it feeds."""
    return [
        _detached(EventRelay, naming.event_relay(i), namespace).remote(
            i, partial(tenant_host, namespace)
        )
        for i in range(count)
    ]


def start_relays(namespace: str, count: int) -> list[Any]:
    """Make sure every relay actor exists and consumes (idempotent)."""
    relays = relay_handles(namespace, count)
    for relay in relays:
        relay.start.remote()
    return relays


def start_job_runner(namespace: str) -> Any:
    """Make sure the job runner exists and runs its loop (idempotent)."""
    runner = job_runner(namespace)
    runner.start.remote()
    return runner


def keep_running(settings: Settings) -> None:
    """Make sure the relays and the job runner run (a killed one is created again)."""
    start_relays(settings.ray.namespace, settings.ray.event_relays)
    start_job_runner(settings.ray.namespace)


def tenant_client(settings: Settings) -> TenantClient:
    """The typed client of the tenant hosts; a missing or killed host is created again."""
    namespace = settings.ray.namespace
    return TenantClient(namespace, settings.ray.tenant_hosts, partial(tenant_host, namespace))


def job_runner_client(namespace: str) -> JobRunnerClient:
    """A client of the job runner that creates it when missing."""
    return JobRunnerClient(namespace, partial(job_runner, namespace))


def directory_client(namespace: str) -> DirectoryClient:
    """A client of the directory actor that creates it when missing."""
    return DirectoryClient(namespace, partial(directory, namespace))
