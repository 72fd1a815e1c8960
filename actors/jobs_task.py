"""The Ray task that runs one background job in a worker process.

The worker imports the plugin the way the service does: built-in and entry-point plugins are
importable on every node; plugins an operator loaded at runtime (``POST /v1/plugins/sources``)
are loaded from their recorded path, which must exist on the worker's node (one machine, or a
shared filesystem). Their dependencies are not installed by the platform.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ray
from pydantic import BaseModel

from actors.instance_hosts import token_endpoints
from actors.job_access import JobAccess
from actors.job_auth import instance_authorization
from actors.priority import niceness_at_least
from plugin_sdk.jobs import REVIEW_KIND, JobRun
from plugin_sdk.manifest import Manifest
from plugin_sdk.plugin import Plugin
from plugins.registry import PluginRegistry

_registry: PluginRegistry | None = None
_loaded: set[str] = set()
_lock = threading.Lock()


class TaskSpec(BaseModel):
    """Everything the worker needs to run one attempt of one job."""

    job_id: str
    tenant_id: str
    instance_id: str
    plugin: str
    version: str
    kind: str
    payload: dict[str, Any]
    config: dict[str, Any]
    attempt: int
    sources: list[str]
    plugin_dir: str
    niceness: int = 0
    """The task's CPU niceness: the runner's own plus ``dispatch_nice`` (background work)."""


def plugin_class(spec: TaskSpec) -> type[Plugin[Any]]:
    """The plugin class of the job (the worker's registry, built once per process)."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = PluginRegistry()
            _registry.discover()
        for source in spec.sources:
            if source not in _loaded:
                _registry.load_path(Path(source), into=Path(spec.plugin_dir))
                _loaded.add(source)
        return _registry.get(spec.plugin, spec.version).plugin_cls


def _manifest(spec: TaskSpec) -> Manifest:
    plugin_class(spec)  # loads the registry (and runtime sources) in this worker
    assert _registry is not None
    return _registry.get(spec.plugin, spec.version).manifest


def _builtin(kind: str) -> Callable[[JobRun], Any] | None:
    if kind == REVIEW_KIND:
        from sandbox.ray_task import review_job

        return review_job
    return None


def execute(spec: TaskSpec, report: Callable[[float, str], None]) -> dict[str, Any]:
    """Run the job's function and return its JSON result (a dict)."""
    auth = instance_authorization(
        spec.tenant_id, spec.instance_id,
        lambda: token_endpoints(_manifest(spec), spec.config),
    )  # fmt: skip
    builtin = _builtin(spec.kind)
    manifest = None if builtin else _manifest(spec)
    endpoints = token_endpoints(manifest, spec.config) if manifest else {}
    access = JobAccess(spec.tenant_id, spec.instance_id, manifest, spec.config, endpoints)
    run = JobRun(
        id=spec.job_id, kind=spec.kind, payload=spec.payload, tenant_id=spec.tenant_id,
        instance_id=spec.instance_id, config=spec.config, attempt=spec.attempt, report=report,
        auth=auth, store=access.store, open_http=access.http,
    )  # fmt: skip
    function = builtin or plugin_class(spec).run_job
    result = function(run)
    if inspect.isawaitable(result):
        result = asyncio.run(_awaited(result, access))
    if result is None:
        result = {}
    if not isinstance(result, dict):
        raise TypeError(f"run_job must return a dict, not {type(result).__name__}")
    out: dict[str, Any] = json.loads(json.dumps(result))  # fails here if not JSON
    return out


async def _awaited(awaitable: Any, access: JobAccess) -> Any:
    try:
        return await awaitable
    finally:  # in the loop the job's store and client were opened in
        await access.aclose()


@ray.remote(max_retries=0)
def job_task(spec: TaskSpec, runner: Any) -> dict[str, Any]:
    """One attempt of one job; progress goes to the runner actor (fire and forget)."""
    niceness_at_least(spec.niceness)  # sandboxes it starts inherit it

    def report(fraction: float, message: str = "") -> None:
        runner.progress.remote(spec.job_id, float(fraction), message)

    return execute(spec, report)
