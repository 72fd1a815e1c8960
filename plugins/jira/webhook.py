"""The site's ``comment_created`` webhook: who registers it, per deployment and auth kind.

What the contracts allow (``../shared/contracts/specs/jira-platform-v3``):

- Cloud with the agent's **API token**: the admin webhook resource (``/rest/webhooks/1.0``,
  signed with the instance's ``webhook_secret``) takes a user's basic auth; the agent registers
  it when ``service_url`` is set (the account needs Jira admin), finds it again by URL instead
  of duplicating it and removes it on uninstall.
- Cloud with **OAuth 2.0 (3LO)**: the admin resource is not part of the OAuth 2.0 API, and the
  API's own webhooks (``/rest/api/3/webhook``, "only Connect and OAuth 2.0 apps", scope
  ``manage:jira-webhook``) are not signed with a secret of ours, expire after 30 days and are
  delivered only when the app's owner registered them: the agent registers nothing; an admin
  adds the webhook with the secret (health says so and names the URL).
- **Data Center**: an admin adds it (the same).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plugin import JiraPlugin

WEBHOOK_KEY = "webhook"
OAUTH_KIND = "oauth2_authorization_code"
NAME = "dcoder agent"


def webhook_url(plugin: JiraPlugin) -> str | None:
    """Where the site sends ``comment_created`` (needs ``service_url``)."""
    if not plugin.config.service_url:
        return None
    base = plugin.config.service_url.rstrip("/")
    return f"{base}/v1/webhooks/{plugin.ctx.tenant_id}/{plugin.ctx.instance_id}"


async def _kind(plugin: JiraPlugin) -> str | None:
    credential = await plugin.ctx.credentials.get()
    return None if credential is None else credential.kind


async def ensure_webhook(plugin: JiraPlugin) -> None:
    """Register the admin webhook once, where the agent may (Cloud, API token, service_url)."""
    url = webhook_url(plugin)
    if url is None or plugin.config.deployment == "dc" or await plugin.ctx.store.get(WEBHOOK_KEY):
        return
    if await _kind(plugin) == OAUTH_KIND:
        return  # not the OAuth 2.0 API: an admin registers it (see the module's docstring)
    client = plugin.client()
    found = next((w for w in await client.webhooks() if w.get("url") == url), None)
    if found is not None:
        hook_id = int(str(found["self"]).rstrip("/").rsplit("/", 1)[-1])
    else:
        projects = ", ".join(plugin.config.projects)
        jql = f"project in ({projects})" if projects else ""
        secret = plugin.ctx.secrets["webhook_secret"]
        hook_id = await client.register_webhook(NAME, url, ["comment_created"], jql, secret)
    await plugin.ctx.store.set(WEBHOOK_KEY, {"id": hook_id, "url": url})


async def remove_webhook(plugin: JiraPlugin) -> None:
    """Remove the webhook ``ensure_webhook`` registered (best effort)."""
    hook = await plugin.ctx.store.get(WEBHOOK_KEY)
    if hook:
        await plugin.client().delete_webhook(int(hook["id"]))


async def webhook_note(plugin: JiraPlugin) -> str:
    """The webhook part of ``health``."""
    hook = await plugin.ctx.store.get(WEBHOOK_KEY)
    if hook:
        return f"webhook {hook['id']} registered"
    url = webhook_url(plugin) or "<service>/v1/webhooks/<tenant>/<instance>"
    why = "webhook not registered by the agent"
    if plugin.config.deployment == "cloud" and await _kind(plugin) == OAUTH_KIND:
        why += " (an OAuth 2.0 instance may not register admin webhooks)"
    return (
        f"{why}: on the site add a webhook to {url} for 'Comment created' with the "
        "instance's webhook_secret (docs/agents/jira.md)"
    )
