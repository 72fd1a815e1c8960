"""JSON shapes of Bitbucket Cloud 2.0 objects, every one with ``type`` and ``links.self``."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request

from simulators.auth import DEMO_DISPLAY_NAME, account_by_id
from simulators.bitbucket_cloud.git_repo import FileChange
from simulators.bitbucket_cloud.state import CloudState, Comment, PullRequest, Repo


@dataclass(frozen=True)
class Urls:
    """Where this simulator answers: ``web`` is the mount root, ``api`` is ``{web}/2.0``."""

    web: str

    @property
    def api(self) -> str:
        """Base of the REST API."""
        return f"{self.web}/2.0"

    @classmethod
    def of(cls, request: Request, state: CloudState) -> Urls:
        """Public base URL of the server plus the mount prefix of this app."""
        return cls(state.config.base_url.rstrip("/") + request.scope.get("root_path", ""))

    def repo(self, repo: Repo) -> str:
        """API URL of a repository."""
        return f"{self.api}/repositories/{repo.full_name}"


def link(href: str) -> dict[str, str]:
    """``{"href": ...}``."""
    return {"href": href}


def rendered(raw: str) -> dict[str, str]:
    """A ``rendered`` markup object (Markdown kept raw, HTML escaped into one paragraph)."""
    return {
        "type": "rendered",
        "raw": raw,
        "markup": "markdown",
        "html": f"<p>{html.escape(raw)}</p>",
    }


def user(urls: Urls, account_id: str, state: CloudState) -> dict[str, Any]:
    """The account with ``account_id`` (its own name; the demo user's for unknown ids)."""
    user_uuid = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, account_id)) + "}"
    known = account_by_id(state.config, account_id)
    return {
        "type": "user",
        "display_name": known.display_name if known else DEMO_DISPLAY_NAME,
        "nickname": known.username if known else state.config.user_email.split("@")[0],
        "account_id": account_id,
        "uuid": user_uuid,
        "links": {
            "self": link(f"{urls.api}/users/{quote(user_uuid)}"),
            "html": link(f"{urls.web}/{quote(user_uuid)}/"),
            "avatar": link(f"{urls.web}/avatar/{account_id}"),
        },
    }


def repo_ref(urls: Urls, repo: Repo) -> dict[str, Any]:
    """The short repository object embedded in other objects."""
    return {
        "type": "repository",
        "name": repo.name,
        "full_name": repo.full_name,
        "uuid": repo.uuid,
        "links": {
            "self": link(urls.repo(repo)),
            "html": link(f"{urls.web}/{repo.full_name}"),
            "avatar": link(f"{urls.web}/avatar/{repo.slug}"),
        },
    }


def repository(urls: Urls, repo: Repo, state: CloudState) -> dict[str, Any]:
    """The full repository object."""
    base = urls.repo(repo)
    body = repo_ref(urls, repo)
    body["links"] |= {
        "pullrequests": link(f"{base}/pullrequests"),
        "commits": link(f"{base}/commits"),
        "hooks": link(f"{base}/hooks"),
        "clone": [{"name": "https", "href": f"{urls.web}/{repo.full_name}.git"}],
    }
    body |= {
        "slug": repo.slug,
        "description": repo.description,
        "is_private": repo.is_private,
        "scm": "git",
        "created_on": repo.created_on,
        "updated_on": repo.created_on,
        "language": "",
        "has_issues": False,
        "has_wiki": False,
        "fork_policy": "allow_forks",
        "mainbranch": {"type": "branch", "name": repo.mainbranch},
        "owner": {"type": "team", "username": repo.workspace, "display_name": repo.workspace},
        "workspace": {"type": "workspace", "slug": repo.workspace, "name": repo.workspace},
    }
    return body


def commit_ref(urls: Urls, repo: Repo, hash_: str) -> dict[str, Any]:
    """A commit reference (hash and links)."""
    return {
        "type": "commit",
        "hash": hash_,
        "links": {
            "self": link(f"{urls.repo(repo)}/commit/{hash_}"),
            "html": link(f"{urls.web}/{repo.full_name}/commits/{hash_}"),
        },
    }


def _endpoint(urls: Urls, repo: Repo, branch: str, hash_: str) -> dict[str, Any]:
    return {
        "branch": {"name": branch},
        "commit": commit_ref(urls, repo, hash_),
        "repository": repo_ref(urls, repo),
    }


