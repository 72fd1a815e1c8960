"""Bitbucket webhooks (Cloud 2.0 and Data Center) parsed into one typed ``PullRequestEvent``.

Shapes follow the real captures in ``../shared/contracts/webhooks/bitbucket-{cloud,dc}/``. Cloud
names the event only in the ``X-Event-Key`` header; Data Center sends it there and as ``eventKey``
in the body. Cloud webhooks carry abbreviated commit hashes (12 characters): the review resolves
them through the API before using them. Cloud's ``pullrequest:updated`` also fires for title or
description edits and carries no previous head, so "new commits?" is decided later by comparing
the head with the last reviewed one; Data Center's ``pr:from_ref_updated`` names it
(``previousFromHash``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from plugin_sdk import PermanentError

Flavour = Literal["cloud", "dc"]


class EventKind(StrEnum):
    """What happened to the pull request, whichever product said it."""

    OPENED = "opened"
    UPDATED = "updated"  # new commits (DC), or maybe new commits (Cloud: also on edits)
    COMMENTED = "commented"
    MERGED = "merged"


CLOUD_EVENTS = {
    "pullrequest:created": EventKind.OPENED,
    "pullrequest:updated": EventKind.UPDATED,
    "pullrequest:comment_created": EventKind.COMMENTED,
    "pullrequest:fulfilled": EventKind.MERGED,
}
DC_EVENTS = {
    "pr:opened": EventKind.OPENED,
    "pr:from_ref_updated": EventKind.UPDATED,
    "pr:comment:added": EventKind.COMMENTED,
    "pr:merged": EventKind.MERGED,
}


class PayloadInvalid(PermanentError):
    """A webhook of a known event whose body lacks what that event always carries."""

    code = "bitbucket-payload-invalid"


class Actor(BaseModel):
    """A person or bot: Cloud ``account_id``/``uuid``, Data Center user ``name`` (slug)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str  # Cloud nickname, DC user name: what skip rules and mentions compare
    display_name: str = ""


class RepoRef(BaseModel):
    """A repository: Cloud ``workspace/slug``, Data Center ``PROJECT/slug``."""

    model_config = ConfigDict(frozen=True)

    owner: str
    slug: str

    @property
    def full_name(self) -> str:
        """``owner/slug``."""
        return f"{self.owner}/{self.slug}"


class CommentRef(BaseModel):
    """The comment of a ``commented`` event."""

    model_config = ConfigDict(frozen=True)

    id: int
    text: str
    author: Actor
    parent_id: int | None = None
    path: str | None = None  # inline comments


class PullRequestEvent(BaseModel):
    """One pull request webhook, typed the same for Cloud and Data Center."""

    model_config = ConfigDict(frozen=True)

    flavour: Flavour
    event_key: str
    kind: EventKind
    repo: RepoRef
    pr_id: int
    title: str
    description: str = ""
    state: str
    draft: bool = False
    source_branch: str
    target_branch: str
    head_commit: str
    base_commit: str | None = None
    previous_head: str | None = None
    author: Actor
    actor: Actor
    comment: CommentRef | None = None
    merge_commit: str | None = None
    from_fork: bool = False
    url: str | None = None  # the pull request's page, for links from other tools (Jira)

    @property
    def review_key(self) -> str:
        """Identity of the pull request across events: jobs, ledger and locks use it."""
        return f"{self.flavour}:{self.repo.full_name}#{self.pr_id}"


def _get(data: Any, *path: str | int) -> Any:
    for step in path:
        if isinstance(step, int):
            data = data[step] if isinstance(data, list) and len(data) > step else None
        else:
            data = data.get(step) if isinstance(data, dict) else None
    return data


def _need(data: Any, *path: str | int) -> Any:
    value = _get(data, *path)
    if value is None or value == "":
        raise PayloadInvalid(f"webhook body has no {'.'.join(str(p) for p in path)}")
    return value


def _cloud_actor(raw: Any) -> Actor:
    ident = _get(raw, "account_id") or _get(raw, "uuid") or ""
    name = _get(raw, "nickname") or _get(raw, "username") or _get(raw, "display_name") or ""
    return Actor(id=str(ident), name=str(name), display_name=str(_get(raw, "display_name") or ""))


def _dc_actor(raw: Any) -> Actor:
    name = str(_get(raw, "name") or _get(raw, "slug") or "")
    return Actor(
        id=str(_get(raw, "id") or name), name=name, display_name=str(_get(raw, "displayName") or "")
    )


