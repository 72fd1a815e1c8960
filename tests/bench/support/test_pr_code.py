"""The Bitbucket benchmark's generated pull request and its LLM endpoint's answers."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.support.pr_code import SLOTS, PullRequestCode, llm_findings
from plugins.bitbucket.answer import LlmReview
from plugins.bitbucket.chunks import plan_chunks


def test_the_pull_request_is_deterministic_and_about_the_size_asked() -> None:
    code = PullRequestCode(lines=1000, files=6)
    assert code.head(set()) == PullRequestCode(lines=1000, files=6).head(set())
    assert 950 <= code.added_lines() <= 1100
    assert len(code.slots()) == 12 and {s.kind for s in code.slots()} == set(SLOTS)
    for path, text in code.main().items():
        if path.endswith(".py") and path != "shop/__init__.py":
            assert code.head(set())[path].startswith(text)  # the pull request appends


def test_a_slot_toggles_one_line_in_place_and_a_revision_changes_lines_in_place() -> None:
    code = PullRequestCode(lines=600, files=3)
    slots = code.slots()
    safe, bad = code.head(set()), code.head(set(slots))
    for slot in slots:
        _, vulnerable, fixed = SLOTS[slot.kind]
        assert bad[slot.path].splitlines()[slot.line - 1] == vulnerable
        assert safe[slot.path].splitlines()[slot.line - 1] == fixed
    later = code.head(set(slots), revision=3)
    for path, text in bad.items():
        assert text.count("\n") == later[path].count("\n")  # no line moves
    assert any(bad[p] != later[p] for p in bad)


def _git(cwd: Path, *args: str) -> str:
    ident = ["-c", "user.name=A", "-c", "user.email=a@example.com"]
    done = subprocess.run(["git", *ident, *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_the_llm_answer_names_added_lines_of_the_chunk_the_agent_sends(tmp_path: Path) -> None:
    code = PullRequestCode(lines=600, files=3)
    _git(tmp_path, "init", "-q", "-b", "main")
    _write(tmp_path, code.main())
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "main")
    head = code.head(set(code.slots()[:2]))
    _write(tmp_path, head)
    diff = _git(tmp_path, "diff")
    plan = plan_chunks(diff, chunk_tokens=12000, total_tokens=60000)
    found = [f for chunk in plan.chunks for f in llm_findings(chunk.text)]
    wanted = {
        (path, n)
        for path, text in head.items()
        for n, line in enumerate(text.splitlines(), 1)
        if "except Exception:" in line
    }
    assert {(f["path"], f["line"]) for f in found} == wanted and len(wanted) == 2
    answer = LlmReview.model_validate({"findings": found})  # what the agent validates
    for f in answer.findings:
        assert plan.files[f.path].added[f.line].strip() == "except Exception:"
