"""The JQL subset the agents use: clauses joined by AND/OR/NOT with parentheses, and ORDER BY.

Fields: project, key, status, statusCategory, resolution, resolved, created, updated, issuetype,
labels, summary/text (``~``), assignee, reporter, and custom fields by name, ``cf[N]`` or id.
Operators: = != > >= < <= ~ IN, NOT IN, IS [NOT] EMPTY/NULL. ``currentUser()`` is the demo user.
Date fields take absolute dates, relative periods (``-30d``) and date functions (``startOfDay()``);
see ``simulators.jira.jqldates``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulators.jira import jqldates
from simulators.jira.state import CATEGORIES, ISSUE_TYPES, STATUSES, Issue, JiraState

TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<op>!=|>=|<=|!~|[=<>~(),])'
    r"|(?P<word>[^\s=!<>~(),\"']+))"
)
Predicate = Callable[[Issue], bool]


class JqlError(ValueError):
    """The query is outside the supported subset or malformed (Jira answers 400)."""


@dataclass
class Query:
    """A parsed query: a predicate and the ORDER BY keys (field, descending)."""

    matches: Predicate
    order: list[tuple[str, bool]]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise JqlError(f"Error in the JQL Query: unexpected character at {position}")
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "str":
            value = value[1:-1].replace('\\"', '"')
        out.append((kind, value))
        position = match.end()
    return out


class _Parser:
    def __init__(self, state: JiraState, text: str) -> None:
        self.state = state
        self.items = _tokens(text)
        self.pos = 0

    def peek(self) -> str:
        return self.items[self.pos][1].lower() if self.pos < len(self.items) else ""

    def take(self) -> str:
        if self.pos >= len(self.items):
            raise JqlError("Error in the JQL Query: the query ended unexpectedly")
        self.pos += 1
        return self.items[self.pos - 1][1]

    def parse(self) -> Query:
        matches: Predicate = lambda _issue: True  # noqa: E731 - empty JQL matches everything
        if self.peek() and self.peek() != "order":
            matches = self.disjunction()
        order: list[tuple[str, bool]] = []
        if self.peek() == "order":
            self.take()
            if self.take().lower() != "by":
                raise JqlError("Error in the JQL Query: expected BY after ORDER")
            order.append(self.order_key())
            while self.peek() == ",":
                self.take()
                order.append(self.order_key())
        if self.pos != len(self.items):
            raise JqlError(f"Error in the JQL Query: unexpected {self.items[self.pos][1]!r}")
        return Query(matches, order)

    def order_key(self) -> tuple[str, bool]:
        name = self.take()
        descending = False
        if self.peek() in ("asc", "desc"):
            descending = self.take().lower() == "desc"
        return name, descending

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.peek() == "or":
            self.take()
            parts.append(self.conjunction())
        return lambda issue: any(p(issue) for p in parts)

    def conjunction(self) -> Predicate:
        parts = [self.unary()]
        while self.peek() == "and":
            self.take()
            parts.append(self.unary())
        return lambda issue: all(p(issue) for p in parts)

    def unary(self) -> Predicate:
        if self.peek() == "not":
            self.take()
            inner = self.unary()
            return lambda issue: not inner(issue)
        if self.peek() == "(":
            self.take()
            inner = self.disjunction()
            if self.take() != ")":
                raise JqlError("Error in the JQL Query: expected )")
            return inner
        return self.clause()

    def value(self) -> str | datetime | None:
        word = self.take()
        if word.lower() in ("empty", "null"):
            return None
        if self.peek() == "(":  # a function such as currentUser() or startOfDay("-1d")
            self.take()
            args: list[str] = []
            while self.peek() != ")":
                args.append(self.take())
                if self.peek() == ",":
                    self.take()
            self.take()
            if word.lower() == "currentuser" and not args:
                return self.state.me.account_id
            try:
                return jqldates.call(word, args)
            except jqldates.DateError as err:
                raise JqlError(f"Error in the JQL Query: {err}") from err
        return word

    def clause(self) -> Predicate:
        name = self.take()
        op = self.take().lower()
        if op == "not" and self.peek() == "in":
            op = "not in" if self.take() else op
        if op == "is":
            negate = self.peek() == "not" and bool(self.take())
            self.value()
            getter = field_getter(self.state, name)
            return lambda issue: _empty(getter(issue)) != negate
        if op in ("in", "not in"):
            if self.take() != "(":
                raise JqlError("Error in the JQL Query: expected ( after IN")
            values = [self.value()]
            while self.peek() == ",":
                self.take()
                values.append(self.value())
            self.take()
            return _compare(self.state, name, "=" if op == "in" else "!=", values)
        if op not in ("=", "!=", ">", ">=", "<", "<=", "~", "!~"):
            raise JqlError(f"Error in the JQL Query: unsupported operator {op!r}")
        return _compare(self.state, name, op, [self.value()])


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == ""


def field_getter(state: JiraState, name: str) -> Callable[[Issue], Any]:
    """A function reading the comparable value of a JQL field from an issue."""
    key = name.lower()
    simple = {
        "project": lambda i: i.project_key,
        "key": lambda i: i.key,
        "issuekey": lambda i: i.key,
        "id": lambda i: int(i.id),
        "status": lambda i: STATUSES[i.fields["status"]][0],
        "statuscategory": lambda i: CATEGORIES[STATUSES[i.fields["status"]][1]][1],
        "resolution": lambda i: "Done" if i.fields.get("resolutiondate") else None,
        "resolved": lambda i: i.fields.get("resolutiondate"),
        "resolutiondate": lambda i: i.fields.get("resolutiondate"),
        "issuetype": lambda i: ISSUE_TYPES[i.fields["issuetype"]],
        "type": lambda i: ISSUE_TYPES[i.fields["issuetype"]],
        "summary": lambda i: i.fields.get("summary"),
        "text": lambda i: f"{i.fields.get('summary')} {i.fields.get('description') or ''}",
    }
    if key in simple:
        return simple[key]
    if key in ("created", "updated", "labels", "assignee", "reporter", "priority"):
        return lambda i: i.fields.get(key)
    fid = _custom_id(state, name)
    return lambda i: i.fields.get(fid)


def _custom_id(state: JiraState, name: str) -> str:
    names = {"story points": state.story_points_id, "story point estimate": state.estimate_id}
    if name.lower() in names:
        return names[name.lower()]
    match = re.fullmatch(r"cf\[(\d+)\]|customfield_(\d+)", name, re.IGNORECASE)
    fid = f"customfield_{match.group(1) or match.group(2)}" if match else ""
    if fid not in (state.story_points_id, state.estimate_id):
        raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")
    return fid


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value.lower()
    return value


def _dates(name: str, values: list[str | datetime | None]) -> list[datetime | None]:
    out: list[datetime | None] = []
    for value in values:
        try:
            out.append(jqldates.parse_value(value, name) if isinstance(value, str) else value)
        except jqldates.DateError as err:
            raise JqlError(str(err)) from err
    return out


def _compare_dates(state: JiraState, name: str, op: str, values: list[Any]) -> Predicate:
    getter = field_getter(state, name)
    wanted = _dates(name, values)
    if op in ("~", "!~"):
        raise JqlError(f"The operator '{op}' is not supported by the '{name}' field.")

    def check(issue: Issue) -> bool:
        actual = jqldates.field_value(getter(issue))
        if op == "=":
            return any(w == actual for w in wanted)
        if op == "!=":
            return actual is not None and all(w != actual for w in wanted)
        right = wanted[0]
        if actual is None or right is None:
            return False
        return {
            ">": actual > right,
            ">=": actual >= right,
            "<": actual < right,
            "<=": actual <= right,
        }[op]

    return check


def _compare(state: JiraState, name: str, op: str, values: list[Any]) -> Predicate:
    if name.lower() in jqldates.DATE_FIELDS:
        return _compare_dates(state, name, op, values)
    if any(isinstance(v, datetime) for v in values):
        raise JqlError(f"Error in the JQL Query: '{name}' does not take a date function.")
    getter = field_getter(state, name)
    wanted = [_norm(v) for v in values]
    if name.lower() == "project":  # a project may be named by key, id or name
        wanted = [
            _norm(p.key)
            for p in state.projects.values()
            for v in values
            if v and v.lower() in (p.key.lower(), p.id, p.name.lower())
        ] or wanted

    def check(issue: Issue) -> bool:
        actual = getter(issue)
        if op in ("~", "!~"):
            hit = any(str(w) in str(actual or "").lower() for w in wanted)
            return hit if op == "~" else not hit
        items = [_norm(a) for a in actual] if isinstance(actual, list) else [_norm(actual)]
        if op == "=":
            return any(w in items for w in wanted)
        if op == "!=":
            return actual is not None and not any(w in items for w in wanted)
        if actual is None or wanted[0] is None:
            return False
        left, right = _norm(actual), wanted[0]
        if isinstance(left, float) != isinstance(right, float):
            left, right = str(left), str(right)
        return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]

    return check


def parse(state: JiraState, text: str) -> Query:
    """Parse ``text``; raises ``JqlError`` for anything outside the subset."""
    return _Parser(state, text).parse()


def search(state: JiraState, text: str) -> list[Issue]:
    """Issues matching ``text`` in its order (default: newest first, like Jira's ``key DESC``)."""
    query = parse(state, text)
    found = [issue for issue in state.issues.values() if query.matches(issue)]
    order = query.order or [("created", True)]
    for name, descending in reversed(order):
        getter = field_getter(state, name) if name.lower() != "key" else (lambda i: int(i.id))
        found.sort(key=lambda i: (getter(i) is None, _norm(getter(i)) or 0), reverse=descending)
    return found
