"""Story-point estimator on the shared development set: test MAE against constant baselines.

Per project the model is fitted on train+val (setting chosen on val), the constant median and
mean on the same history; all are scored on the test split. The README's reference column (median
of the train split only) is recomputed here too, and the backtest that designs are chosen on
(three windows before the test split). Then one fit on all 10.5k stories together, in a child
process so that its peak memory is its own, with the size and load time of its bytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import numpy as np

from core.estimation import chronological_split, read_history_csv
from core.estimation.evaluation import (
    BACKTEST_ORIGINS,
    BacktestResult,
    backtest_project,
    evaluate_directory,
    markdown_table,
    summary,
)
from core.paths import PROJECT_ROOT

TITLE = "Story-point estimator: MAE against the median, fit time and memory"
DATA_DIR = PROJECT_ROOT.parent / "shared" / "datasets" / "storypoints"

_BIG_FIT = """
import json, resource, sys, time
from pathlib import Path
from core.estimation import FitConfig, dumps, fit_model, loads, read_history_csv
stories = []
for path in sorted(Path(sys.argv[1]).glob("*.csv")):
    stories += read_history_csv(path)[0]
workers = None if sys.argv[2] == "default" else int(sys.argv[2])
started, cpu = time.perf_counter(), time.process_time()
model = fit_model(stories, FitConfig(workers=workers))
fit_s, fit_cpu_s = time.perf_counter() - started, time.process_time() - cpu
helpers = resource.getrusage(resource.RUSAGE_CHILDREN)
data = dumps(model)
started = time.perf_counter()
restored = loads(data)
load_s = time.perf_counter() - started
started = time.perf_counter()
restored.estimate("Add a retry option to the deploy step", "Deploys fail on timeouts.")
estimate_s = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"n": len(stories), "fit_s": fit_s, "bytes": len(data),
                  "fit_cpu_s": fit_cpu_s + helpers.ru_utime + helpers.ru_stime,
                  "load_s": load_s, "estimate_s": estimate_s, "peak_mib": peak,
                  "helper_peak_mib": helpers.ru_maxrss / 1024,
                  "model": model.candidate.describe()}))
"""

# Character n-grams of the whole development set, scikit-learn's analyser against ours.
_CHAR_COUNT = """
import json, sys, time
from pathlib import Path
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from core.estimation import read_history_csv
from core.estimation.char_ngrams import count_char_wb
from core.estimation.text import CHAR_MAX_FEATURES, _heads, story_text
stories = []
for path in sorted(Path(sys.argv[1]).glob("*.csv")):
    stories += read_history_csv(path)[0]
docs = _heads([story_text(s.title, s.description) for s in stories])
started = time.perf_counter()
reference = CountVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2,
                            max_features=CHAR_MAX_FEATURES, dtype=np.float32)
expected = reference.fit_transform(docs)
sklearn_s = time.perf_counter() - started
started = time.perf_counter()
terms, counts = count_char_wb(docs, (3, 5), 2, CHAR_MAX_FEATURES)
numpy_s = time.perf_counter() - started
vocabulary = reference.vocabulary_
same = terms == sorted(vocabulary, key=vocabulary.__getitem__) and (counts != expected).nnz == 0
print(json.dumps({"sklearn_s": sklearn_s, "numpy_s": numpy_s, "same": bool(same),
                  "chars": sum(map(len, docs))}))
