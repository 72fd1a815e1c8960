"""Diff chunking within a token budget: numbered lines, hunks split, nothing silently cut."""

from __future__ import annotations

from plugins.bitbucket.chunks import parse_files, plan_chunks

DIFF = """diff --git a/app.py b/app.py
index 1..2 100644
--- a/app.py
+++ b/app.py
@@ -1,3 +1,4 @@
 import os
+import sqlite3
 def main():
-    pass
+    run(os.environ["X"])
diff --git a/img.png b/img.png
Binary files a/img.png and b/img.png differ
diff --git a/gone.py b/gone.py
deleted file mode 100644
--- a/gone.py
+++ /dev/null
@@ -1 +0,0 @@
-x = 1
diff --git a/docs/x.md b/docs/x.md
--- a/docs/x.md
+++ b/docs/x.md
@@ -0,0 +1 @@
+hello
"""


def test_parse_numbers_added_lines() -> None:
    files = {f.path: f for f in parse_files(DIFF)}
    app = files["app.py"]
    assert app.added == {2: "import sqlite3", 4: '    run(os.environ["X"])'}
    assert "    2 + import sqlite3" in app.hunks[0] and "      -     pass" in app.hunks[0]
    assert files["img.png"].binary and files["gone.py"].deleted


def test_plan_lists_every_file_left_out_with_why() -> None:
    plan = plan_chunks(DIFF, chunk_tokens=1000, total_tokens=5000, ignore=["docs/"])
    assert [c.files for c in plan.chunks] == [["app.py"]]
    assert dict(plan.not_reviewed) == {
        "img.png": "binary file",
        "docs/x.md": "ignored by the review settings",
    }


def _big_diff(files: int, hunks: int, lines: int) -> str:
    out = []
    for f in range(files):
        out += [f"diff --git a/f{f}.py b/f{f}.py", f"--- a/f{f}.py", f"+++ b/f{f}.py"]
        for h in range(hunks):
            out.append(f"@@ -{h * 100 + 1},0 +{h * 100 + 1},{lines} @@")
            out += [f"+value_{f}_{h}_{n} = compute({n})  # some code" for n in range(lines)]
    return "\n".join(out) + "\n"


def test_big_files_are_split_between_hunks_and_budget_overflow_is_listed() -> None:
    diff = _big_diff(files=3, hunks=4, lines=20)  # each hunk ~250 tokens, each file ~1000
    plan = plan_chunks(diff, chunk_tokens=600, total_tokens=2100)
    assert all(c.tokens <= 600 for c in plan.chunks)
    reviewed = {p for c in plan.chunks for p in c.files}
    assert reviewed == {"f0.py", "f1.py"}
    assert plan.not_reviewed == [
        ("f2.py", "not reviewed by the LLM: the review's 2100 tokens were used up")
    ]
    assert sum(c.text.count(" + value_") for c in plan.chunks) == 2 * 4 * 20  # nothing cut


def test_a_hunk_larger_than_one_call_is_not_reviewed_and_says_so() -> None:
    plan = plan_chunks(_big_diff(files=1, hunks=1, lines=200), chunk_tokens=500, total_tokens=10**6)
    assert not plan.chunks
    path, why = plan.not_reviewed[0]
    assert path == "f0.py" and "larger than one call's budget of 500" in why
