"""Is the agent asked something in this comment, and what? (Pure: no I/O.)

Cloud v2 bodies mention with ``[~accountid:ID]``, v3 bodies with ADF ``mention`` nodes
(``attrs.id``), Data Center bodies with ``[~username]``. The command is the first word after the
agent's first mention; none means the default (analyse and estimate), an unknown word a help reply.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from plugin_sdk.atlassian import adf_to_text, is_adf

_MENTION = re.compile(r"\[~(accountid:)?([^\]|]+)\]")
_WORD = re.compile(r"[A-Za-z][A-Za-z-]*")
# Words people put between the mention and the command ("@bot please estimate").
_FILLER = frozenset({"please", "pls", "can", "you", "could", "would", "kindly", "hey", "hi"})


class Command(StrEnum):
    """What the agent was asked to do."""

    DEFAULT = "default"  # analyse + estimate
    ANALYZE = "analyze"
    ESTIMATE = "estimate"
    SPLIT = "split"  # propose child issues
    SPLIT_CONFIRM = "split-confirm"  # create the proposed ones
    SIMILAR = "similar"
    HELP = "help"


_WORDS: dict[str, Command] = {
    "analyze": Command.ANALYZE,
    "analyse": Command.ANALYZE,
    "analysis": Command.ANALYZE,
    "estimate": Command.ESTIMATE,
    "points": Command.ESTIMATE,
    "split": Command.SPLIT,
    "similar": Command.SIMILAR,
    "duplicates": Command.SIMILAR,
    "help": Command.HELP,
}


class AgentIdentity(BaseModel):
    """How the agent's own account is named on one site."""

    model_config = ConfigDict(frozen=True)

    account_id: str | None = None  # Cloud
    username: str | None = None  # Data Center

    def is_me(self, mention: str, by_account_id: bool) -> bool:
        """Whether a mention (``accountid:`` form or DC user name) names the agent."""
        if by_account_id:
            return mention == self.account_id
        return self.username is not None and mention.lower() == self.username.lower()


class Request(BaseModel):
    """A comment that asks the agent something."""

    model_config = ConfigDict(frozen=True)

    command: Command
    unknown: str | None = None  # the word that was not a command (the reply is help)
    text: str = ""  # what follows the mention, for commands that take more words


def body_text(body: Any) -> str:
    """A comment body as text with mentions in wiki form (v2/DC string or v3 ADF)."""
    if is_adf(body):
        return adf_to_text(body, mentions="wiki")
    return body if isinstance(body, str) else ""


def parse_command(after: str) -> Request:
    """The command in the text after a mention."""
    words = [w.lower() for w in _WORD.findall(after)]
    while words and words[0] in _FILLER:
        words.pop(0)
    rest = after.strip()
    if not words:
        return Request(command=Command.DEFAULT, text=rest)
    command = _WORDS.get(words[0])
    if command is None:
        return Request(command=Command.HELP, unknown=words[0], text=rest)
    if command is Command.SPLIT and words[1:2] == ["confirm"]:
        command = Command.SPLIT_CONFIRM
    return Request(command=command, text=rest)


def find_request(body: Any, author: AgentIdentity, agent: AgentIdentity) -> Request | None:
    """The agent's request in a comment, or ``None`` (not mentioned, or its own comment)."""
    if _same(author, agent):
        return None  # never answer ourselves, whatever our comment mentions
    text = body_text(body)
    for match in _MENTION.finditer(text):
        if agent.is_me(match.group(2).strip(), by_account_id=bool(match.group(1))):
            after = _MENTION.split(text[match.end() :], maxsplit=1)[0]
            return parse_command(after.split("\n", 1)[0])
    return None


def _same(author: AgentIdentity, agent: AgentIdentity) -> bool:
    if author.account_id and author.account_id == agent.account_id:
        return True
    return bool(
        author.username and agent.username and author.username.lower() == agent.username.lower()
    )


def author_of(comment: dict[str, Any]) -> AgentIdentity:
    """Who wrote a webhook's or the REST API's comment (Cloud account id, DC ``name``)."""
    raw = comment.get("author")
    author: dict[str, Any] = raw if isinstance(raw, dict) else {}
    account = author.get("accountId")
    name = author.get("name")
    return AgentIdentity(
        account_id=account if isinstance(account, str) else None,
        username=name if isinstance(name, str) else None,
    )
