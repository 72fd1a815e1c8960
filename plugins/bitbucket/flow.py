"""The review's two ends in the tenant host: asking for it (webhook) and applying it (job event).

``request_review`` reads the pull request as it is now, the settings at its **base** commit,
the skip rules and the ledger, and submits one ``review`` job keyed by the pull request (a newer
push supersedes the running one). ``apply_review`` takes the job's analysis (from its result, or
from the instance's store where the job kept a report too large for it), adds the LLM review
when the platform has a model, composes the review (``review.compose``) and applies it as
idempotent steps: each step runs once per job (``ctx.effects``), and a comment is looked for by
its marker before it is created, so neither a replayed event nor an ambiguous failure posts twice.
The LLM review is such a step too: its result is recorded with the job's effects, so a retried
apply (a Bitbucket 5xx while posting) reuses it and never asks the model again for the same job.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from plugin_sdk import PermanentError, PluginNotReady
from plugin_sdk.events import stable_event_id
from plugin_sdk.jobs import JobOutcome
from plugins.bitbucket.chunks import plan_chunks
from plugins.bitbucket.client import BitbucketClient, Inline, PostedComment
from plugins.bitbucket.commands import reviewed_comment
from plugins.bitbucket.events import Actor, PullRequestEvent
from plugins.bitbucket.failed import report_failure
from plugins.bitbucket.job import ANALYSIS_KEY, REVIEW_JOB, ReviewJob
from plugins.bitbucket.ledger import Ledger, forget, record_pending
from plugins.bitbucket.llm import LlmResult, review_diff
from plugins.bitbucket.outcome import REVIEW_COMPLETED, jira_keys
from plugins.bitbucket.render import (
    SUMMARY_MARKER,
    fixed_reply,
    inline_comment,
    marker_of,
    reopened_reply,
    skipped_comment,
    summary_comment,
)
from plugins.bitbucket.repo_settings import SETTINGS_PATH, Effective
from plugins.bitbucket.review import Composed, completed, compose
from plugins.bitbucket.skip import skip_reason

if TYPE_CHECKING:
    from plugins.bitbucket.plugin import BitbucketPlugin

LEDGER_PREFIX = "ledger:"
_LLM_RESULT = TypeAdapter(LlmResult)


async def load_ledger(plugin: BitbucketPlugin, key: str) -> Ledger:
    """The pull request's ledger (empty the first time)."""
    raw = await plugin.ctx.store.get(LEDGER_PREFIX + key)
    return Ledger.model_validate(raw) if raw else Ledger(key=key)


async def save_ledger(plugin: BitbucketPlugin, ledger: Ledger) -> None:
    """Keep the ledger (after every step, so a crash loses at most the step under way)."""
    await plugin.ctx.store.set(LEDGER_PREFIX + ledger.key, ledger.model_dump(mode="json"))


def _clone_url(repository: dict[str, object]) -> str:
    links = repository.get("links")
    clones = links.get("clone") if isinstance(links, dict) else None
    for link in clones if isinstance(clones, list) else []:
        href = link.get("href") if isinstance(link, dict) else None
        if isinstance(href, str) and href.startswith(("https://", "http://")):
            return href
    raise PermanentError("the repository has no HTTP clone link")


async def request_review(
    plugin: BitbucketPlugin,
    event: PullRequestEvent,
    delivery_id: str,
    *,
    asked: bool = False,
    full: bool = False,
) -> str | None:
    """Submit the review of the pull request's current head; the job id, or None when not due.

    ``asked``: a ``review`` command (reviews a paused or skipped head too; an already reviewed
    head gets a short reply instead). ``full``: ``full review``, the head again in any case.
    """
    client = plugin.client()
    pr = await client.pull_request(event.repo, event.pr_id)
    event = event.model_copy(update={
        "head_commit": pr.head, "base_commit": pr.base, "draft": pr.draft, "state": pr.state,
        "title": pr.title, "description": pr.description, "author": pr.author,
        "source_branch": pr.source_branch, "target_branch": pr.target_branch,
    })  # fmt: skip
    ledger = await load_ledger(plugin, event.review_key)
    if not asked and (ledger.paused or ledger.last_head == pr.head):
        return None  # paused, or this head was reviewed already (a replayed webhook)
    if asked and not full and ledger.last_head == pr.head:
        async with plugin.ctx.effects.once(delivery_id, "reviewed-note") as first:
            if first:
                await client.add_comment(event.repo, event.pr_id, reviewed_comment(pr.head))
        return None
    text = await client.file_at(event.repo, pr.base, SETTINGS_PATH)
    effective = Effective.resolve(plugin.config.review, text, pr.base)
    reason = None if asked else skip_reason(event, effective.settings.skip)
    if reason is not None:
        await _note_skip(plugin, client, event, ledger, reason, delivery_id)
        return None
    job = ReviewJob(
        event=event, head=pr.head, base=pr.base, settings=effective, full=full,
        clone_url=_clone_url(await client.repository(event.repo)),
    )  # fmt: skip
    return await plugin.ctx.jobs.submit(
        REVIEW_JOB, job.model_dump(mode="json"), key=event.review_key
    )


