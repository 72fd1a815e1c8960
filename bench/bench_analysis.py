"""Analysis engine: time of a 1,000-line diff and of a 50k-line tree; rule precision/recall.

The trees are generated deterministically (fixed seed) into ``bench/.work/analysis``: 100 Python
modules of 500 lines (Flask views, SQL helpers, subprocess calls, mostly safe, some vulnerable),
then a commit that adds 100 lines to each of 10 modules. Timings run the real analyzers in the
bwrap sandbox. The baselines are the naive ways: the whole tree for one diff, and the three
analyzers one after the other.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import time
from pathlib import Path

from core.paths import PROJECT_ROOT
from core.settings import SandboxSettings
from sandbox.analysis import AnalysisOptions, AnalysisReport, Tool, analyze, catalog, corpus
from sandbox.analysis import realistic as realistic_corpus
from sandbox.analysis.engine import collect
from sandbox.backends.base import Limits
from sandbox.backends.select import build

TITLE = "Code analysis: diff and tree timings, rule precision/recall"
WORK = PROJECT_ROOT / "bench" / ".work" / "analysis"
CORPUS = PROJECT_ROOT / "tests" / "corpus"
REALISTIC = PROJECT_ROOT / "tests" / "corpus-realistic"
MODULES, LINES_PER_MODULE, CHANGED_MODULES, ADDED_LINES = 100, 500, 10, 100

_HEADER = "import os\nimport sqlite3\nimport subprocess\n\nfrom flask import Flask, request\n\n"
_HEADER += 'app = Flask(__name__)\ndb = sqlite3.connect("app.db")\n'
_BLOCKS = [  # each block is 10 lines; {n} makes names unique
    '\n\n@app.route("/items/{n}")\ndef items_{n}():\n    key = request.args.get("k", "")\n'
    '    cur = db.cursor()\n    cur.execute("SELECT v FROM t WHERE k = ?", (key,))\n'
    "    rows = cur.fetchall()\n    return {{'rows': rows}}\n\n",
    "\n\ndef total_{n}(values):\n    result = 0\n    for value in values:\n"
    "        if value > {n}:\n            result += value\n        else:\n"
    "            result -= 1\n    return result\n",
    '\n\ndef archive_{n}(name):\n    target = os.path.join("/srv", os.path.basename(name))\n'
    '    subprocess.run(["tar", "czf", target + ".tgz", target], check=True)\n'
    "    size = os.path.getsize(target)\n    if size > {n}:\n        return size\n"
    "    return 0\n\n",
    '\n\n@app.route("/find/{n}")\ndef find_{n}():\n    term = request.args["q"]\n'
    "    cur = db.cursor()\n"
    '    cur.execute("SELECT id FROM t WHERE name = \'" + term + "\'")\n'
    "    found = cur.fetchall()\n    return {{'found': found}}\n\n",
]


def _module(rng: random.Random, lines: int, offset: int) -> str:
    text = _HEADER
    n = offset
    while text.count("\n") + 10 <= lines:
        # one block in twenty is the vulnerable one: a realistic, sparse finding density
        block = _BLOCKS[3] if rng.random() < 0.05 else _BLOCKS[rng.randrange(3)]
        text += block.format(n=n)
        n += 1
    return text + "\n" * (lines - text.count("\n"))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=b@example.com", *args],
        check=True,
        capture_output=True,
    )


def generate(root: Path = WORK) -> Path:
    """The benchmark repository: a base commit of 50k lines on main and a 1,000-line change."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rng = random.Random(7)  # noqa: S311 - deterministic test data, not a secret
    for index in range(MODULES):
        path = root / f"pkg{index // 20}" / f"mod{index}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(_module(rng, LINES_PER_MODULE, index * 100))
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    _git(root, "checkout", "-q", "-b", "change")
    for index in range(0, MODULES, MODULES // CHANGED_MODULES):
        path = root / f"pkg{index // 20}" / f"mod{index}.py"
        path.write_text(
            path.read_text() + _module(rng, ADDED_LINES, 90_000 + index * 100)[len(_HEADER) :]
        )
    _git(root, "commit", "-q", "-am", "change")
    return root


def _timed(repo: Path, base: str | None, options: AnalysisOptions) -> tuple[float, AnalysisReport]:
    backend = build("bwrap", SandboxSettings())
    limits = Limits(wall_timeout_s=600, memory_mb=4096, pids=512)
    started = time.perf_counter()
    report = analyze(repo, base=base, backend=backend, limits=limits, options=options)
    return time.perf_counter() - started, report


def planted(repo: Path, diff_only: bool) -> int:
    """Vulnerable blocks in the tree (or in the lines the change added)."""
    numbers = [
        int(match)
        for path in repo.rglob("*.py")
        for match in re.findall(r"def find_(\d+)", path.read_text())
    ]
    return sum(1 for n in numbers if n >= 90_000 or not diff_only)


def _row(name: str, seconds: float, report: AnalysisReport, expected: int) -> str:
    runs = ", ".join(f"{r.tool.value} {r.duration_s:.1f}" for r in report.runs if not r.skipped)
    files = len(report.changed_files) if report.changed_files is not None else MODULES
    state = "" if report.complete else " (incomplete)"
    found = f"{len(report.findings)} / {expected}"
    return f"| {name} | {files} | {seconds:.1f}{state} | {runs} | {found} |"


def timings(repo: Path) -> str:
    """Markdown table: engine vs baselines on the generated repository."""
    fast = AnalysisOptions(jobs=2)
    sequential = AnalysisOptions(jobs=2, parallel=False)
    in_diff, in_tree = planted(repo, diff_only=True), planted(repo, diff_only=False)
    rows = [
        _row("1,000-line diff (base given, parallel)", *_timed(repo, "main", fast), in_diff),
        _row("baseline: same diff, tools in sequence", *_timed(repo, "main", sequential), in_diff),
        _row("baseline: same head, whole tree", *_timed(repo, None, fast), in_tree),
        _row("50k-line tree, tools in sequence", *_timed(repo, None, sequential), in_tree),
    ]
    return "\n".join(
        [
            "| scenario | files | wall s | per tool s | findings / planted |",
            "| --- | ---: | ---: | --- | ---: |",
            *rows,
        ]
    )


def _rule_row(rule_id: str, cwe: str, s: corpus.Score) -> str:
    counts = f"{s.tp} | {s.fp} | {s.fn} | {s.ok_samples}"
    return f"| {rule_id} | {cwe} | {counts} | {s.precision:.2f} | {s.recall:.2f} |"


def quality() -> str:
    """Markdown tables: precision and recall of every semgrep rule and CWE on the corpus."""
    backend = build("bwrap", SandboxSettings())
    limits = Limits(wall_timeout_s=300, memory_mb=2048, pids=256)
    findings, runs = collect(CORPUS, [], backend, limits, AnalysisOptions(tools=(Tool.SEMGREP,)))
    if not runs[0].ok:
        return f"semgrep failed on the corpus: {runs[0].error}"
    rules = catalog.semgrep_rules()
    scores = corpus.score(corpus.read_annotations(CORPUS), findings)
    lines = [
        "| rule | CWE | TP | FP | FN | ok samples | precision | recall |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for rule_id in sorted(rules):
        cwes = ", ".join(f"CWE-{c}" for c in rules[rule_id].cwe)
        lines.append(_rule_row(rule_id, cwes, scores.get(rule_id, corpus.Score())))
    lines += [
        "",
        "| CWE | rules | TP | FP | FN | ok samples | precision | recall |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cwe, total in corpus.by_cwe(scores, rules).items():
        count = sum(cwe in rule.cwe for rule in rules.values())
        lines.append(_rule_row(f"CWE-{cwe}", str(count), total))
    return "\n".join(lines)


def _family_table(scores: dict[str, realistic_corpus.FamilyScore], cases: int) -> list[str]:
    lines = [
        "| weakness | vulnerable | safe | found | false alarms | TPR | FPR | TPR − FPR |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in scores.items():
        counts = f"{s.vulnerable} | {s.safe} | {s.found} | {s.false_alarms}"
        lines.append(f"| {name} | {counts} | {s.tpr:.2f} | {s.fpr:.2f} | {s.score:.2f} |")
    mean = realistic_corpus.mean_score(scores)
    lines.append(f"| **mean** | {cases} cases | | | | | | **{mean:.2f}** |")
    misses = [p for s in scores.values() for p in s.misses]
    alarms = [p for s in scores.values() for p in s.alarms]
    lines += [
        "",
        f"Missed: {', '.join(misses) or 'none'}. False alarms: {', '.join(alarms) or 'none'}.",
    ]
    return lines


def realistic(tools: tuple[Tool, ...] = AnalysisOptions().tools) -> str:
    """Markdown tables: TPR, FPR and TPR - FPR per weakness on tests/corpus-realistic.

    One analysis of the whole directory (every analyzer, after de-duplication, as a review sees
    it), scored separately on the development cases and on the hold-out cases.
    """
    backend = build("bwrap", SandboxSettings())
    limits = Limits(wall_timeout_s=300, memory_mb=2048, pids=256)
    started = time.perf_counter()
    report = analyze(
        REALISTIC, backend=backend, limits=limits, options=AnalysisOptions(tools=tools)
    )
    seconds = time.perf_counter() - started
    if not report.complete:
        failed = "; ".join(f"{r.tool.value}: {r.error}" for r in report.runs if not r.ok)
        return f"the analysis of the realistic corpus failed: {failed}"
    lines = [
        f"Tools: {', '.join(t.value for t in tools)}; whole corpus analysed in {seconds:.1f} s."
    ]
    for title, root, exclude in (
        ("Development cases (written before the rules changed; the dataflow pass was then "
         "developed against them)", REALISTIC, ("holdout", "holdout2", "holdout3")),
        ("Hold-out cases (written after the pass; scored 0.86 the first time: XXE options built "
         "with dict(...), session.update, a class-based view and a dataclass were missed and "
         "have been fixed since)",
         REALISTIC / "holdout", ()),
        ("Second hold-out (written at the end; scored 0.57 the first time by the whole engine: "
         "jinja2 Environment.from_string and a classmethod were missed; false alarms on a "
         "validator function, a frozenset() allow-list, membership in rows of the database, "
         "an MD5 for Gravatar; fixed since)",
         REALISTIC / "holdout2", ()),
        ("Third hold-out (written last, never used to change the engine: the standing estimate; "
         "0.86 when first scored)", REALISTIC / "holdout3", ()),
    ):  # fmt: skip
        cases = realistic_corpus.read_cases(root, exclude)
        prefix = root.relative_to(REALISTIC).as_posix()
        found = [
            f.model_copy(update={"path": f.path.removeprefix(prefix + "/")})
            for f in report.findings
            if prefix == "." or f.path.startswith(prefix + "/")
        ]
        scores = realistic_corpus.score(cases, found)
        lines += ["", f"**{title}**", "", *_family_table(scores, len(cases))]
    return "\n".join(lines)


def run() -> str:
    """Both parts of the benchmark as Markdown."""
    repo = generate()
    return "\n\n".join(
        [
            "### Timings (bwrap sandbox, semgrep -j 2)",
            timings(repo),
            "### Rule quality on tests/corpus (our own samples: the rules were written against "
            "them, so this measures regressions, not real-world precision)",
            quality(),
            "### Realistic corpus (tests/corpus-realistic: Flask/Django cases the rules were not "
            "written against; every analyzer, after de-duplication)",
            realistic(),
            "Baseline: the same corpus without the dataflow pass (semgrep, ruff, bandit as before "
            "issue 18)",
            realistic((Tool.SEMGREP, Tool.RUFF, Tool.BANDIT)),
        ]
    )
