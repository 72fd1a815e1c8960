"""The Jira agent's hooks (status: foundations; see docs/agents/jira.md).

What works today: ``configure`` checks the site as the agent's own account (``/serverInfo``,
``/myself``), discovers the story-points field and records who the agent is. ``handle_webhook``
recognises a ``comment_created`` that asks the agent something; answering it (fetch the issue,
analyse, estimate from the synced history, post one comment, set the field) needs the platform's
jobs and history sync and lands with them, so such a delivery fails with a clear reason meanwhile
instead of being silently dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from plugin_sdk import (
    Health,
    PermanentError,
    Plugin,
    PluginConfigInvalid,
    PluginNotReady,
    WebhookDelivery,
)

from .client import JiraClient
from .config import JiraConfig
from .errors import JiraNotFound
from .mentions import AgentIdentity, author_of, find_request
from .story import FieldIds

SITE_KEY = "site"
NOT_YET = (
    "the Jira agent's mention flow is not wired yet (status: foundations; it lands with the "
    "agent platform's jobs and history sync, see docs/agents/jira.md)"
)


class Site(BaseModel):
    """What ``configure`` learnt about the site, kept in the instance store."""

    model_config = ConfigDict(frozen=True)

    agent: AgentIdentity
    agent_name: str
    fields: FieldIds
    deployment_type: str
    version: str


class JiraPlugin(Plugin[JiraConfig]):
    """One Jira site (Cloud or Data Center) worked on as the agent's dedicated account."""

    config_model = JiraConfig

    def client(self) -> JiraClient:
        """The site's REST client on the platform's authenticated HTTP client."""
        return JiraClient(self.ctx.http, self.config.base_url, self.config.deployment)

    async def configure(self) -> None:
        """Check the site and the agent's account; discover the story-points field."""
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

    async def site(self) -> Site:
        """What ``configure`` recorded (``PluginNotReady`` before it ran)."""
        raw = await self.ctx.store.get(SITE_KEY)
        if raw is None:
            raise PluginNotReady("the Jira site has not been checked yet (configure)")
        return Site.model_validate(raw)

    async def handle_webhook(self, delivery: WebhookDelivery) -> None:
        """A comment that mentions the agent (not by the agent) is a request; others are ignored."""
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
        if request is None:
            return
        raise PermanentError(f"{request.command.value} asked on {_key(payload)}: {NOT_YET}")

    async def health(self) -> Health:
        """Configured or not; the mention flow is not there yet, and health says so."""
        raw = await self.ctx.store.get(SITE_KEY)
        state = "site checked" if raw else "site not checked yet"
        return Health(detail=f"{state}; preview: mentions are not answered yet")


def _key(payload: dict[str, object]) -> str:
    issue = payload.get("issue")
    return str(issue.get("key", "?")) if isinstance(issue, dict) else "?"
