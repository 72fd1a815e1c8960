"""The Jira REST API (Cloud and Data Center) on httpx: the one module of the agent speaking HTTP.

The caller passes an ``httpx.AsyncClient`` carrying the platform's auth (an ``httpx.Auth``: API
token, PAT or OAuth) and egress guard; this module adds paging, bounded retries (429 honouring
``Retry-After``, 5xx and connection failures with jittered backoff) and typed errors. Writes that
are not idempotent (a new comment) are retried only when Jira cannot have acted on them (429, 503,
no connection), so a retry never posts twice. The loop is the SDK's
``plugin_sdk.http.send_with_retries``; ``JIRA`` names Jira's errors for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict

from core.errors import CircuitOpen
from plugin_sdk.http import HttpProduct, RetryPolicy, send_with_retries
from plugins.jira.errors import (
    JiraAuthFailed,
    JiraBadRequest,
    JiraForbidden,
    JiraNotFound,
    JiraRateLimited,
    JiraUnavailable,
)
from plugins.jira.fields import FieldInfo, discover
from plugins.jira.story import FieldIds

Flavour = Literal["cloud", "dc"]
AGILE = "/rest/agile/1.0"
WEBHOOKS = "/rest/webhooks/1.0/webhook"
PAGE_SIZE = 100  # Jira's cap for one page of issues
RetrySettings = RetryPolicy  # the name the agent's callers and tests know


class Myself(BaseModel):
    """The account the client acts as (Cloud: account id; Data Center: user name)."""

    model_config = ConfigDict(frozen=True)

    account_id: str | None
    username: str | None
    display_name: str
    email: str | None = None


class ServerInfo(BaseModel):
    """What ``/serverInfo`` says about the site."""

    model_config = ConfigDict(frozen=True)

    base_url: str
    version: str
    deployment_type: str  # "Cloud", "Server" or "DataCenter"

    @property
    def flavour(self) -> Flavour:
        """``cloud`` or ``dc`` (Server and Data Center speak the same API)."""
        return "cloud" if self.deployment_type.lower() == "cloud" else "dc"


class PostedComment(BaseModel):
    """A comment Jira accepted."""

    model_config = ConfigDict(frozen=True)

    id: str
    author_account_id: str | None = None
    author_name: str | None = None


JIRA = HttpProduct(
    name="Jira",
    by_status={401: JiraAuthFailed, 403: JiraForbidden, 404: JiraNotFound},
    bad_request=JiraBadRequest,
    rate_limited=JiraRateLimited,
    unavailable=lambda detail, _ambiguous: JiraUnavailable(detail),
    unacted_statuses=frozenset({503}),  # Jira answers 503 before it acts (overload, maintenance)
)


class JiraClient:
    """One Jira site, as one account."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        flavour: Flavour = "cloud",
        retry: RetryPolicy | None = None,
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self.flavour: Flavour = flavour
        self.retry = retry or RetryPolicy()

    @property
    def api(self) -> str:
        """The platform REST prefix: v3 (ADF) on Cloud, v2 (wiki markup) on Data Center."""
        return "/rest/api/3" if self.flavour == "cloud" else "/rest/api/2"

    async def request(
        self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """A request with bounded retries; a 2xx response, or a typed error."""
        url = self.base_url + path
        try:
            return await send_with_retries(
                JIRA,
                lambda: self._http.request(method, url, **kwargs),
                method,
                path,
                policy=self.retry,
                idempotent=idempotent,
            )
        except CircuitOpen as err:  # the platform's breaker of this site: fail fast
            raise JiraUnavailable(f"{method} {path}: Jira kept failing; {err}") from None

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        return response.json() if response.content else None

    async def myself(self) -> Myself:
        """The agent's own account (``/myself``)."""
        body = await self._json("GET", f"{self.api}/myself")
        return Myself(
            account_id=body.get("accountId"),
            username=body.get("name") if self.flavour == "dc" else None,
            display_name=str(body.get("displayName") or ""),
            email=body.get("emailAddress"),
        )

    async def server_info(self) -> ServerInfo:
        """Version and deployment type of the site."""
        body = await self._json("GET", f"{self.api}/serverInfo")
        return ServerInfo(
            base_url=str(body.get("baseUrl") or self.base_url),
            version=str(body.get("version") or ""),
            deployment_type=str(body.get("deploymentType") or "Server"),
        )

    async def fields(self) -> list[FieldInfo]:
        """Every field of the site (custom ones with their schema)."""
        return [FieldInfo.of(raw) for raw in await self._json("GET", f"{self.api}/field")]

    async def board_ids(self, project_key: str) -> list[int]:
        """The agile boards of a project (first page; projects rarely have more than a few)."""
        body = await self._json("GET", f"{AGILE}/board", params={"projectKeyOrId": project_key})
        return [int(b["id"]) for b in body.get("values") or []]

    async def board_estimation_field(self, board_id: int) -> str | None:
        """The field a board estimates with (``estimation.field.fieldId``), if it has one."""
        body = await self._json("GET", f"{AGILE}/board/{board_id}/configuration")
        field = ((body.get("estimation") or {}).get("field") or {}).get("fieldId")
        return str(field) if field else None

    async def discover_fields(self, project_key: str | None = None) -> FieldIds:
        """The site's field ids; the project's first board decides the points field if any."""
        board_field = None
        if project_key:
            boards = await self.board_ids(project_key)
            board_field = await self.board_estimation_field(boards[0]) if boards else None
        return discover(await self.fields(), board_field)

    async def get_issue(self, key: str, fields: str = "*all", expand: str = "") -> dict[str, Any]:
        """One issue bean (``fields`` and ``expand`` as Jira takes them)."""
        params = {"fields": fields} | ({"expand": expand} if expand else {})
        result: dict[str, Any] = await self._json("GET", f"{self.api}/issue/{key}", params=params)
        return result

    async def add_comment(self, key: str, body: dict[str, Any] | str) -> PostedComment:
        """Post a comment: an ADF document on Cloud, wiki markup on Data Center."""
        if self.flavour == "cloud" and not isinstance(body, dict):
            raise TypeError("Cloud comments are ADF documents (see plugins.jira.render.to_adf)")
        if self.flavour == "dc" and not isinstance(body, str):
            raise TypeError("Data Center comments are wiki markup (see render.to_wiki)")
        path = f"{self.api}/issue/{key}/comment"
        made = await self._json("POST", path, json={"body": body}, idempotent=False)
        author = made.get("author") or {}
        return PostedComment(
            id=str(made["id"]),
            author_account_id=author.get("accountId"),
            author_name=author.get("name"),
        )

    async def edit_issue(
        self, key: str, fields: dict[str, Any] | None = None, add_labels: Sequence[str] = ()
    ) -> None:
        """Set fields and add labels (other labels stay) in one edit."""
        body: dict[str, Any] = {"fields": dict(fields or {})}
        if add_labels:
            body["update"] = {"labels": [{"add": label} for label in add_labels]}
        await self.request("PUT", f"{self.api}/issue/{key}", json=body)

    async def create_issue(self, fields: dict[str, Any]) -> str:
        """Create an issue (e.g. a sub-task: ``parent`` and issue type ``Sub-task``); its key."""
        made = await self._json("POST", f"{self.api}/issue", json={"fields": fields},
                                idempotent=False)  # fmt: skip
        return str(made["key"])

    async def add_remote_link(self, key: str, link: dict[str, Any]) -> int:
        """Create (or, same ``globalId``, update) a remote issue link; its id."""
        made = await self._json("POST", f"{self.api}/issue/{key}/remotelink", json=link)
        return int(made["id"])

    async def register_webhook(
        self, name: str, url: str, events: Sequence[str], jql: str, secret: str
    ) -> int:
        """Register a signed admin webhook (``/rest/webhooks/1.0``); its id."""
        body = {"name": name, "url": url, "events": list(events), "excludeBody": False,
                "filters": {"issue-related-events-section": jql}, "secret": secret}  # fmt: skip
        made = await self._json("POST", WEBHOOKS, json=body, idempotent=False)
        return int(str(made["self"]).rstrip("/").rsplit("/", 1)[-1])

    async def webhooks(self) -> list[dict[str, Any]]:
        """The site's admin webhooks (``url`` and ``self`` of each)."""
        return list(await self._json("GET", WEBHOOKS) or [])

    async def delete_webhook(self, webhook_id: int) -> None:
        """Remove an admin webhook (already gone is fine)."""
        try:
            await self.request("DELETE", f"{WEBHOOKS}/{webhook_id}")
        except JiraNotFound:
            return

    async def search(
        self,
        jql: str,
        fields: Sequence[str],
        *,
        page_size: int = PAGE_SIZE,
        limit: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every issue ``jql`` matches, page by page (Cloud: ``search/jql`` tokens; DC: startAt)."""
        pages = self._cloud_pages if self.flavour == "cloud" else self._dc_pages
        count = 0
        async for page in pages(jql, list(fields), min(page_size, PAGE_SIZE)):
            for issue in page:
                if limit is not None and count >= limit:
                    return
                count += 1
                yield issue

    async def _cloud_pages(
        self, jql: str, fields: list[str], size: int
    ) -> AsyncIterator[list[dict[str, Any]]]:
        body: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": size}
        seen: set[str] = set()
        while True:
            page = await self._json("POST", "/rest/api/3/search/jql", json=body)
            yield page.get("issues") or []
            token = page.get("nextPageToken")
            if page.get("isLast", True) or not token:
                return
            if token in seen:  # a server repeating itself must not loop us forever
                raise JiraUnavailable(f"search/jql repeated page token {token!r}")
            seen.add(token)
            body["nextPageToken"] = token

    async def _dc_pages(
        self, jql: str, fields: list[str], size: int
    ) -> AsyncIterator[list[dict[str, Any]]]:
        start = 0
        while True:
            body = {"jql": jql, "fields": fields, "maxResults": size, "startAt": start}
            page = await self._json("POST", "/rest/api/2/search", json=body)
            issues = page.get("issues") or []
            yield issues
            start += len(issues)
            if not issues or start >= int(page.get("total") or 0):
                return
