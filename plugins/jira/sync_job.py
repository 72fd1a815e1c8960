"""The history sync as a platform job, and what the tenant host does around it.

``enable`` and each ``sync-history`` schedule tick submit one ``sync-history`` job with the
stable key ``sync-history``: a newer submission supersedes (cancels) a live older one, so two
syncs of one site never run together. The job runs in a Ray worker: it reads the site's fields
from the instance store (``job.store``, the rows ``ctx.store`` uses), pulls through ``job.http``
(the instance's auth, egress-guarded) what changed since the cursor (``history.sync``: JQL
pages by ``updated``, each page written before the next is read), and returns the counts. Its
``job.completed`` comes back to ``handle_event``: when the history grew past what the last fit
saw (and reached ``min_history``), the ``fit-model`` job (``fit_job.py``) is submitted once
for that event.
A failed sync is kept for ``health`` until the next one succeeds.
"""

from __future__ import annotations

import resource
from typing import TYPE_CHECKING, Any

from plugin_sdk import Event, PermanentError
from plugin_sdk.jobs import JobOutcome, JobRun

from . import history
from .client import JiraClient
from .config import JiraConfig
from .fit_job import FIT_KIND
from .site import SITE_KEY, Site

if TYPE_CHECKING:
    from .plugin import JiraPlugin

SYNC_KIND = "sync-history"
SYNC_KEY = "sync-history"
FIT_KEY = "fit"
SYNC_ERROR_KEY = "sync-error"
FITTED_KEY = "history-fitted"  # history size the last submitted fit saw


async def submit_sync(plugin: JiraPlugin) -> str | None:
    """Queue the site's sync (superseding a live one); ``None`` without a points field."""
    site = await plugin.site()
    if site.fields.story_points is None:
        return None  # no points field (set_story_points false): nothing to learn from
    return await plugin.ctx.jobs.submit(SYNC_KIND, {}, key=SYNC_KEY)


async def run_sync(job: JobRun) -> dict[str, Any]:
    """The job: pull what changed into the instance store; the counts as its result."""
    config = JiraConfig.model_validate(dict(job.config))
    raw = await job.store.get(SITE_KEY)
    if raw is None:
        raise PermanentError("the site is not checked yet: the sync runs after enable")
    fields = Site.model_validate(raw).fields
    before = await history.read_meta(job.store)
    client = JiraClient(job.http, config.base_url, config.deployment)
    meta = await history.sync(client, job.store, fields, config.projects)
    return {
        "count": meta.count,
        "added": meta.count - before.count,
        "since": meta.since,
        "complete": meta.complete,
        # the worker process's peak RSS (Ray reuses workers: their lifetime, not this job alone)
        "worker_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


async def after_sync(plugin: JiraPlugin, event: Event, outcome: JobOutcome) -> None:
    """A sync ended: fit when the history grew (once per event); keep a failure for health."""
    store = plugin.ctx.store
    async with plugin.ctx.effects.once(event.id, "after-sync") as first:
        if not first:
            return
        if not outcome.ok:
            await store.set(SYNC_ERROR_KEY, outcome.error or "sync failed")
            return
        await store.delete(SYNC_ERROR_KEY)
        await submit_fit(plugin)


async def submit_fit(plugin: JiraPlugin) -> str | None:
    """Queue ``fit-model`` on the stored history if it grew since the last fit."""
    store = plugin.ctx.store
    meta = await history.read_meta(store)
    # the fitted count has its own key: the sync job writes the meta, the host only this
    if meta.count < plugin.config.min_history or meta.count == await store.get(FITTED_KEY):
        return None
    # the job reads the whole history from the store itself (fit_job.py): only its size here
    job_id = await plugin.ctx.jobs.submit(FIT_KIND, {"history": meta.count}, key=FIT_KEY)
    await store.set(FITTED_KEY, meta.count)
    return job_id
