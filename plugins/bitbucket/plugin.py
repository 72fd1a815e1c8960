"""The Bitbucket review agent's hooks (status: foundations; see docs/agents/bitbucket.md).

What works today: ``configure`` checks the server (Cloud API or Data Center version) and the
configured repositories as the agent's own account and records who the agent is;
``handle_webhook`` parses every pull request webhook of Cloud and Data Center into one typed event,
announces merges as ``bitbucket.pr.merged`` (with the Jira keys of the branch, title and commits)
and recognises comment commands. Reviewing (fetch in the sandbox, analyzers, LLM, comments,
Code Insights) needs the platform's background jobs and lands with them: until then a pull request
event or a command addressed to the agent fails its delivery with a clear reason (visible in the
deliveries and dead letters, replayable later) instead of being silently dropped.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from plugin_sdk import Health, PermanentError, Plugin, PluginConfigInvalid, WebhookDelivery
from plugin_sdk.events import stable_event_id
from plugins.bitbucket.client import BitbucketClient, client_for
from plugins.bitbucket.commands import find_command
from plugins.bitbucket.config import BitbucketConfig
from plugins.bitbucket.errors import BitbucketAuthFailed, BitbucketNotFound
from plugins.bitbucket.events import Actor, EventKind, PullRequestEvent, parse_event
from plugins.bitbucket.outcome import PR_MERGED, jira_keys, merged_payload

SERVER_KEY = "server"
NOT_YET = (
    "the Bitbucket agent does not review yet (status: foundations; reviews land with the "
    "platform's background jobs, see docs/agents/bitbucket.md)"
)


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

    async def handle_webhook(self, delivery: WebhookDelivery) -> None:
        """Parse; announce merges; everything asking for a review waits for the jobs."""
        try:
            body = delivery.json_body()
        except ValueError as err:
            raise PermanentError(f"delivery {delivery.delivery_id} is not JSON") from err
        event = parse_event(delivery.event_key, body)
        if event is None or not self.config.watches(event.repo):
            return
        if event.kind is EventKind.MERGED:
            await self._announce_merge(event)
            return
        if event.kind is EventKind.COMMENTED:
            await self._command(event)
            return
        raise PermanentError(
            f"{event.event_key} on {event.review_key} at {event.head_commit[:12]}: {NOT_YET}"
        )

    async def _command(self, event: PullRequestEvent) -> None:
        assert event.comment is not None
        raw = await self.ctx.store.get(SERVER_KEY)
        agent = Server.model_validate(raw).agent if raw else None
        handles = [*self.config.agent_handles, *([agent.id, agent.name] if agent else [])]
        request = find_command(event.comment.text, event.comment.author, handles)
        if request is None:
            return
        raise PermanentError(f"{request.command.value} asked on {event.review_key}: {NOT_YET}")

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
        """Configured or not; reviews are not run yet, and health says so."""
        raw = await self.ctx.store.get(SERVER_KEY)
        state = f"checked as {Server.model_validate(raw).agent.name}" if raw else "not checked yet"
        return Health(detail=f"server {state}; preview: pull requests are not reviewed yet")