async def _note_skip(
    plugin: BitbucketPlugin,
    client: BitbucketClient,
    event: PullRequestEvent,
    ledger: Ledger,
    reason: str,
    delivery_id: str,
) -> None:
    """Say once why the pull request gets no review."""
    if ledger.skip_noted == reason:
        return
    async with plugin.ctx.effects.once(delivery_id, "skip-note") as first:
        if first:
            await client.add_comment(event.repo, event.pr_id, skipped_comment(reason))
            await save_ledger(plugin, ledger.model_copy(update={"skip_noted": reason}))


async def _llm_review(
    plugin: BitbucketPlugin, client: BitbucketClient, job: ReviewJob
) -> tuple[LlmResult | None, str | None]:
    settings, config = job.settings.settings, plugin.config
    if not (config.use_llm and settings.analyzers.llm):
        return None, "the LLM review is switched off in the settings"
    if not plugin.ctx.llm.enabled:
        return None, "no LLM is configured on this service"
    diff = await client.diff(job.event.repo, job.event.pr_id)
    chunks = plan_chunks(
        diff, chunk_tokens=config.llm_chunk_tokens, total_tokens=config.llm_total_tokens,
        ignore=settings.ignore,
    )  # fmt: skip
    values = {
        "title": job.event.title, "description": job.event.description,
        "target_branch": job.event.target_branch, "instructions": settings.instructions,
    }  # fmt: skip
    result = await review_diff(
        plugin.ctx.llm, chunks, values, min_confidence=config.llm_min_confidence,
        timeout_s=config.llm_timeout_s, max_tokens=config.llm_max_tokens,
    )  # fmt: skip
    return result, None


async def _llm_review_once(
    plugin: BitbucketPlugin, client: BitbucketClient, job: ReviewJob, job_id: str
) -> tuple[LlmResult | None, str | None]:
    """The job's LLM review, asked once per job: a retried apply gets the recorded result."""

    async def ask() -> dict[str, Any]:
        result, note = await _llm_review(plugin, client, job)
        kept = _LLM_RESULT.dump_python(result, mode="json") if result is not None else None
        return {"result": kept, "note": note}

    recorded = await plugin.ctx.effects.run_once(f"{job_id}/llm", ask)
    if recorded is None:
        raise PluginNotReady(f"the LLM review of job {job_id} is under way in another attempt")
    kept = recorded.get("result")
    return (_LLM_RESULT.validate_python(kept) if kept else None), recorded.get("note")


async def _analysis(plugin: BitbucketPlugin, result: dict[str, Any]) -> dict[str, Any]:
    """The job's report: in its result, or in the instance's store when it was too large."""
    key = result.get(ANALYSIS_KEY)
    if key is None:
        return dict(result["analysis"])
    stored = await plugin.ctx.store.get(str(key))
    if not isinstance(stored, dict):
        raise PermanentError(f"the review's report {key!r} is no longer in the store (expired)")
    return stored


async def apply_review(plugin: BitbucketPlugin, outcome: JobOutcome) -> None:
    """Apply a finished review job to its pull request (nothing when a newer head exists)."""
    if not outcome.ok:
        await report_failure(plugin, outcome)
        return
    if not outcome.result:
        return  # cancelled or superseded: a newer review follows
    job = ReviewJob.model_validate(outcome.result["job"])
    head = str(outcome.result["head"])
    client, event = plugin.client(), job.event
    current = await client.pull_request(event.repo, event.pr_id)
    if current.head != head:
        return  # a newer push: its own review follows
    analysis = await _analysis(plugin, outcome.result)
    llm, llm_note = await _llm_review_once(plugin, client, job, outcome.job_id)
    ledger = await load_ledger(plugin, event.review_key)
    composed = compose(event, head, job.settings, analysis, ledger, llm=llm, llm_note=llm_note)
    steps = Steps(plugin, client, outcome.job_id, event, head)
    ledger = await steps.comments(composed.ledger, composed)
    await steps.report(composed)
    messages = await client.commit_messages(event.repo, event.pr_id)
    keys = jira_keys(event, messages, plugin.config.jira_projects or None)
    done = completed(event, composed, keys, ledger.summary_comment_id)
    await plugin.ctx.publish(
        REVIEW_COMPLETED, done.model_dump(mode="json"),
        event_id=stable_event_id(REVIEW_COMPLETED, event.review_key, head),
    )  # fmt: skip
    await save_ledger(plugin, ledger.model_copy(update={"last_head": head}))


