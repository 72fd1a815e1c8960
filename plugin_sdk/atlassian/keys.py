"""Jira issue keys in free text (commit messages, branch names, PR titles, comments)."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A project key starts with a letter, has 2-10 upper-case letters, digits or underscores; the
# number has no leading zero. Lookarounds stop 'ABC-12' matching inside 'XABC-123' or 'ABC-123a'.
ISSUE_KEY = re.compile(r"(?<![A-Za-z0-9_-])([A-Z][A-Z0-9_]{1,9})-([1-9][0-9]{0,8})(?![A-Za-z0-9_])")
# Things that look like keys and never are (encodings, hashes, standards).
NOT_KEYS = frozenset({"UTF", "ISO", "SHA", "MD", "RFC", "CVE", "HTTP", "TLS", "X509", "AES"})


def issue_keys(text: str, projects: Iterable[str] | None = None) -> list[str]:
    """Issue keys in ``text`` in order of appearance, without repeats.

    With ``projects``, only keys of those project keys are returned (the reliable way: a site's
    project list is known); without it, well-known look-alikes such as ``UTF-8`` are skipped.
    """
    wanted = {p.upper() for p in projects} if projects is not None else None
    found: list[str] = []
    for match in ISSUE_KEY.finditer(text or ""):
        project = match.group(1)
        if wanted is not None and project not in wanted:
            continue
        if wanted is None and project in NOT_KEYS:
            continue
        key = f"{project}-{match.group(2)}"
        if key not in found:
            found.append(key)
    return found
