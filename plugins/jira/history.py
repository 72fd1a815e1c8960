"""The site's history for estimates: synced into the instance store, fitted by a job.

Resolved issues with story points are pulled through JQL, page by page, ordered by ``updated``;
they are written in batches (``WRITE_BATCH`` issues, or what came in ``WRITE_EVERY_S``) and the
cursor moves with each write, so a sync cut short (a superseded or failed job, a Jira outage)
continues where the last write stopped. Every write rewrites the shards it touches, whose size
grows with the history: a write per 100-issue page made the 10k sync job take 54 s instead of 8
(bench/bench_jira.py, on the same busy machine). The sync runs as
the ``sync-history`` job (``sync_job.py``) in a Ray worker, writing through ``job.store``. The
stories live in the instance store (``ctx.store`` / ``job.store``, never the database directly)
in ``SHARDS`` values keyed by a hash of the issue key, so a re-synced issue replaces itself. The
``fit-model`` job (``fit_job.py``) reads them all (``load``) and keeps the model in the store.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from plugin_sdk import PermanentError
from plugin_sdk.protocols import KeyValueStore
from plugins.jira.client import JiraClient
from plugins.jira.similarity import PastStory
from plugins.jira.story import FieldIds, story_from_issue

SHARDS = 16
SHARD_PREFIX = "history/"
META_KEY = "history-meta"
STORED_DESCRIPTION = 2000  # what the similarity and the estimator read of a description
WRITE_BATCH = 1000  # issues per write of the shards (ten REST pages)
WRITE_EVERY_S = 10.0  # ... or what came in this long, whichever is first
OVERLAP = timedelta(days=1)  # JQL dates are minutes in the agent's time zone: re-read a day


class SyncMeta(BaseModel):
    """Where the sync stands."""

    since: str | None = None  # ``updated`` of the newest issue synced (Jira timestamp)
    count: int = 0  # stories with points in the store
    synced_at: float | None = None
    complete: bool = False  # the last sync reached the end of the query


def shard_of(key: str) -> str:
    """The store key of the shard holding issue ``key``."""
    digest = hashlib.sha256(key.encode()).digest()[0] % SHARDS
    return f"{SHARD_PREFIX}{digest:02d}"


def history_jql(points_field: str, projects: Sequence[str], since: str | None) -> str:
    """Resolved issues with points (in ``projects``), updated since ``since``, oldest first."""
    number = points_field.removeprefix("customfield_")
    clauses = [f"resolution is not EMPTY AND cf[{number}] is not EMPTY"]
    if projects:
        clauses.insert(0, f"project in ({', '.join(projects)})")
    if since:
        start = _parse_ts(since) - OVERLAP
        clauses.append(f'updated >= "{start.strftime("%Y/%m/%d %H:%M")}"')
    return " AND ".join(clauses) + " ORDER BY updated ASC"


def _parse_ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def past_entry(issue: dict[str, Any], fields: FieldIds) -> dict[str, Any] | None:
    """One stored history entry (``created``, ``story``) of an issue bean, or ``None``."""
    story = story_from_issue(issue, fields)
    if story.points is None:
        return None
    past = PastStory(
        key=story.key,
        summary=story.summary,
        description=story.description[:STORED_DESCRIPTION],
        components=story.components,
        labels=story.labels,
        issue_type=story.issue_type,
        points=story.points,
    )
    created = str((issue.get("fields") or {}).get("created") or "")
    return {"created": created, "story": past.model_dump(mode="json")}


async def read_meta(store: KeyValueStore) -> SyncMeta:
    """The sync's state (empty before the first sync)."""
    raw = await store.get(META_KEY)
    return SyncMeta.model_validate(raw) if raw else SyncMeta()


async def sync(
    client: JiraClient, store: KeyValueStore, fields: FieldIds, projects: Sequence[str],
    budget_s: float | None = None,
) -> SyncMeta:  # fmt: skip
    """Pull what changed since the last sync, in batches, until done (or ``budget_s`` is up)."""
    if fields.story_points is None:
        raise PermanentError("no story-points field known: the history cannot be synced")
    meta = await read_meta(store)
    # counted once here (a write cut short between a shard and the meta cannot leave the count
    # behind), then batch by batch from the shards each batch touches
    meta = meta.model_copy(update={"count": await _stored_count(store)})
    jql = history_jql(fields.story_points, projects, meta.since)
    wanted = ["summary", "description", "components", "labels", "issuetype", "created",
              "updated", fields.story_points]  # fmt: skip
    deadline = None if budget_s is None else time.monotonic() + budget_s
    page: list[dict[str, Any]] = []
    complete, written = True, time.monotonic()
    async for issue in client.search(jql, wanted):
        page.append(issue)
        if len(page) >= WRITE_BATCH or time.monotonic() - written >= WRITE_EVERY_S:
            meta = await _write_page(store, meta, page, fields)
            page, written = [], time.monotonic()
            if deadline is not None and written > deadline:
                complete = False
                break
    if page:
        meta = await _write_page(store, meta, page, fields)
    meta = meta.model_copy(update={"synced_at": time.time(), "complete": complete})
    await store.set(META_KEY, meta.model_dump(mode="json"))
    return meta


async def _write_page(
    store: KeyValueStore, meta: SyncMeta, page: list[dict[str, Any]], fields: FieldIds
) -> SyncMeta:
    by_shard: dict[str, dict[str, Any]] = {}
    for issue in page:
        entry = past_entry(issue, fields)
        key = str(issue.get("key") or "")
        if entry is not None and key:
            by_shard.setdefault(shard_of(key), {})[key] = entry
    added = 0
    for shard, entries in by_shard.items():
        current = await store.get(shard) or {}
        added += sum(1 for key in entries if key not in current)
        await store.set(shard, current | entries)
    newest = str((page[-1].get("fields") or {}).get("updated") or "") or meta.since
    meta = meta.model_copy(update={"since": newest, "count": meta.count + added})
    await store.set(META_KEY, meta.model_dump(mode="json"))
    return meta


async def _stored_count(store: KeyValueStore) -> int:
    count = 0
    for shard in await store.keys(SHARD_PREFIX):
        count += len(await store.get(shard) or {})
    return count


async def load(store: KeyValueStore) -> list[PastStory]:
    """Every synced story, in creation order (the order the estimator expects)."""
    entries: list[dict[str, Any]] = []
    for shard in await store.keys(SHARD_PREFIX):
        entries += list((await store.get(shard) or {}).values())
    entries.sort(key=lambda e: (e["created"], e["story"]["key"]))
    return [PastStory.model_validate(e["story"]) for e in entries]
