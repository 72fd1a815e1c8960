"""The model fit as the ``fit-model`` job, and the host's cached copy of the fitted model.

The job runs in a Ray worker (``FitConfig(workers=1)``: one process, no helpers beside the CPU
the manifest reserves). It reads the site's whole synced history from the instance store
(``job.store``: the shards ``history.sync`` wrote), fits, and writes the model there itself, so
neither the stories nor the model travel through the job's payload or result:

1. the model's bytes (``core.estimation.dumps``: an ``.npz`` archive, already compressed; about
   2.5 MB for 10,000 stories) go, base64, under a key of their own, ``models/<job id>``, in one
   put (one row: never half written);
2. then the pointer ``model-current`` (version = the job id, the key, stories, bytes) is switched
   to it, unless a fit of a bigger history switched it already (a superseded fit that ran on to
   the end: its model is dropped);
3. models older than the one just replaced are deleted (the replaced one stays, a host may be
   reading it).

The job's result is only that summary. Keys: the job writes ``models/*`` and ``model-current``;
the host writes ``history-fitted`` (``sync_job.py``) and ``model-error``, never the job's keys.
The host loads the model through ``ModelCache``: the pointer is read on each use (a small
value), the model decoded only when its version changed.
"""

from __future__ import annotations

import asyncio
import base64
import resource
import time
from collections.abc import Sequence
from typing import Any

from core.estimation import FitConfig, StoryPointModel, dumps, fit_model, loads
from core.estimation import Story as HistoryStory
from plugin_sdk import PermanentError
from plugin_sdk.jobs import JobRun
from plugin_sdk.protocols import KeyValueStore

from . import history
from .estimate import to_history

FIT_KIND = "fit-model"
POINTER_KEY = "model-current"
MODEL_PREFIX = "models/"
LEGACY_MODEL_KEY = "model"  # where the host kept a model fitted on the job's payload (before)
MAX_MODEL_BYTES = 32 * 1024 * 1024  # the model of 10,000 stories is ~2.5 MB


def fit_bytes(stories: Sequence[HistoryStory]) -> bytes:
    """Fit the site's model in this process (``workers=1``) and serialise it."""
    if not stories:
        raise PermanentError("the site's history has no story with points: nothing to fit")
    blob = dumps(fit_model(stories, FitConfig(workers=1)))
    if len(blob) > MAX_MODEL_BYTES:
        raise PermanentError(
            f"the fitted model is {len(blob):,} bytes, over {MAX_MODEL_BYTES:,}: "
            "narrow the site's history (projects)"
        )
    return blob


async def run_fit(job: JobRun) -> dict[str, Any]:
    """The job: the whole stored history → the model in the store; a summary as the result."""
    stories = to_history(await history.load(job.store))
    job.progress(0.1, f"read {len(stories)} stories")
    blob = await asyncio.to_thread(fit_bytes, stories)
    key = f"{MODEL_PREFIX}{job.id}"
    await job.store.set(key, {"model": base64.b64encode(blob).decode("ascii")})
    current = await job.store.get(POINTER_KEY)
    kept = not current or int(current.get("stories", 0)) <= len(stories)
    if kept:
        pointer = {"version": job.id, "key": key, "stories": len(stories), "bytes": len(blob),
                   "fitted_at": time.time()}  # fmt: skip
        await job.store.set(POINTER_KEY, pointer)
        keep = {key, str(current["key"]) if current else ""}
        for old in await job.store.keys(MODEL_PREFIX):
            if old not in keep:
                await job.store.delete(old)
    else:  # a fit of a bigger history is in place: this (superseded) one is not used
        await job.store.delete(key)
    return {
        "stories": len(stories),
        "version": job.id,
        "model_key": key if kept else None,
        "bytes": len(blob),
        # the worker process's peak RSS (Ray reuses workers: their lifetime, not this job alone)
        "worker_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


async def fitted(store: KeyValueStore) -> dict[str, Any] | None:
    """The pointer of the current model (version, key, stories, bytes), or ``None``."""
    raw = await store.get(POINTER_KEY)
    return raw if isinstance(raw, dict) and raw.get("key") else None


async def fitted_stories(store: KeyValueStore) -> int | None:
    """How many stories the current model was fitted on (``None`` before the first fit)."""
    pointer = await fitted(store)
    if pointer is not None:
        return int(pointer["stories"])
    legacy = await store.get(LEGACY_MODEL_KEY)
    return int(legacy["history_size"]) if isinstance(legacy, dict) and legacy.get("model") else None


class ModelCache:
    """The host's decoded model of one instance, reloaded when the fitted version changes."""

    def __init__(self) -> None:
        self.version: str | None = None
        self.model: StoryPointModel | None = None
        self._lock = asyncio.Lock()

    async def get(self, store: KeyValueStore) -> StoryPointModel | None:
        """The current model (``None`` before the first fit)."""
        pointer = await fitted(store)
        if pointer is None:
            return await self._legacy(store)
        version = str(pointer["version"])
        if version == self.version:
            return self.model
        async with self._lock:  # concurrent mentions decode it once
            if version != self.version:
                raw = await store.get(str(pointer["key"]))
                if raw is None:  # replaced and dropped meanwhile: the next call reads the new
                    return self.model
                blob = base64.b64decode(raw["model"])
                self.model = await asyncio.to_thread(loads, blob)
                self.version = version
        return self.model

    async def _legacy(self, store: KeyValueStore) -> StoryPointModel | None:
        raw = await store.get(LEGACY_MODEL_KEY)
        if not isinstance(raw, dict) or not raw.get("model"):
            return None
        if self.version != LEGACY_MODEL_KEY:
            self.model = loads(base64.b64decode(raw["model"]))
            self.version = LEGACY_MODEL_KEY
        return self.model