def parse_event(event_key: str | None, body: Any) -> PullRequestEvent | None:
    """The typed event, ``None`` for events the agent does not handle; ``PayloadInvalid`` if bad."""
    if not isinstance(body, dict):
        raise PayloadInvalid("webhook body is not a JSON object")
    key = event_key or body.get("eventKey")
    if key in CLOUD_EVENTS:
        return _cloud(str(key), body)
    if key in DC_EVENTS:
        return _dc(str(key), body)
    return None


def _cloud(key: str, body: dict[str, Any]) -> PullRequestEvent:
    pr = _need(body, "pullrequest")
    source_repo = _get(pr, "source", "repository", "full_name")
    dest_repo = _get(pr, "destination", "repository", "full_name")
    full = str(_get(body, "repository", "full_name") or dest_repo or "")
    owner, _, slug = full.partition("/")
    if not slug:
        raise PayloadInvalid("webhook body has no repository.full_name")
    comment = None
    if CLOUD_EVENTS[key] is EventKind.COMMENTED:
        raw = _need(body, "comment")
        comment = CommentRef(
            id=int(_need(raw, "id")),
            text=str(_get(raw, "content", "raw") or ""),
            author=_cloud_actor(_get(raw, "user")),
            parent_id=_get(raw, "parent", "id"),
            path=_get(raw, "inline", "path"),
        )
    return PullRequestEvent(
        flavour="cloud",
        event_key=key,
        kind=CLOUD_EVENTS[key],
        repo=RepoRef(owner=owner, slug=slug),
        pr_id=int(_need(pr, "id")),
        title=str(_get(pr, "title") or ""),
        description=str(_get(pr, "description") or ""),
        state=str(_get(pr, "state") or "OPEN"),
        draft=bool(_get(pr, "draft")),
        source_branch=str(_need(pr, "source", "branch", "name")),
        target_branch=str(_need(pr, "destination", "branch", "name")),
        head_commit=str(_need(pr, "source", "commit", "hash")),
        base_commit=_get(pr, "destination", "commit", "hash"),
        author=_cloud_actor(_get(pr, "author")),
        actor=_cloud_actor(_get(body, "actor")),
        comment=comment,
        merge_commit=_get(pr, "merge_commit", "hash"),
        from_fork=bool(source_repo and dest_repo and source_repo != dest_repo),
        url=_get(pr, "links", "html", "href"),
    )


def _dc(key: str, body: dict[str, Any]) -> PullRequestEvent:
    pr = _need(body, "pullRequest")
    to_repo = _need(pr, "toRef", "repository")
    project = _get(to_repo, "project", "key") or _get(pr, "fromRef", "repository", "project", "key")
    if not project:
        raise PayloadInvalid("webhook body has no pullRequest.toRef.repository.project.key")
    from_repo_id = _get(pr, "fromRef", "repository", "id")
    comment = None
    if DC_EVENTS[key] is EventKind.COMMENTED:
        raw = _need(body, "comment")
        comment = CommentRef(
            id=int(_need(raw, "id")),
            text=str(_get(raw, "text") or ""),
            author=_dc_actor(_get(raw, "author")),
            parent_id=body.get("commentParentId") or _get(raw, "parent", "id"),
            path=_get(raw, "anchor", "path"),
        )
    return PullRequestEvent(
        flavour="dc",
        event_key=key,
        kind=DC_EVENTS[key],
        repo=RepoRef(owner=str(project), slug=str(_need(to_repo, "slug"))),
        pr_id=int(_need(pr, "id")),
        title=str(_get(pr, "title") or ""),
        description=str(_get(pr, "description") or ""),
        state=str(_get(pr, "state") or "OPEN"),
        draft=bool(_get(pr, "draft")),
        source_branch=str(_need(pr, "fromRef", "displayId")),
        target_branch=str(_need(pr, "toRef", "displayId")),
        head_commit=str(_need(pr, "fromRef", "latestCommit")),
        base_commit=_get(pr, "toRef", "latestCommit"),
        previous_head=body.get("previousFromHash"),
        author=_dc_actor(_get(pr, "author", "user")),
        actor=_dc_actor(_get(body, "actor")),
        comment=comment,
        merge_commit=_get(pr, "properties", "mergeCommit", "id"),
        from_fork=from_repo_id is not None and from_repo_id != _get(to_repo, "id"),
        url=_get(pr, "links", "self", 0, "href"),
    )
