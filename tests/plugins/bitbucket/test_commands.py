"""Comment commands: mention forms of Cloud and Data Center, the words, the agent's own comments."""

from __future__ import annotations

import pytest

from plugins.bitbucket.commands import Command, find_command
from plugins.bitbucket.events import Actor

ALICE = Actor(id="557058:alice", name="alice", display_name="Alice")
AGENT = ["557058:agent", "dcoder-agent"]


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("@{557058:agent} review", Command.REVIEW),
        ("@dcoder-agent", Command.REVIEW),
        ("LGTM\n@dcoder-agent please full review", Command.FULL_REVIEW),
        ("@DCODER-AGENT full-review now", Command.FULL_REVIEW),
        ("@dcoder-agent pause", Command.PAUSE),
        ("@{557058:agent} resume", Command.RESUME),
        ("@dcoder-agent dance", Command.HELP),
    ],
)
def test_commands(text: str, command: Command) -> None:
    found = find_command(text, ALICE, AGENT)
    assert found is not None and found.command is command


def test_not_for_us() -> None:
    assert find_command("@dcoder-agentx review", ALICE, AGENT) is None
    assert find_command("dcoder-agent review", ALICE, AGENT) is None
    assert find_command("", ALICE, AGENT) is None
    assert find_command("@dcoder-agent review", ALICE, []) is None


def test_the_agent_never_answers_itself() -> None:
    me = Actor(id="557058:agent", name="dcoder Agent")
    assert find_command("@dcoder-agent review", me, AGENT) is None


def test_only_the_mention_line_counts() -> None:
    found = find_command("@dcoder-agent\npause everything", ALICE, AGENT)
    assert found is not None and found.command is Command.REVIEW
