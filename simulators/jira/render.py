"""JSON shapes of Jira resources (users, projects, statuses, fields, issues, comments)."""

from __future__ import annotations

from typing import Any

from simulators.jira.adf import wiki_to_adf
from simulators.jira.state import (
    CATEGORIES,
    ISSUE_TYPES,
    PRIORITIES,
    STATUSES,
    STORY_POINT_ESTIMATE,
    STORY_POINTS,
    SUBTASK_TYPE,
    Comment,
    Issue,
    JiraState,
    Project,
)

ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


def avatar_urls(site: str, kind: str, ident: str) -> dict[str, str]:
    """The four avatar sizes every user and project carries."""
    return {f"{n}x{n}": f"{site}/secure/{kind}avatar?size={n}&id={ident}" for n in (48, 24, 16, 32)}


def user(state: JiraState, account_id: str | None, api: str) -> dict[str, Any] | None:
    """A user as embedded in issues and comments (Cloud: account id, no e-mail; DC: name, key)."""
    if account_id is None or account_id not in state.users:
        return None
    found = state.users[account_id]
    if state.flavour == "dc":  # Data Center names users; account ids do not exist there
        return {
            "self": f"{state.site}/rest/api/2/user?username={found.username}",
            "key": found.username,
            "name": found.username,
            "emailAddress": found.email,
            "avatarUrls": avatar_urls(state.site, "user", found.username),
            "displayName": found.display_name,
            "active": True,
            "timeZone": "Etc/UTC",
        }
    return {
        "self": f"{state.site}/rest/api/{api}/user?accountId={found.account_id}",
        "accountId": found.account_id,
        "accountType": "atlassian",
        "avatarUrls": avatar_urls(state.site, "user", found.account_id),
        "displayName": found.display_name,
        "active": True,
        "timeZone": "Etc/UTC",
    }


def status(state: JiraState, status_id: str, api: str) -> dict[str, Any]:
    """A status with its category."""
    name, category = STATUSES[status_id]
    cat_id, cat_name, color = CATEGORIES[category]
    return {
        "self": f"{state.site}/rest/api/{api}/status/{status_id}",
        "description": "",
        "iconUrl": f"{state.site}/images/icons/statuses/generic.png",
        "name": name,
        "id": status_id,
        "statusCategory": {
            "self": f"{state.site}/rest/api/{api}/statuscategory/{cat_id}",
            "id": cat_id,
            "key": category,
            "colorName": color,
            "name": cat_name,
        },
    }


def project(state: JiraState, found: Project, api: str) -> dict[str, Any]:
    """A project (the short form embedded in issues and listed by ``GET /project``)."""
    return {
        "self": f"{state.site}/rest/api/{api}/project/{found.id}",
        "id": found.id,
        "key": found.key,
        "name": found.name,
        "projectTypeKey": "software",
        "simplified": False,
        "avatarUrls": avatar_urls(state.site, "project", found.id),
    }


def issue_type(state: JiraState, type_id: str, api: str) -> dict[str, Any]:
    """An issue type."""
    return {
        "self": f"{state.site}/rest/api/{api}/issuetype/{type_id}",
        "id": type_id,
        "description": "",
        "iconUrl": f"{state.site}/images/icons/issuetypes/{type_id}.png",
        "name": ISSUE_TYPES[type_id],
        "subtask": type_id == SUBTASK_TYPE,
        "hierarchyLevel": -1 if type_id == SUBTASK_TYPE else 0,
    }


def fields_list(state: JiraState) -> list[dict[str, Any]]:
    """``GET /field``: system fields the simulator knows plus both story-point custom fields."""
    system = [
        ("summary", "Summary", "string", True),
        ("description", "Description", "string", True),
        ("status", "Status", "status", True),
        ("labels", "Labels", "array", True),
        ("issuetype", "Issue Type", "issuetype", True),
        ("project", "Project", "project", True),
        ("created", "Created", "datetime", True),
        ("updated", "Updated", "datetime", True),
        ("resolutiondate", "Resolved", "datetime", True),
        ("assignee", "Assignee", "user", True),
        ("reporter", "Reporter", "user", True),
        ("priority", "Priority", "priority", True),
        ("comment", "Comment", "comments-page", False),
    ]
    out: list[dict[str, Any]] = [
        {
            "id": fid,
            "key": fid,
            "name": name,
            "custom": False,
            "orderable": True,
            "navigable": navigable,
            "searchable": True,
            "clauseNames": [fid],
            "schema": {"type": kind, "system": fid},
        }
        for fid, name, kind, navigable in system
    ]
    customs = [
        (
            state.story_points_id,
            STORY_POINTS,
            "com.atlassian.jira.plugin.system.customfieldtypes:float",
        ),
        (state.estimate_id, STORY_POINT_ESTIMATE, "com.pyxis.greenhopper.jira:jsw-story-points"),
    ]
    for fid, name, custom in customs:
        number = int(fid.removeprefix("customfield_"))
        out.append(
            {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{number}]", name],
                "schema": {"type": "number", "custom": custom, "customId": number},
            }
        )
    return out


