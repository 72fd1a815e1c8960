"""Mention detection (v2 wiki, v3 ADF, DC user names) and command parsing, on real payloads."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from core.settings import Settings
from plugins.jira.mentions import AgentIdentity, Command, author_of, find_request, parse_command

AGENT = AgentIdentity(account_id="712020:agent")
DC_AGENT = AgentIdentity(username="dcoder-agent")
ALICE = AgentIdentity(account_id="5c5f880629be9642ba529340", username="admin")


def _sample() -> dict[str, Any]:
    """The real Cloud comment_created capture from the shared contracts."""
    path = Settings().contracts_dir / "webhooks" / "jira-cloud" / "comment_created.json"
    if not path.is_file():
        pytest.skip(f"contracts not present at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def _adf(*inline: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": list(inline)}],
    }


def _mention(ident: str) -> dict[str, Any]:
    return {"type": "mention", "attrs": {"id": ident, "text": "@dcoder Agent"}}


def test_real_cloud_payload_without_mention_is_ignored_and_with_one_is_a_request() -> None:
    payload = _sample()
    author = author_of(payload["comment"])
    assert author.account_id == "5c5f880629be9642ba529340"
    assert find_request(payload["comment"]["body"], author, AGENT) is None
    mentioned = copy.deepcopy(payload)
    mentioned["comment"]["body"] = "[~accountid:712020:agent] estimate please"
    found = find_request(mentioned["comment"]["body"], author_of(mentioned["comment"]), AGENT)
    assert found is not None and found.command is Command.ESTIMATE


def test_v3_adf_mention_node() -> None:
    body = _adf(_mention("712020:agent"), {"type": "text", "text": " split confirm"})
    found = find_request(body, ALICE, AGENT)
    assert found is not None and found.command is Command.SPLIT_CONFIRM
    other = _adf(_mention("712020:someone-else"), {"type": "text", "text": " analyze"})
    assert find_request(other, ALICE, AGENT) is None


def test_dc_username_mention_case_insensitive_and_not_an_account_id() -> None:
    found = find_request("Hi [~DCoder-Agent], similar?", ALICE, DC_AGENT)
    assert found is not None and found.command is Command.SIMILAR
    assert find_request("[~accountid:dcoder-agent] analyze", ALICE, DC_AGENT) is None
    assert find_request("[~dcoder-agent] analyze", ALICE, AGENT) is None


def test_own_comments_are_never_answered() -> None:
    assert find_request("[~accountid:712020:agent] analyze", AGENT, AGENT) is None
    dc_self = AgentIdentity(username="dcoder-agent")
    assert find_request("[~dcoder-agent] help", dc_self, DC_AGENT) is None


def test_second_mention_of_the_agent_after_another_person() -> None:
    body = "[~accountid:bob] FYI, and [~accountid:712020:agent] analyse"
    found = find_request(body, ALICE, AGENT)
    assert found is not None and found.command is Command.ANALYZE


@pytest.mark.parametrize(
    ("after", "command", "unknown"),
    [
        ("", Command.DEFAULT, None),
        ("  ", Command.DEFAULT, None),
        (": analyze", Command.ANALYZE, None),
        ("please estimate this", Command.ESTIMATE, None),
        ("split", Command.SPLIT, None),
        ("split confirm", Command.SPLIT_CONFIRM, None),
        ("SPLIT, confirm", Command.SPLIT_CONFIRM, None),
        ("similar", Command.SIMILAR, None),
        ("help", Command.HELP, None),
        ("dance now", Command.HELP, "dance"),
    ],
)
def test_commands(after: str, command: Command, unknown: str | None) -> None:
    found = parse_command(after)
    assert (found.command, found.unknown) == (command, unknown)


def test_command_is_read_from_the_mention_line_only() -> None:
    found = find_request("[~accountid:712020:agent]\nthe export should be fast", ALICE, AGENT)
    assert found is not None and found.command is Command.DEFAULT