def pullrequest(urls: Urls, repo: Repo, pr: PullRequest, state: CloudState) -> dict[str, Any]:
    """The full pull request object."""
    base = f"{urls.repo(repo)}/pullrequests/{pr.id}"
    links = {name: link(f"{base}/{name}") for name in ("commits", "approve", "diff", "diffstat")}
    links |= {name: link(f"{base}/{name}") for name in ("comments", "activity", "merge")}
    links |= {"decline": link(f"{base}/decline"), "statuses": link(f"{base}/statuses")}
    links |= {
        "self": link(base),
        "html": link(f"{urls.web}/{repo.full_name}/pull-requests/{pr.id}"),
    }
    participants = [
        {"type": "participant", "user": user(urls, account, state), "role": p["role"]}
        | {"approved": p["approved"], "state": p["state"], "participated_on": p["on"]}
        for account, p in pr.participants.items()
    ]
    return {
        "type": "pullrequest",
        "id": pr.id,
        "title": pr.title,
        "description": pr.description,
        "summary": rendered(pr.description),
        "rendered": {"title": rendered(pr.title), "description": rendered(pr.description)},
        "state": pr.state,
        "draft": pr.draft,
        "reason": pr.reason,
        "author": user(urls, pr.author, state),
        "source": _endpoint(urls, repo, pr.source_branch, pr.source_hash),
        "destination": _endpoint(urls, repo, pr.dest_branch, pr.dest_hash),
        "merge_commit": commit_ref(urls, repo, pr.merge_commit) if pr.merge_commit else None,
        "close_source_branch": pr.close_source_branch,
        "closed_by": user(urls, pr.author, state) if pr.state != "OPEN" else None,
        "comment_count": sum(not state.comments[c].deleted for c in pr.comment_ids),
        "task_count": 0,
        "created_on": pr.created_on,
        "updated_on": pr.updated_on,
        "reviewers": [user(urls, r, state) for r in pr.reviewers],
        "participants": participants,
        "links": links,
    }


def comment(
    urls: Urls, repo: Repo, pr: PullRequest, c: Comment, state: CloudState
) -> dict[str, Any]:
    """A ``pullrequest_comment``; ``inline`` only for code comments."""
    base = f"{urls.repo(repo)}/pullrequests/{pr.id}"
    body: dict[str, Any] = {
        "type": "pullrequest_comment",
        "id": c.id,
        "content": rendered(c.raw),
        "user": user(urls, c.author, state),
        "created_on": c.created_on,
        "updated_on": c.updated_on,
        "deleted": c.deleted,
        "pending": False,
        "pullrequest": {
            "type": "pullrequest",
            "id": pr.id,
            "title": pr.title,
            "links": {
                "self": link(base),
                "html": link(f"{urls.web}/{repo.full_name}/pull-requests/{pr.id}"),
            },
        },
        "links": {
            "self": link(f"{base}/comments/{c.id}"),
            "html": link(
                f"{urls.web}/{repo.full_name}/pull-requests/{pr.id}/_/diff#comment-{c.id}"
            ),
        },
    }
    if c.inline is not None:
        body["inline"] = c.inline
    if c.resolution is not None:
        body["resolution"] = {
            "type": "comment_resolution",
            "user": user(urls, c.resolution["user"], state),
            "created_on": c.resolution["created_on"],
        }
    if c.parent_id is not None:
        body["parent"] = {
            "id": c.parent_id,
            "links": {"self": link(f"{base}/comments/{c.parent_id}")},
        }
    return body


def diffstat(urls: Urls, repo: Repo, change: FileChange, old: str, new: str) -> dict[str, Any]:
    """One ``diffstat`` entry with ``commit_file`` sides."""

    def side(path: str | None, rev: str) -> dict[str, Any] | None:
        if path is None:
            return None
        href = f"{urls.repo(repo)}/src/{rev}/{quote(path)}"
        return {
            "type": "commit_file",
            "path": path,
            "escaped_path": path,
            "links": {"self": link(href)},
        }

    return {
        "type": "diffstat",
        "status": change.status,
        "lines_added": change.lines_added,
        "lines_removed": change.lines_removed,
        "old": side(change.old_path, old),
        "new": side(change.new_path, new),
    }


def page(values: list[Any], request: Request, pagelen: int = 50) -> dict[str, Any]:
    """One page of a paged collection; ``next`` is absolute like the real API's."""
    number = max(int(request.query_params.get("page", "1")), 1)
    size = min(max(int(request.query_params.get("pagelen", str(pagelen))), 1), 100)
    chunk = values[(number - 1) * size : number * size]
    body: dict[str, Any] = {"values": chunk, "pagelen": size, "size": len(values), "page": number}
    if number * size < len(values):
        body["next"] = str(request.url.include_query_params(page=number + 1, pagelen=size))
    return body


def error(message: str, detail: str | None = None) -> dict[str, Any]:
    """Bitbucket Cloud's standard error body."""
    inner: dict[str, Any] = {"message": message}
    if detail:
        inner["detail"] = detail
    return {"type": "error", "error": inner}
