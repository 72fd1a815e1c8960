"""What the agent writes on a pull request (markdown, which Cloud and Data Center both render).

``inline_comment`` is one finding on its line: severity, rule, CWE, what, why it matters, a fix
hint and, where the server renders them, a ``suggestion`` block with the replacement lines.
``summary_comment`` is the ONE summary of the pull request, edited in place on every push:
counts by severity, what was reviewed, what was not and why, the mode (LLM or analyzers only).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from plugins.bitbucket.findings import ReviewFinding, Severity

ICON = {Severity.HIGH: "🔴", Severity.MEDIUM: "🟠", Severity.LOW: "🔵"}
FOOTER = "dcoder review"
# Why a weakness matters, in one sentence a reviewer can act on (the engine's CWEs).
WHY = {
    22: "A crafted path can read or overwrite files outside the intended directory.",
    78: "An attacker-controlled value can run arbitrary commands on the server.",
    79: "Injected markup runs as script in other users' browsers (session theft, actions as them).",
    89: "Crafted input can read or change any data the database account can reach.",
    90: "Crafted input can change the LDAP query and bypass authentication or leak entries.",
    95: "Evaluating untrusted text runs arbitrary code in the service.",
    295: "Without certificate checks anyone on the network path can read and alter the traffic.",
    327: "A broken algorithm does not protect the data it is meant to protect.",
    328: "A weak hash can be reversed or collided at little cost.",
    338: "Predictable random values let an attacker guess tokens or passwords.",
    501: "Untrusted data in the session is later trusted as if the server had set it.",
    502: "Deserialising untrusted data can run arbitrary code.",
    601: "An open redirect lends the site's name to phishing links.",
    611: "External entities can read local files or reach internal services.",
    614: "A cookie without Secure is sent over plain HTTP, where it can be read.",
    643: "Crafted input can change the XPath query and read unintended data.",
    798: "A secret in the source is readable by everyone with the repository, for ever.",
    916: "Fast hashes let stolen password hashes be cracked quickly.",
    1004: "A session cookie readable from script is stolen by any XSS.",
    1336: "Template text from users runs as code in the template engine.",
}


_MARKER = re.compile(r"^\[//\]: # \(dcoder:([a-z0-9-]{1,64})\)$", re.MULTILINE)
SUMMARY_MARKER = "summary"


def marker(tag: str) -> str:
    """An invisible line (a markdown link definition) naming what a comment is: a fingerprint
    or ``summary``. After an ambiguous failure the agent finds its comment again by it."""
    return f"[//]: # (dcoder:{tag})"


def marker_of(text: str) -> str | None:
    """The tag of a comment written by the agent, if it carries one."""
    found = _MARKER.search(text or "")
    return found.group(1) if found else None


def why_it_matters(finding: ReviewFinding) -> str:
    """One sentence on the impact, from the finding's first known CWE."""
    return next((WHY[c] for c in finding.cwe if c in WHY), "")


