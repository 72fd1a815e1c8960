"""The Jira agent's hooks: each parses, calls the domain code and does its effects once.

A ``comment_created`` that mentions the agent (never one of its own) is answered with one
comment: analysis (LLM or rules), estimate from the site's synced history, the story-points
field and a label set, ``jira.analysis.completed`` emitted. Each write is its own ledger step
keyed by the comment, so a redelivery (or a retry after a failed field update) never posts twice.
The history is synced by the ``sync-history`` job (submitted on enable and by the schedule of
that name, ``sync_job.py``); the model is fitted by the ``fit-model`` job when it grew, which
keeps it in the store (``fit_job.py``); the host decodes it once per fitted version. A
``review.completed`` (Bitbucket) is commented on each linked issue once, with a remote link to
the pull request (``linked.py``). See docs/agents/jira.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from plugin_sdk import (
    Event,
    Health,
    HealthStatus,
    PermanentError,
    Plugin,
    PluginConfigInvalid,
    PluginContext,
    RetryableError,
    WebhookDelivery,
)
from plugin_sdk.jobs import JobOutcome, JobRun

from . import history
from .client import JiraClient
from .config import JiraConfig
from .errors import JiraAuthFailed, JiraNotFound
from .fit_job import FIT_KIND, LEGACY_MODEL_KEY, ModelCache, fitted_stories, run_fit
from .flow import Inputs, build_report, event_data, field_update, subtask_fields
from .linked import tell_linked_issues
from .mentions import AgentIdentity, Command, Request, author_of, find_request
from .render import to_adf, to_wiki
from .report import Report
from .reviews import REVIEW_COMPLETED
from .site import SITE_KEY, Site
from .story import story_from_issue
from .sync_job import SYNC_ERROR_KEY, SYNC_KIND, after_sync, run_sync, submit_sync
from .webhook import ensure_webhook, remove_webhook, webhook_note

__all__ = ["SITE_KEY", "JiraPlugin", "Site"]

MODEL_ERROR_KEY = "model-error"
SYNC_SCHEDULE = "sync-history"
COMPLETED = "jira.analysis.completed"


class JiraPlugin(Plugin[JiraConfig]):
    """One Jira site (Cloud or Data Center) worked on as the agent's dedicated account."""

    config_model = JiraConfig

    def __init__(self, ctx: PluginContext) -> None:
        super().__init__(ctx)
        self.models = ModelCache()

    def client(self) -> JiraClient:
        """The site's REST client on the platform's authenticated HTTP client."""
        return JiraClient(self.ctx.http, self.config.base_url, self.config.deployment)

    async def _no_credentials(self) -> bool:
        return await self.ctx.credentials.get() is None

    async def configure(self) -> None:
        """Check the site and the agent's account; discover the story-points field.

        Before the instance has credentials (they are set after install) there is nothing to
        check as the agent: the check then runs on enable or the first mention.
        """
        try:
            await self._check_site()
        except JiraAuthFailed:
            if not await self._no_credentials():
                raise

    async def _check_site(self) -> Site:
        client = self.client()
        try:
            info = await client.server_info()
        except JiraNotFound as err:
            raise PluginConfigInvalid(f"{self.config.base_url} is not a Jira site") from err
        if info.flavour != self.config.deployment:
            raise PluginConfigInvalid(
                f"{self.config.base_url} is Jira {info.deployment_type}: "
                f"set deployment to {info.flavour!r}"
            )
        me = await client.myself()
        project = self.config.projects[0] if self.config.projects else None
        fields = await client.discover_fields(project)
        if self.config.story_points_field:
            fields = fields.model_copy(update={"story_points": self.config.story_points_field})
        if self.config.set_story_points and fields.story_points is None:
            raise PluginConfigInvalid(
                "no story-points field found on the site or its board; set story_points_field"
            )
        site = Site(
            agent=AgentIdentity(account_id=me.account_id, username=me.username),
            agent_name=me.display_name,
            fields=fields,
            deployment_type=info.deployment_type,
            version=info.version,
        )
        await self.ctx.store.set(SITE_KEY, site.model_dump(mode="json"))
        return site

    async def site(self) -> Site:
        """What ``configure`` recorded, checked now if it could not check yet."""
        raw = await self.ctx.store.get(SITE_KEY)
        return Site.model_validate(raw) if raw is not None else await self._check_site()

    # --- remote set-up ------------------------------------------------------------------------
    async def install(self) -> None:
        """Register the site's webhook (where the agent may, ``webhook.py``) with credentials."""
        try:
            await ensure_webhook(self)
        except JiraAuthFailed:
            if not await self._no_credentials():
                raise

    async def enable(self) -> None:
        """Check the site, register the webhook, submit the history sync (the schedule repeats)."""
        await self.site()
        await ensure_webhook(self)
        await submit_sync(self)

    async def uninstall(self) -> None:
        """Remove the webhook ``install`` registered (best effort)."""
        await remove_webhook(self)

    # --- history --------------------------------------------------------------------------------
    async def run_scheduled(self, name: str) -> None:
        """``sync-history``: submit the sync job (it supersedes a live one of the same key)."""
        if name == SYNC_SCHEDULE:
            await submit_sync(self)

    @classmethod
    async def run_job(cls, job: JobRun) -> dict[str, Any]:
        """``sync-history`` (JQL pages → ``job.store``) and ``fit-model`` (``job.store`` → the
        model in ``job.store``, one process)."""
        if job.kind == SYNC_KIND:
            return await run_sync(job)
        if job.kind == FIT_KIND:
            return await run_fit(job)
        raise PermanentError(f"unknown job kind {job.kind!r}")

    async def handle_event(self, event: Event) -> None:
        """A review: tell its linked issues. A finished fit: the model is in the store (the job
        wrote it); keep why a fit failed for health."""
        if event.subject == REVIEW_COMPLETED:
            await tell_linked_issues(self, event)
            return
        outcome = JobOutcome.of(event)
        if outcome is not None and outcome.kind == SYNC_KIND:
            await after_sync(self, event, outcome)
        if outcome is None or outcome.kind != FIT_KIND:
            return
        async with self.ctx.effects.once(event.id, "model") as first:
            if first and outcome.ok:
                await self.ctx.store.delete(MODEL_ERROR_KEY)
                await self.ctx.store.delete(LEGACY_MODEL_KEY)  # the host's own, from before
            elif first:
                await self.ctx.store.set(MODEL_ERROR_KEY, outcome.error or "fit failed")

    # --- mentions -------------------------------------------------------------------------------
    async def handle_webhook(self, delivery: WebhookDelivery) -> None:
        """A comment that mentions the agent (not by the agent) is answered; others ignored."""
        try:
            payload = delivery.json_body()
        except ValueError as err:
            raise PermanentError(f"delivery {delivery.delivery_id} is not JSON") from err
        if not isinstance(payload, dict) or payload.get("webhookEvent") != "comment_created":
            return
        raw = payload.get("comment")
        comment: dict[str, Any] = raw if isinstance(raw, dict) else {}
        site = await self.site()
        request = find_request(comment.get("body"), author_of(comment), site.agent)
        key = _key(payload)
        if request is None or not key or not self.in_scope(key):
            return
        await self.answer(key, str(comment.get("id") or delivery.delivery_id), request, site)

    def in_scope(self, key: str) -> bool:
        """Whether an issue key is in the configured projects (all when none are)."""
        return not self.config.projects or key.rsplit("-", 1)[0] in self.config.projects

    async def _once(self, step: str, fn: Callable[[], Awaitable[dict[str, Any]]]) -> Any:
        result = await self.ctx.effects.run_once(step, fn)
        if result is None:
            raise RetryableError(f"{step} is being done by another worker")
        return result

    async def answer(self, key: str, comment_id: str, request: Request, site: Site) -> None:
        """Answer one mention: report, (sub-tasks,) comment, fields, event — each step once."""
        step = f"mention/{comment_id}"
        raw = await self._once(f"{step}/report", lambda: self._report(key, request, site))
        report = Report.model_validate(raw)
        if request.command is Command.SPLIT_CONFIRM and report.split:
            created = []
            for i, summary in enumerate(report.split):
                made = await self._once(f"{step}/subtask/{i}", self._subtask_of(key, summary))
                created.append(str(made["key"]))
            report = report.model_copy(update={"created": created})
        posted = await self._once(f"{step}/comment", lambda: self._post(key, report))
        update = field_update(report, self.config, site.fields)
        if update is not None:
            await self._once(f"{step}/fields", lambda: self._edit(key, update))
        data = event_data(report, str(posted["id"]), self.config.base_url)
        event_id = f"jira-analysis-{self.ctx.instance_id}-{comment_id}"
        await self._once(f"{step}/event", lambda: self._emit(data, event_id))

    async def _report(self, key: str, request: Request, site: Site) -> dict[str, Any]:
        issue = await self.client().get_issue(key)
        past = await history.load(self.ctx.store)
        model = await self.models.get(self.ctx.store)
        inputs = Inputs(story_from_issue(issue, site.fields), request, past, model)
        report = await build_report(inputs, self.ctx.llm, self.config)
        return report.model_dump(mode="json")

    def _subtask_of(self, key: str, summary: str) -> Callable[[], Awaitable[dict[str, Any]]]:
        async def create() -> dict[str, Any]:
            return {"key": await self.client().create_issue(subtask_fields(key, summary))}

        return create

    async def _post(self, key: str, report: Report) -> dict[str, Any]:
        body = to_adf(report) if self.config.deployment == "cloud" else to_wiki(report)
        posted = await self.client().add_comment(key, body)
        return {"id": posted.id}

    async def _edit(self, key: str, update: dict[str, Any]) -> dict[str, Any]:
        await self.client().edit_issue(key, update["fields"], update["labels"])
        return {"set": sorted(update["fields"]), "labels": update["labels"]}

    async def _emit(self, data: dict[str, Any], event_id: str) -> dict[str, Any]:
        event = await self.ctx.publish(COMPLETED, data, event_id=event_id)
        return {"event_id": event.id}

    async def health(self) -> Health:
        """Site checked, webhook, history and model, from the store (no remote call)."""
        store = self.ctx.store
        if await store.get(SITE_KEY) is None:
            return Health(status=HealthStatus.DEGRADED, detail="site not checked yet")
        meta = await history.read_meta(store)
        size = await fitted_stories(store)
        parts = [f"history: {meta.count} stories with points"]
        parts.append(f"model: {size} stories" if size is not None else "model: none yet")
        if error := await store.get(SYNC_ERROR_KEY):
            parts.append(f"last sync failed: {error}")
        if error := await store.get(MODEL_ERROR_KEY):
            parts.append(f"last fit failed: {error}")
        parts.append(await webhook_note(self))
        return Health(detail="; ".join(parts))


def _key(payload: dict[str, object]) -> str:
    issue = payload.get("issue")
    return str(issue.get("key") or "") if isinstance(issue, dict) else ""
