"""The Bitbucket review agent's hooks (see docs/agents/bitbucket.md).

``configure`` checks the server (Cloud API or Data Center version) and the configured
repositories as the agent's own account and records who the agent is. ``handle_webhook`` parses
every pull request webhook of Cloud and Data Center into one typed event: an opened or updated
pull request, or a ``review`` command, submits a ``review`` job (``flow.request_review``);
``pause``/``resume`` switch automatic reviews of the pull request; merges are announced as
``bitbucket.pr.merged``. ``run_job`` runs in a Ray worker (``job.py``: fetch outside the sandbox
with the instance's credential, analysis inside); its ``job.completed`` event comes back to
``handle_event``, which applies the review (``flow.apply_review``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from plugin_sdk import Event, Health, PermanentError, Plugin, PluginConfigInvalid, WebhookDelivery
from plugin_sdk.events import stable_event_id
from plugin_sdk.jobs import JobOutcome, JobRun
from plugins.bitbucket.client import BitbucketClient, client_for
from plugins.bitbucket.commands import Command, find_command, help_comment
from plugins.bitbucket.config import BitbucketConfig
from plugins.bitbucket.errors import BitbucketAuthFailed, BitbucketNotFound
from plugins.bitbucket.events import Actor, EventKind, PullRequestEvent, parse_event
from plugins.bitbucket.flow import apply_review, load_ledger, request_review, save_ledger
from plugins.bitbucket.job import REVIEW_JOB, FetchGuard, run_review_job
from plugins.bitbucket.outcome import PR_MERGED, jira_keys, merged_payload

SERVER_KEY = "server"


class Server(BaseModel):
    """What ``configure`` learnt, kept in the instance store."""

    model_config = ConfigDict(frozen=True)

    flavour: str
    version: str
    agent: Actor


class BitbucketPlugin(Plugin[BitbucketConfig]):
    """One Bitbucket Cloud workspace or Data Center server, worked on as the agent's account."""

    config_model = BitbucketConfig

    def client(self) -> BitbucketClient:
        """The server's REST client on the platform's authenticated HTTP client."""
        return client_for(self.config.deployment, self.ctx.http, self.config.api_url)

    async def configure(self) -> None:
        """Check the server, the agent's account and every configured repository.

        Before the instance has credentials (they are set after install) there is nothing to
        check as the agent: the check then runs on enable.
        """
        try:
            await self._check_server()
        except BitbucketAuthFailed:
            if await self.ctx.credentials.get() is not None:
                raise

    async def enable(self) -> None:
        """Check the server now if ``configure`` could not (no credentials then)."""
        if await self.ctx.store.get(SERVER_KEY) is None:
            await self._check_server()

    async def _check_server(self) -> Server:
        client = self.client()
        try:
            info = await client.server_info()
            me = await client.whoami()
        except BitbucketNotFound as err:
            kind = "Bitbucket Cloud API" if self.config.deployment == "cloud" else "Bitbucket DC"
            raise PluginConfigInvalid(f"{self.config.api_url} is not a {kind}") from err
        for repo in self.config.repo_refs():
            try:
                await client.repository(repo)
            except BitbucketNotFound as err:
                raise PluginConfigInvalid(
                    f"repository {repo.full_name} does not exist or the agent cannot see it"
                ) from err
        server = Server(flavour=info.flavour, version=info.version, agent=me)
        await self.ctx.store.set(SERVER_KEY, server.model_dump(mode="json"))
        return server

    async def agent(self) -> Actor | None:
        """The agent's own account, as ``configure`` found it."""
        raw = await self.ctx.store.get(SERVER_KEY)
        return Server.model_validate(raw).agent if raw else None

    async def handle_webhook(self, delivery: WebhookDelivery) -> None:
        """Parse; review opened and updated pull requests; obey commands; announce merges."""
        try:
            body = delivery.json_body()
        except ValueError as err:
            raise PermanentError(f"delivery {delivery.delivery_id} is not JSON") from err
        event = parse_event(delivery.event_key, body)
        if event is None or not self.config.watches(event.repo):
            return
        if event.kind is EventKind.MERGED:
            await self._announce_merge(event)
        elif event.kind is EventKind.COMMENTED:
            await self._command(event, delivery.delivery_id)
        else:
            await request_review(self, event, delivery.delivery_id)

    async def _command(self, event: PullRequestEvent, delivery_id: str) -> None:
        assert event.comment is not None
        agent = await self.agent()
        handles = [*self.config.agent_handles, *([agent.id, agent.name] if agent else [])]
        request = find_command(event.comment.text, event.comment.author, handles)
        if request is None:
            return
        command = request.command
        if command is Command.HELP:
            async with self.ctx.effects.once(delivery_id, "help") as first:
                if first:
                    await self.client().add_comment(event.repo, event.pr_id, help_comment())
        elif command in (Command.REVIEW, Command.FULL_REVIEW):
            full = command is Command.FULL_REVIEW
            await request_review(self, event, delivery_id, asked=True, full=full)
        elif command in (Command.PAUSE, Command.RESUME):
            ledger = await load_ledger(self, event.review_key)
            paused = command is Command.PAUSE
            await save_ledger(self, ledger.model_copy(update={"paused": paused}))
            if not paused:
                await request_review(self, event, delivery_id)

    @classmethod
    async def run_job(cls, job: JobRun) -> dict[str, Any]:
        """``review``: fetch the head (outside the sandbox) and analyse it (inside)."""
        if job.kind != REVIEW_JOB:
            raise PermanentError(f"unknown job kind {job.kind!r}")
        config = BitbucketConfig.model_validate(dict(job.config))
        guard = FetchGuard.of(cls.load_manifest().permissions, job.config)
        result = await run_review_job(job, config.api_url, guard)
        return result | {"job": job.payload}

    async def handle_event(self, event: Event) -> None:
        """A finished review job: apply it to its pull request."""
        outcome = JobOutcome.of(event)
        if outcome is not None and outcome.kind == REVIEW_JOB:
            await apply_review(self, outcome)

    async def _announce_merge(self, event: PullRequestEvent) -> None:
        messages = await self.client().commit_messages(event.repo, event.pr_id)
        projects = self.config.jira_projects or None
        keys = jira_keys(event, messages, projects)
        await self.ctx.publish(
            PR_MERGED,
            merged_payload(event, keys),
            event_id=stable_event_id(PR_MERGED, event.review_key, event.merge_commit or ""),
        )

    async def health(self) -> Health:
        """Configured or not, and whether an LLM reviews too."""
        raw = await self.ctx.store.get(SERVER_KEY)
        state = f"checked as {Server.model_validate(raw).agent.name}" if raw else "not checked yet"
        mode = "LLM and analyzers" if self.ctx.llm.enabled and self.config.use_llm else (
            "analyzers only")  # fmt: skip
        return Health(detail=f"server {state}; reviews: {mode}")
