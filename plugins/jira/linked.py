"""The agent's effects for ``review.completed``: per linked issue one comment and one remote link.

Ledger steps ``review/<flavour>:<repo>#<pr>@<head>/<issue>/comment`` and ``…/link``: a replay of
the event (same or new id) or a retry after a failed link repeats nothing already done. A key the
site does not know (a branch named after another site's issue) is skipped, once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from plugin_sdk import Event, PermanentError, RetryableError
from plugins.jira.errors import JiraNotFound
from plugins.jira.reviews import MAX_KEYS, ReviewCompleted, remote_link, to_adf, to_wiki

if TYPE_CHECKING:
    from plugins.jira.plugin import JiraPlugin


async def _once(plugin: JiraPlugin, step: str, fn: Callable[[], Awaitable[dict[str, Any]]]) -> Any:
    result = await plugin.ctx.effects.run_once(step, fn)
    if result is None:
        raise RetryableError(f"{step} is being done by another worker")
    return result


def parse(event: Event) -> ReviewCompleted:
    """The event's payload, or a permanent error naming what is wrong with it."""
    try:
        return ReviewCompleted.model_validate(event.data)
    except ValidationError as err:
        raise PermanentError(f"review.completed {event.id} has no usable payload: {err}") from err


async def tell_linked_issues(plugin: JiraPlugin, event: Event) -> list[str]:
    """Comment on (and link) each in-scope issue the review names; the keys commented on."""
    review = parse(event)
    keys = [k for k in dict.fromkeys(review.jira_keys) if plugin.in_scope(k)][:MAX_KEYS]
    told = []
    for key in keys:
        if await _tell(plugin, review, key):
            told.append(key)
    return told


async def _tell(plugin: JiraPlugin, review: ReviewCompleted, key: str) -> bool:
    step = f"{review.step}/{key}"
    client = plugin.client()
    cloud = plugin.config.deployment == "cloud"

    async def comment() -> dict[str, Any]:
        try:
            posted = await client.add_comment(key, to_adf(review) if cloud else to_wiki(review))
        except JiraNotFound:
            return {"missing": True}  # not an issue of this site: skipped, and only once
        return {"id": posted.id}

    posted = await _once(plugin, f"{step}/comment", comment)
    if posted.get("missing"):
        return False
    link = remote_link(review)
    if link is not None:

        async def add_link() -> dict[str, Any]:
            return {"id": await client.add_remote_link(key, link)}

        await _once(plugin, f"{step}/link", add_link)
    return True