"""


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _train_median_mae() -> dict[str, float]:
    """Test MAE of the median of the train split alone (the README's reference column)."""
    out = {}
    for path in sorted(DATA_DIR.glob("*.csv")):
        split = chronological_split(*read_history_csv(path))
        median = np.median([s.points for s in split.train])
        out[path.stem] = float(np.mean([abs(s.points - median) for s in split.test]))
    return out


def _cell(result: BacktestResult) -> str:
    mae = f"**{result.mae:.3f}**" if result.beats_median else f"{result.mae:.3f}"
    return f"{mae} / {result.median_mae:.3f}"


def _backtest() -> str:
    """Whole pipeline on three windows before the test split (no test row read)."""
    rows, everything = [], []
    for path in sorted(DATA_DIR.glob("*.csv")):
        results = backtest_project(path)
        everything += results
        cells = " | ".join(_cell(r) for r in results)
        chosen = ", ".join(r.model for r in results)
        rows.append(f"| {path.stem} | {cells} | {chosen} |")
    wins = sum(r.beats_median for r in everything)
    relative = np.mean([r.mae / r.median_mae for r in everything])
    means = " | ".join(
        f"{np.mean([r.mae for r in everything if r.origin == o]):.3f} / "
        f"{np.mean([r.median_mae for r in everything if r.origin == o]):.3f}"
        for o in BACKTEST_ORIGINS
    )
    head = (
        "| project | 40 → 60 % | 50 → 70 % | 60 → 80 % (train → val) | chosen on each history's "
        "newest 25 % |\n|---|---|---|---|---|"
    )
    tail = (
        f"| **mean** | {means} | |\n\nModel / median MAE; bold: lower than the median. The "
        f"model beats the median on {wins} of {len(everything)} windows; its MAE is on average "
        f"{relative:.1%} of the median's."
    )
    return "\n".join([head, *rows, tail])


def _child(script: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", script, str(DATA_DIR), *args],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1200, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _big_fits() -> str:
    """One fit on all stories in one process, then with the default helper, each in a child."""
    rows, last = [], {}
    for label, workers in (("one process (`workers=1`), baseline", "1"), ("default", "default")):
        last = _child(_BIG_FIT, workers)
        helper = f"{last['helper_peak_mib']:.0f}" if last["helper_peak_mib"] else "-"
        rows.append(
            f"| {label} | {last['fit_s']:.1f} | {last['fit_cpu_s']:.1f} | "
            f"{last['peak_mib']:.0f} | {helper} |"
        )
    counting = _child(_CHAR_COUNT)
    same = "the same vocabulary and counts" if counting["same"] else "**different output**"
    table = "\n".join(rows)
    return f"""One fit on all {last["n"]} stories together, each in a child process (peak
memory: the whole process, Python and libraries included; the helper is a process of its own;
CPU counts both):

| fit | wall s | CPU s | peak MiB | helper peak MiB |
|---|---:|---:|---:|---:|
{table}

Model bytes {int(last["bytes"]) / 2**20:.1f} MiB, load {1000 * float(last["load_s"]):.0f} ms,
one estimate {1000 * float(last["estimate_s"]):.0f} ms; chosen setting {last["model"]}.
Character n-grams of the {counting["chars"]:,} characters read: scikit-learn's analyser
{counting["sklearn_s"]:.1f} s, the numpy counter {counting["numpy_s"]:.1f} s ({same})."""


def run() -> str:
    """Evaluate on every project, then time one big fit."""
    started = time.perf_counter()
    results = evaluate_directory(DATA_DIR, progress=_progress)
    eval_s = time.perf_counter() - started
    report = summary(results)
    reference = _train_median_mae()
    fits = "\n".join(
        f"| {r.project} | {r.fit_s:.1f} | {reference[r.project]:.3f} |" for r in results
    )
    backtest = _backtest()
    big = _big_fits()
    return f"""
Data: `{DATA_DIR.relative_to(PROJECT_ROOT.parent)}` (7 projects). Model: ordinal logistic
regressions (an ensemble over C and recency weighting) on word + char TF-IDF, blended with the
history's own distribution. Per project the validation split may move the blend weight away from
0.25 (only on a > 2 % win) or, if the text model is > 20 % worse there, fall back to the median.
See docs/estimation.md.

{markdown_table(results, report)}

Whole evaluation: {eval_s:.0f} s. Fit time per project (selection on val + refit on train+val),
and the README's reference baseline (median of the train split alone, test MAE):

| project | fit s | train-only median MAE |
|---|---|---|
{fits}

The check designs are chosen on (it reads no test row): the whole pipeline fitted on the stories
before a point of each file (its own newest 25 % choosing the setting) and scored on the next 20 %
of the file against the median of the same history; the last window is train -> val:

{backtest}

{big}
"""
