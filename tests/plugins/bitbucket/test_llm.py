"""The LLM review with scripted replies: fenced, repaired, retried once, given up; thresholds."""

from __future__ import annotations

import json
from typing import Any

from plugin_sdk.memory import ScriptedLlm
from plugins.bitbucket.chunks import plan_chunks
from plugins.bitbucket.llm import review_diff, review_prompt
from tests.plugins.bitbucket.test_chunks import DIFF

VALUES = {"title": "Run the job", "target_branch": "main", "instructions": "Flag env reads."}


def _answer(*findings: dict[str, Any]) -> str:
    return json.dumps({"findings": list(findings)})


def _f(**changes: Any) -> dict[str, Any]:
    return {
        "path": "app.py",
        "line": 4,
        "severity": "medium",
        "category": "error-handling",
        "confidence": 0.9,
        "message": "KeyError when X is unset",
        "fix_hint": "Use os.environ.get with a default.",
        "suggestion": '    run(os.environ.get("X", ""))',
    } | changes


def _plan() -> Any:
    return plan_chunks(DIFF, chunk_tokens=1000, total_tokens=5000)


async def test_prompt_carries_schema_instructions_and_numbered_diff() -> None:
    llm = ScriptedLlm([_answer(_f())])
    result = await review_diff(llm, _plan(), VALUES)
    system, user = llm.prompts[0]
    assert '"findings"' in system["content"] and "Flag env reads." in user["content"]
    assert "    4 + " in user["content"] and result.label == "bitbucket-review@v1"
    (found,) = result.findings
    assert (found.rule, found.line, found.confidence) == ("llm/error-handling", 4, 0.9)
    assert found.suggestion == '    run(os.environ.get("X", ""))' and result.usable


async def test_fenced_answer_with_prose_is_repaired_locally() -> None:
    llm = ScriptedLlm(["Sure! Here it is:\n```json\n" + _answer(_f()) + "\n```\nHope it helps."])
    result = await review_diff(llm, _plan(), VALUES)
    assert len(result.findings) == 1 and len(llm.prompts) == 1


async def test_unusable_answer_is_retried_once_with_the_reason() -> None:
    llm = ScriptedLlm(['{"findings": [{"path": "app.py", "line": 4', _answer(_f())])
    result = await review_diff(llm, _plan(), VALUES)
    assert len(result.findings) == 1
    retry = llm.prompts[1][-1]["content"]
    assert "That answer was not usable: the JSON object is incomplete (cut off)" in retry


async def test_twice_unusable_lists_the_files_as_not_reviewed() -> None:
    llm = ScriptedLlm(["failed to parse AI prediction", '{"findings": "none"}'])
    result = await review_diff(llm, _plan(), VALUES)
    assert not result.findings and not result.usable
    why = dict(result.not_reviewed)["app.py"]
    assert why.startswith("not reviewed by the LLM: the LLM's answer was unusable twice")
    assert "findings" in why and result.note is not None


async def test_confidence_threshold_and_changed_lines_only() -> None:
    llm = ScriptedLlm(
        [
            _answer(
                _f(confidence=0.4),
                _f(line=3, message="context line"),
                _f(path="other.py"),
                _f(line=2, end_line=4, severity="high", category="bug", confidence=0.7),
            )
        ]
    )
    result = await review_diff(llm, _plan(), VALUES, min_confidence=0.6)
    assert dict(result.dropped) == {
        "below the confidence threshold": 1,
        "not on an added line": 1,
        "names a file outside the chunk": 1,
    }
    (kept,) = result.findings
    # line 3 is a context line: a suggestion over 2..4 would rewrite it, so it is dropped
    assert kept.line == 2 and kept.end_line == 4 and kept.suggestion is None


async def test_fingerprints_are_stable_when_lines_move() -> None:
    first = await review_diff(ScriptedLlm([_answer(_f())]), _plan(), VALUES)
    moved = DIFF.replace("@@ -1,3 +1,4 @@\n import os\n", "@@ -1,3 +11,4 @@\n import os\n")
    plan = plan_chunks(moved, chunk_tokens=1000, total_tokens=5000)
    second = await review_diff(ScriptedLlm([_answer(_f(line=14))]), plan, VALUES)
    assert first.findings[0].fingerprint == second.findings[0].fingerprint


def test_prompt_file_is_versioned() -> None:
    prompt = review_prompt()
    assert (prompt.name, prompt.version, prompt.answer_model) == (
        "bitbucket-review",
        1,
        "plugins.bitbucket.answer.LlmReview",
    )
