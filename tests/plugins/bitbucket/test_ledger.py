"""The ledger: new → post (capped, ranked), gone → resolve, back → reopen, kept → nothing."""

from __future__ import annotations

from plugins.bitbucket.findings import Severity
from plugins.bitbucket.ledger import Ledger, Scope, forget, plan, record_pending
from tests.plugins.bitbucket.findings_data import finding

A, B, C = finding(line=1), finding(line=2, severity="medium"), finding(line=3, severity="low")


def _posted(ledger: Ledger, *found: object, commit: str = "c1") -> Ledger:
    for number, f in enumerate(found, start=100):
        ledger = ledger.posted(f, number, commit)  # type: ignore[arg-type]
    return ledger


def test_first_review_posts_everything_ranked_up_to_the_cap() -> None:
    first = plan(Ledger(key="k"), [C, A, B], Scope(), cap=2)
    assert first.post == [A, B] and first.over_cap == [C] and not first.resolve


def test_push_posts_only_new_and_resolves_fixed() -> None:
    ledger = _posted(Ledger(key="k"), A, B)
    D = finding(line=4)
    second = plan(ledger, [A, D], Scope(), cap=10)
    assert second.post == [D]
    assert [e.fingerprint for e in second.resolve] == [B.fingerprint]
    assert [e.fingerprint for e in second.unchanged] == [A.fingerprint]
    ledger = ledger.resolved(B.fingerprint, "c2")
    assert ledger.entries[B.fingerprint].status == "resolved"
    assert ledger.open_counts()[Severity.MEDIUM] == 0 and ledger.open_counts()[Severity.HIGH] == 1
    # the same findings again: nothing to do at all (a replayed webhook posts nothing twice)
    again = plan(ledger.posted(D, 200, "c2"), [A, D], Scope(), cap=10)
    assert not again.post and not again.resolve and not again.reopen


def test_a_fixed_finding_that_comes_back_reopens_its_comment() -> None:
    ledger = _posted(Ledger(key="k"), A).resolved(A.fingerprint, "c2")
    back = plan(ledger, [A], Scope(), cap=10)
    assert not back.post and [e.comment_id for e in back.reopen] == [100]
    assert ledger.reopened(A.fingerprint).entries[A.fingerprint].status == "open"


def test_findings_outside_the_scope_are_not_resolved() -> None:
    llm = finding(path="big.py", line=7, source="llm", rule="llm/bug", fp="l" * 32)
    ledger = _posted(Ledger(key="k"), A, llm)
    no_llm = plan(ledger, [A], Scope(sources=frozenset({"analyzer"})), cap=10)
    assert not no_llm.resolve  # the LLM did not run: its findings are not "fixed"
    over_budget = Scope(sources=frozenset({"analyzer", "llm"}), not_reviewed=frozenset({"big.py"}))
    assert not plan(ledger, [A], over_budget, cap=10).resolve
    failed = Scope(failed_paths=frozenset({"app.py"}))
    assert not plan(ledger, [], failed, cap=10).resolve
    assert (
        len(plan(ledger, [A], Scope(sources=frozenset({"analyzer", "llm"})), cap=10).resolve) == 1
    )


def test_entries_kept_under_an_earlier_fingerprint_move_to_the_current_one() -> None:
    # a ledger written when the engine's fingerprints named the tool (dcoderFindingHash/v1)
    ledger = _posted(Ledger(key="k"), A, B).resolved(B.fingerprint, "c1")
    now_a = A.model_copy(update={"fingerprint": "2" * 32, "earlier_fingerprints": (A.fingerprint,)})
    now_b = B.model_copy(update={"fingerprint": "3" * 32, "earlier_fingerprints": (B.fingerprint,)})
    moved = ledger.rekeyed([now_a, now_b, C])
    assert set(moved.entries) == {"2" * 32, "3" * 32}
    assert moved.entries["2" * 32].comment_id == 100 and moved.entries["2" * 32].status == "open"
    assert moved.entries["3" * 32].fingerprint == "3" * 32
    assert moved.entries["3" * 32].status == "resolved"
    # neither posted again nor called fixed; the resolved one that came back reopens its comment
    after = plan(moved, [now_a, now_b], Scope(), cap=10)
    assert not after.post and not after.resolve
    assert [e.comment_id for e in after.unchanged] == [100]
    assert [e.comment_id for e in after.reopen] == [101]
    # an entry already under the current fingerprint stays, even if an earlier one also matches
    assert (
        ledger.rekeyed([A.model_copy(update={"earlier_fingerprints": (B.fingerprint,)})]) == ledger
    )


def test_over_cap_findings_wait_and_are_posted_later_or_forgotten() -> None:
    ledger = record_pending(Ledger(key="k"), [C], "c1")
    assert ledger.entries[C.fingerprint].status == "pending"
    later = plan(ledger, [C], Scope(), cap=5)
    assert later.post == [C]
    gone = plan(ledger, [], Scope(), cap=5)
    assert not gone.resolve and [e.fingerprint for e in gone.forget] == [C.fingerprint]
    assert forget(ledger, gone.forget).entries == {}


def test_ledger_round_trips_through_the_store_json() -> None:
    ledger = _posted(Ledger(key="k", summary_comment_id=9, last_head="c1"), A).resolved(
        A.fingerprint, "c2"
    )
    assert Ledger.model_validate(ledger.model_dump(mode="json")) == ledger