class Steps:
    """The effects of one review, each once per job; comments found again by their marker."""

    def __init__(
        self,
        plugin: BitbucketPlugin,
        client: BitbucketClient,
        job_id: str,
        event: PullRequestEvent,
        head: str,
    ) -> None:
        self.plugin, self.client, self.job_id = plugin, client, job_id
        self.event, self.head = event, head
        self._mine: dict[str, PostedComment] | None = None

    async def _once(self, step: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        return await self.plugin.ctx.effects.run_once(f"{self.job_id}/{step}", fn)

    async def mine(self) -> dict[str, PostedComment]:
        """The agent's comments on the pull request by marker (read once per review)."""
        if self._mine is None:
            agent = await self.plugin.agent()
            found = await self.client.comments(self.event.repo, self.event.pr_id)
            self._mine = {
                tag: c for c in found
                if (tag := marker_of(c.text)) and _by(c.author, agent)
            }  # fmt: skip
        return self._mine

    async def _post(self, tag: str, text: str, inline: Inline | None) -> int:
        existing = (await self.mine()).get(tag)
        if existing is not None:
            return existing.id  # posted before an ambiguous failure, or by a replay
        made = await self.client.add_comment(self.event.repo, self.event.pr_id, text, inline=inline)
        return made.id

    async def comments(self, ledger: Ledger, composed: Composed) -> Ledger:
        """Post, resolve and reopen inline comments, then write the summary; the new ledger."""
        dc = self.event.flavour == "dc"
        suggestions = self.plugin.config.suggestion_blocks
        for f in composed.plan.post:
            text = inline_comment(f, suggestions=suggestions)
            where = Inline(path=f.path, line=f.line)
            post = partial(self._post, f.fingerprint, text, where)
            cid = await self._once(f"post/{f.fingerprint}", post)
            ledger = ledger.posted(f, int(cid), self.head)
            await save_ledger(self.plugin, ledger)
        for e in composed.plan.resolve:
            reply = fixed_reply(self.head) if dc else None
            if e.comment_id is not None:
                done = partial(self._resolve, e.comment_id, reply)
                await self._once(f"resolve/{e.fingerprint}", done)
            ledger = ledger.resolved(e.fingerprint, self.head)
            await save_ledger(self.plugin, ledger)
        for e in composed.plan.reopen:
            reply = reopened_reply(self.head) if dc else None
            if e.comment_id is not None:
                again = partial(self._reopen, e.comment_id, reply)
                await self._once(f"reopen/{e.fingerprint}", again)
            ledger = ledger.reopened(e.fingerprint)
        ledger = record_pending(ledger, composed.plan.over_cap, self.head)
        ledger = forget(ledger, composed.plan.forget)
        summary_id = await self._once("summary", lambda: self._summary(ledger, composed))
        ledger = ledger.model_copy(update={"summary_comment_id": int(summary_id)})
        await save_ledger(self.plugin, ledger)
        return ledger

    async def _resolve(self, comment_id: int, reply: str | None) -> bool:
        await self.client.resolve_comment(self.event.repo, self.event.pr_id, comment_id, reply)
        return True

    async def _reopen(self, comment_id: int, reply: str | None) -> bool:
        await self.client.reopen_comment(self.event.repo, self.event.pr_id, comment_id, reply)
        return True

    async def _summary(self, ledger: Ledger, composed: Composed) -> int:
        text = summary_comment(composed.summary)
        cid = ledger.summary_comment_id
        if cid is None:
            found = (await self.mine()).get(SUMMARY_MARKER)
            cid = found.id if found else None
        if cid is None:
            return await self._post(SUMMARY_MARKER, text, None)
        await self.client.edit_comment(self.event.repo, self.event.pr_id, cid, text)
        return cid

    async def report(self, composed: Composed) -> None:
        """The Code Insights report and its annotations on the head commit (upserts)."""

        async def put() -> bool:
            await self.client.put_report(self.event.repo, self.head, composed.report)
            return True

        await self._once("insights", put)


def _by(author: Actor, agent: Actor | None) -> bool:
    return agent is None or author.id == agent.id or author.name == agent.name
