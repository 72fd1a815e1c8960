"""The worked example of docs/plugin-development.md ("Background jobs", "Schedules")."""

from __future__ import annotations

from typing import Any

from plugin_sdk import Event, Plugin, WebhookDelivery
from plugin_sdk.jobs import JobOutcome, JobRun


class WordCount(Plugin):
    async def handle_webhook(self, delivery: WebhookDelivery) -> None:
        text = delivery.json_body()["text"]
        await self.ctx.store.set("text", text)
        # one submission per delivery, even when the delivery is redelivered
        await self.ctx.effects.run_once(
            f"{delivery.delivery_id}/count",
            lambda: self.ctx.jobs.submit("count-words", {"text": text}, key="latest"),
        )

    @classmethod
    def run_job(cls, job: JobRun) -> dict[str, Any]:
        words = job.payload["text"].split()
        counts: dict[str, int] = {}
        for i, word in enumerate(words, 1):
            counts[word.lower()] = counts.get(word.lower(), 0) + 1
            if i % 1000 == 0:
                job.progress(i / len(words))
        return {"words": len(words), "distinct": len(counts)}

    async def handle_event(self, event: Event) -> None:
        outcome = JobOutcome.of(event)
        if outcome is None:
            return
        async with self.ctx.effects.once(event.id, "store") as first:
            if first and outcome.ok:
                await self.ctx.store.set("last_count", outcome.result)
            elif first:
                await self.ctx.store.set("last_error", outcome.error)

    async def run_scheduled(self, name: str) -> None:
        text = await self.ctx.store.get("text")
        if name == "nightly" and text:
            await self.ctx.jobs.submit("count-words", {"text": text}, key="latest")
