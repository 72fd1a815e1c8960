"""Turning request ``fields``/``update`` bodies into stored issue values (with changelog items)."""

from __future__ import annotations

from typing import Any

from simulators.jira.adf import adf_to_wiki, is_adf
from simulators.jira.errors import JiraError
from simulators.jira.state import ISSUE_TYPES, PRIORITIES, SUBTASK_TYPE, Issue, JiraState

SETTABLE = ("summary", "description", "issuetype", "labels", "priority", "assignee", "reporter")


def _by_id_or_name(value: Any, table: dict[str, str], field: str) -> str:
    if isinstance(value, dict):
        if str(value.get("id", "")) in table:
            return str(value["id"])
        for key, name in table.items():
            if name.lower() == str(value.get("name", "")).lower():
                return key
    raise JiraError(400, errors={field: f"Specify a valid '{field}' id or name"})


def _account(state: JiraState, value: Any, field: str) -> str | None:
    if value is None:
        return None
    account = value.get("accountId") if isinstance(value, dict) else None
    if account not in state.users:
        raise JiraError(400, errors={field: "Specify a valid value for " + field})
    return str(account)


def _number(value: Any, field: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as err:
        raise JiraError(400, errors={field: "Operation value must be a number"}) from err


def convert(state: JiraState, fid: str, value: Any, api: str) -> dict[str, Any]:
    """Stored values for one incoming field value (a dict, since rich text also keeps its ADF)."""
    if fid == "summary":
        if not isinstance(value, str) or not value.strip():
            raise JiraError(400, errors={"summary": "You must specify a summary of the issue."})
        return {fid: value}
    if fid == "description":
        if api == "3" and value is not None and not is_adf(value):
            raise JiraError(
                400, errors={"description": "Operation value must be an Atlassian Document"}
            )
        if is_adf(value):
            return {fid: adf_to_wiki(value), "_description_adf": value}
        return {fid: value, "_description_adf": None}
    if fid == "issuetype":
        return {fid: _by_id_or_name(value, ISSUE_TYPES, fid)}
    if fid == "priority":
        return {fid: _by_id_or_name(value, PRIORITIES, fid)}
    if fid == "labels":
        if not isinstance(value, list) or any(" " in str(v) for v in value):
            raise JiraError(400, errors={"labels": "Labels are strings without spaces"})
        return {fid: [str(v) for v in value]}
    if fid in ("assignee", "reporter"):
        return {fid: _account(state, value, fid)}
    if fid in (state.story_points_id, state.estimate_id):
        return {fid: _number(value, fid)}
    if fid == "parent":
        wanted = value.get("key") or value.get("id") if isinstance(value, dict) else None
        parent = state.issue(str(wanted)) if wanted else None
        if parent is None:
            raise JiraError(400, errors={"parent": "Could not find issue by id or key."})
        return {fid: parent.key}
    raise JiraError(
        400,
        errors={
            fid: f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."
        },
    )


def _label_ops(current: list[str], operations: list[dict[str, Any]]) -> list[str]:
    labels = list(current)
    for operation in operations:
        if "set" in operation:
            labels = [str(v) for v in operation["set"]]
        if "add" in operation and operation["add"] not in labels:
            labels.append(str(operation["add"]))
        if "remove" in operation and operation["remove"] in labels:
            labels.remove(operation["remove"])
    return labels


def changes(state: JiraState, body: dict[str, Any], api: str) -> dict[str, Any]:
    """All stored values a create/edit body sets, validated before anything is written."""
    out: dict[str, Any] = {}
    for fid, value in (body.get("fields") or {}).items():
        if fid != "project":
            out.update(convert(state, fid, value, api))
    if (out.get("issuetype") == SUBTASK_TYPE) != ("parent" in out) and "issuetype" in out:
        raise JiraError(400, errors={"parent": "A sub-task needs a parent; other types none."})
    return out


def apply(state: JiraState, issue: Issue, body: dict[str, Any], api: str) -> list[dict[str, Any]]:
    """Apply an edit (``fields`` and ``update`` label operations); returns changelog items."""
    new = changes(state, body, api)
    operations = (body.get("update") or {}).get("labels")
    if operations:
        new["labels"] = _label_ops(new.get("labels", issue.fields["labels"]), operations)
    unsupported = set(body.get("update") or {}) - {"labels", "comment"}
    if unsupported:
        raise JiraError(
            400, errors={f: "Update operations are only supported for labels" for f in unsupported}
        )
    items = []
    names = {state.story_points_id: "Story Points", state.estimate_id: "Story point estimate"}
    for fid, value in new.items():
        old = issue.fields.get(fid)
        if fid.startswith("_") or old == value:
            continue
        custom = fid.startswith("customfield_")
        items.append(
            {
                "field": names.get(fid, fid),
                "fieldtype": "custom" if custom else "jira",
                "fieldId": fid,
                "from": None,
                "fromString": _text(old),
                "to": None,
                "toString": _text(value),
            }
        )
    issue.fields.update(new)
    return items


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return " ".join(map(str, value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
