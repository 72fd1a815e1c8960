"""Comment commands on a pull request: ``@<agent> review | full review | pause | resume``.

Mentions are read in the forms Bitbucket writes them: Cloud stores ``@{<account id>}`` in the
raw markdown (older comments ``@nickname``), Data Center ``@username``. Only the first mention of
the agent counts, and only the words after it on its line; the agent never answers itself. A
mention with an unknown word is a ``help`` request (the agent says what it understands rather
than staying silent).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from plugins.bitbucket.events import Actor

_FILLER = {"please", "pls", "can", "could", "you", "do", "a", "the", "now", "again"}
_WORD = re.compile(r"[a-z][a-z-]*")


class Command(StrEnum):
    """What a comment asks the agent."""

    REVIEW = "review"  # the head, unless it is reviewed already
    FULL_REVIEW = "full-review"  # the head again even if reviewed (posted findings not repeated)
    PAUSE = "pause"  # no automatic reviews on pushes until resume
    RESUME = "resume"
    HELP = "help"


class Request(BaseModel):
    """A command addressed to the agent, and the words that followed it."""

    model_config = ConfigDict(frozen=True)

    command: Command
    words: tuple[str, ...] = ()


def _handles_pattern(handles: Iterable[str]) -> re.Pattern[str] | None:
    forms = []
    for handle in {h.strip() for h in handles if h and h.strip()}:
        forms.append(re.escape("@{" + handle + "}"))
        forms.append(re.escape("@" + handle) + r"(?![\w.-])")
    if not forms:
        return None
    return re.compile("(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")", re.IGNORECASE)


def _command_of(words: list[str]) -> Command:
    rest = [w for w in words if w not in _FILLER]
    if not rest or rest[0] == "review":
        return Command.REVIEW
    if rest[0] == "full" and rest[1:2] == ["review"] or rest[0] == "full-review":
        return Command.FULL_REVIEW
    if rest[0] in ("pause", "stop"):
        return Command.PAUSE
    if rest[0] in ("resume", "unpause", "start"):
        return Command.RESUME
    return Command.HELP


def find_command(text: str, author: Actor, agent_handles: Iterable[str]) -> Request | None:
    """The command a comment gives the agent, or ``None`` (no mention, or the agent's own)."""
    handles = {h.lower() for h in agent_handles if h}
    if author.id.lower() in handles or author.name.lower() in handles:
        return None
    pattern = _handles_pattern(handles)
    found = pattern.search(text or "") if pattern else None
    if found is None:
        return None
    line = text[found.end() :].split("\n", 1)[0].lower()
    words = _WORD.findall(line)[:6]
    return Request(command=_command_of(words), words=tuple(words))


HELP_TEXT = (
    "I understand: `review` (the latest commit, if I have not reviewed it yet), `full review` "
    "(the whole pull request again, even a commit I reviewed; findings I already posted are not "
    "repeated), `pause` (no automatic reviews on pushes), `resume` and `help`."
)
FOOTER = "_dcoder review_"  # as render.FOOTER, in italics


def help_comment() -> str:
    """The reply to ``help`` (or to a mention with a word the agent does not know)."""
    return f"ℹ️ {HELP_TEXT} {FOOTER}"


def reviewed_comment(head: str) -> str:
    """The reply to ``review`` when the head is reviewed already."""
    return f"✅ {head[:12]} is reviewed already; say `full review` to review it again. {FOOTER}"