def _fence(text: str, lang: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def inline_comment(finding: ReviewFinding, *, suggestions: bool = True) -> str:
    """The markdown of one inline comment."""
    label = finding.title or finding.rule.split("/", 1)[-1]
    tags = [f"`{finding.rule}`", *(f"CWE-{c}" for c in finding.cwe)]
    head = f"{ICON[finding.severity]} {finding.severity.value.title()} · {label}"
    lines = [f"**{head}** ({', '.join(tags)})", ""]
    lines += [finding.message.strip(), ""]
    why = why_it_matters(finding)
    if why:
        lines += [f"**Why it matters:** {why}", ""]
    if finding.fix_hint:
        lines += [f"**Fix:** {finding.fix_hint.strip()}", ""]
    if suggestions and finding.suggestion is not None:
        lines += [_fence(finding.suggestion, "suggestion"), ""]
    source = "LLM review" if finding.source == "llm" else "static analysis"
    if finding.confidence is not None:
        source += f", confidence {finding.confidence:.0%}"
    if finding.also_reported_by:
        source += "; also reported by " + ", ".join(finding.also_reported_by)
    lines += [f"_{FOOTER} ({source})_", "", marker(finding.fingerprint)]
    return "\n".join(lines)


def fixed_reply(commit: str) -> str:
    """The reply on a finding's comment when a push fixed it (Data Center)."""
    return f"✅ Fixed in {commit[:12]}. _{FOOTER}_"


def reopened_reply(commit: str) -> str:
    """The reply when a fixed finding came back."""
    return f"↩️ Back in {commit[:12]}. _{FOOTER}_"


class Mode(BaseModel):
    """How a review was made."""

    model_config = ConfigDict(frozen=True)

    analyzers: list[str]
    llm: str | None = None  # the prompt label when the LLM reviewed, else None
    llm_note: str | None = None  # why the LLM did not review (no model, failed twice, off)


class Summary(BaseModel):
    """Everything the summary comment says."""

    model_config = ConfigDict(frozen=True)

    head: str
    mode: Mode
    result: str  # PASS or FAIL
    fail_on: Severity
    open_counts: dict[Severity, int]
    new_counts: dict[Severity, int] = Field(default_factory=dict)
    fixed: int = 0
    reviewed_files: int
    not_reviewed: list[tuple[str, str]] = Field(default_factory=list)  # (path, why)
    over_cap: int = 0
    cap: int = 20
    below_threshold: int = 0
    threshold: Severity = Severity.LOW
    settings_source: str = "instance defaults"
    settings_note: str | None = None
    problems: list[str] = Field(default_factory=list)  # analyzers that failed, partial results


def _mode_line(mode: Mode) -> str:
    tools = ", ".join(mode.analyzers) or "none"
    if mode.llm:
        return f"**Mode:** static analysis ({tools}) and LLM review (prompt {mode.llm})."
    why = f" ({mode.llm_note})" if mode.llm_note else ""
    return f"**Mode:** static analysis only ({tools}); no LLM review{why}."


def _counts_table(s: Summary) -> list[str]:
    rows = ["| severity | open | new in this push |", "|---|---|---|"]
    for severity in Severity:
        rows.append(
            f"| {ICON[severity]} {severity.value} | {s.open_counts.get(severity, 0)} "
            f"| {s.new_counts.get(severity, 0)} |"
        )
    return rows


def summary_comment(s: Summary) -> str:
    """The markdown of the pull request's one summary comment."""
    total = sum(s.open_counts.values())
    verdict = "✅ PASS" if s.result == "PASS" else "❌ FAIL"
    lines = [f"### {FOOTER}: {verdict} at {s.head[:12]}", "", _mode_line(s.mode), ""]
    lines.append(
        f"**{total} open finding{'s' if total != 1 else ''}**, {s.fixed} fixed by this push. "
        f"The Code Insights report fails from **{s.fail_on.value}** on."
    )
    lines += ["", *_counts_table(s), ""]
    lines.append(
        f"**Reviewed:** {s.reviewed_files} changed file{'s' if s.reviewed_files != 1 else ''}."
    )
    if s.not_reviewed:
        lines += ["", f"**Not reviewed ({len(s.not_reviewed)}):**"]
        lines += [f"- `{path}`: {why}" for path, why in s.not_reviewed]
    notes = []
    if s.over_cap:
        notes.append(
            f"{s.over_cap} finding{'s' if s.over_cap != 1 else ''} over this review's cap of "
            f"{s.cap} comments (posted by a later review when there is room)"
        )
    if s.below_threshold:
        notes.append(f"{s.below_threshold} below the comment threshold ({s.threshold.value})")
    if notes:
        lines += ["", "**Not commented:** " + "; ".join(notes) + "."]
    if s.problems:
        lines += ["", "**Incomplete:**"] + [f"- {p}" for p in s.problems]
    settings = f"**Settings:** {s.settings_source}"
    if s.settings_note:
        settings += f" (the repository file was not used: {s.settings_note})"
    lines += ["", settings + ".", "", f"_{FOOTER}: this comment is edited on every push._"]
    return "\n".join([*lines, "", marker(SUMMARY_MARKER)])


def skipped_comment(reason: str) -> str:
    """The one comment saying a pull request is not reviewed, and why."""
    return f"⏭️ No review: {reason}. _{FOOTER}_"