def body(text: str, adf: dict[str, Any] | None, api: str, state: JiraState) -> Any:
    """A rich-text value: wiki text on v2, an ADF document on v3."""
    if api == "2":
        return text
    if adf is not None:
        return adf
    return wiki_to_adf(text, {u.account_id: u.display_name for u in state.users.values()})


def comment(state: JiraState, found: Issue, item: Comment, api: str) -> dict[str, Any]:
    """A comment resource."""
    author = user(state, item.author, api)
    return {
        "self": f"{state.site}/rest/api/{api}/issue/{found.id}/comment/{item.id}",
        "id": item.id,
        "author": author,
        "body": body(item.body, item.adf, api, state),
        "updateAuthor": author,
        "created": item.created,
        "updated": item.updated,
        "jsdPublic": True,
    }


def field_value(state: JiraState, found: Issue, fid: str, api: str) -> Any:
    """The rendered value of one field of an issue."""
    raw: Any = found.fields.get(fid)
    if fid == "status":
        return status(state, raw, api)
    if fid == "issuetype":
        return issue_type(state, raw, api)
    if fid == "project":
        return project(state, state.projects[found.project_key], api)
    if fid in ("assignee", "reporter", "creator"):
        return user(state, raw if fid != "creator" else found.fields["reporter"], api)
    if fid == "priority":
        return {
            "self": f"{state.site}/rest/api/{api}/priority/{raw}",
            "id": raw,
            "name": PRIORITIES[raw],
        }
    if fid == "resolution":
        done = found.fields.get("resolutiondate")
        return (
            {"self": f"{state.site}/rest/api/{api}/resolution/10000", "id": "10000", "name": "Done"}
            if done
            else None
        )
    if fid == "statusCategory":
        return status(state, found.fields["status"], api)["statusCategory"]
    if fid == "description":
        return None if raw is None else body(raw, found.fields.get("_description_adf"), api, state)
    if fid == "parent":
        parent = state.issue(raw) if isinstance(raw, str) else None
        if parent is None:
            return None
        summary = {"summary": parent.fields["summary"]}
        return {"id": parent.id, "key": parent.key, "fields": summary}
    if fid == "comment":
        items = [comment(state, found, c, api) for c in found.comments]
        return {"comments": items, "maxResults": len(items), "total": len(items), "startAt": 0}
    return raw


ALL_FIELDS = (
    "summary",
    "description",
    "issuetype",
    "project",
    "status",
    "statusCategory",
    "labels",
    "priority",
    "created",
    "updated",
    "resolutiondate",
    "resolution",
    "reporter",
    "creator",
    "assignee",
    "comment",
)


def select_fields(state: JiraState, requested: list[str], default: str) -> list[str]:
    """Resolve a ``fields`` parameter (``*all``, ``*navigable``, names, ``-excluded``)."""
    wanted = [f.strip() for f in requested if f.strip()] or [default]
    every = [*ALL_FIELDS, "parent", state.story_points_id, state.estimate_id]
    chosen: list[str] = []
    for name in wanted:
        if name in ("*all", "*navigable"):
            chosen.extend(f for f in every if name == "*all" or f != "comment")
        elif not name.startswith("-") and name != "id":
            chosen.append(name)
    excluded = {name[1:] for name in wanted if name.startswith("-")}
    return [f for f in dict.fromkeys(chosen) if f not in excluded]


def issue(
    state: JiraState, found: Issue, api: str, fields: list[str], expand: str = ""
) -> dict[str, Any]:
    """An issue bean with the chosen fields and the requested expansions."""
    out: dict[str, Any] = {
        "expand": ISSUE_EXPAND,
        "id": found.id,
        "self": f"{state.site}/rest/api/{api}/issue/{found.id}",
        "key": found.key,
    }
    out["fields"] = {fid: field_value(state, found, fid, api) for fid in fields}
    if out["fields"].get("parent", 0) is None:
        del out["fields"]["parent"]  # Jira names a parent only on issues that have one
    names = {f["id"]: f["name"] for f in fields_list(state)}
    if "names" in expand:
        out["names"] = {fid: names.get(fid, fid) for fid in fields}
    if "changelog" in expand:
        histories = found.changelog
        out["changelog"] = {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(histories),
            "histories": histories,
        }
    return out
