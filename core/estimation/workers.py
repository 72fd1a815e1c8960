"""Logistic fits on several cores, with the same results as one after another.

liblinear (through scikit-learn) releases the GIL, but its random generator is process-global:
two fits in threads of one process would draw from it in turn and change each other's results.
So each extra core gets a helper *process* that runs one fit at a time, as this process does;
a fit seeds the generator itself, so where it runs does not change a single bit of its result.

The helper is started when fitting begins (its imports overlap the text featurisation), reads
each feature matrix once from a temporary ``.npz`` file and answers fit requests over a pipe. If
it cannot start, dies or hangs, its share of the fits runs here: slower, never different. Its
entry point is ``serve()``, started only by this module.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

Coefficients = tuple[np.ndarray, float]
# How long a helper may still be busy once this process has run out of fits.
HELPER_GRACE_S = 60.0
HELPER_GRACE_FITS = 20


class FitTask(NamedTuple):
    """One binary logistic fit: labels (0/1), sample weights and the inverse regularisation."""

    below: np.ndarray
    weights: np.ndarray
    c: float


def fit_threshold(features: sparse.csr_matrix, task: FitTask) -> Coefficients:
    """Coefficients (float32) and intercept of one fit; ``features`` must be float64."""
    # The dual solver is several times faster here: far more features than stories. tol 1e-2
    # instead of 1e-3 fits a 10k history about a fifth faster; of the 21 backtest windows one
    # moved, by 0.003 MAE (docs/estimation.md).
    model = LogisticRegression(
        C=task.c, solver="liblinear", dual=True, tol=1e-2, max_iter=500, random_state=0
    )
    model.fit(features, task.below, sample_weight=task.weights)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def available_cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class _Helper:
    """One helper process and the pipe to it."""

    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from core.estimation.workers import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        )  # fmt: skip
        self.alive = True

    def ask(self, message: tuple[Any, ...]) -> Any:
        """Send one request and wait for its answer; ``OSError`` if the helper is gone."""
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            pickle.dump(message, self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.process.stdin.flush()
            kind, value = pickle.load(self.process.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            self.alive = False
            raise OSError("the fitting helper process stopped") from exc
        if kind != "ok":
            self.alive = False
            raise OSError(f"the fitting helper process failed: {value}")
        return value

    def stop(self) -> None:
        """Kill the process: a request waiting for it fails, later ones are not sent."""
        self.alive = False
        self.process.kill()
        self.process.wait()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class Fitter:
    """Runs batches of fits here and in ``workers - 1`` helper processes; close it when done."""

    def __init__(self, workers: int = 1) -> None:
        self.helpers: list[_Helper] = []
        for _ in range(max(workers, 1) - 1):
            try:
                self.helpers.append(_Helper())
            except OSError:
                break
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Fitter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the helpers and remove shared files."""
        for helper in self.helpers:
            helper.close()
        self.helpers = []
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    @property
    def scratch(self) -> Path | None:
        """The folder of the matrices shared with the helpers, while there is one."""
        return None if self._scratch is None else Path(self._scratch.name)

    def map(self, features: sparse.csr_matrix, tasks: Sequence[FitTask]) -> list[Coefficients]:
        """Results of ``tasks`` on ``features`` (float64 CSR), in task order."""
        helpers = [h for h in self.helpers if h.alive]
        if not helpers or len(tasks) < 2:
            return [fit_threshold(features, task) for task in tasks]
        results: list[Coefficients | None] = [None] * len(tasks)
        queue = iter(enumerate(tasks))
        lock = threading.Lock()

        def take() -> tuple[int, FitTask] | None:
            with lock:
                return next(queue, None)

        path = self._share(features)
        threads = [
            threading.Thread(target=self._remote, args=(h, path, take, results), daemon=True)
            for h in helpers
        ]
        for thread in threads:
            thread.start()
        slowest = 0.0
        while (item := take()) is not None:
            started = time.perf_counter()
            results[item[0]] = fit_threshold(features, item[1])
            slowest = max(slowest, time.perf_counter() - started)
        # A helper far slower than the slowest fit here is stuck: stop it, refit its share here.
        deadline = time.monotonic() + HELPER_GRACE_S + HELPER_GRACE_FITS * slowest
        for helper, thread in zip(helpers, threads, strict=True):
            thread.join(max(deadline - time.monotonic(), 0))
            if thread.is_alive():
                helper.stop()
                thread.join()
        path.unlink()
        # A fit lost with a helper that stopped runs here.
        return [
            result if result is not None else fit_threshold(features, task)
            for result, task in zip(results, tasks, strict=True)
        ]

    @staticmethod
    def _remote(
        helper: _Helper,
        path: Path,
        take: Callable[[], tuple[int, FitTask] | None],
        results: list[Coefficients | None],
    ) -> None:
        with contextlib.suppress(OSError):
            helper.ask(("load", str(path)))
            while (item := take()) is not None:
                results[item[0]] = helper.ask(("fit", item[1]))

    def _share(self, features: sparse.csr_matrix) -> Path:
        """Write ``features`` where the helpers can read it."""
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="dcoder-fit-")
        path = Path(self._scratch.name) / f"features-{id(features)}.npz"
        np.savez(path, data=features.data, indices=features.indices, indptr=features.indptr,
                 shape=np.array(features.shape))  # fmt: skip
        return path


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The helper's loop: load a matrix, fit on it, until the pipe closes."""
    features: sparse.csr_matrix | None = None
    while True:
        try:
            kind, value = pickle.load(requests)
        except EOFError:
            return
        try:
            if kind == "load":
                with np.load(value) as saved:
                    features = sparse.csr_matrix(
                        (saved["data"], saved["indices"], saved["indptr"]),
                        shape=tuple(saved["shape"]),
                    )
                answer: tuple[str, Any] = ("ok", None)
            elif kind == "fit" and features is not None:
                answer = ("ok", fit_threshold(features, value))
            else:
                answer = ("error", f"unexpected request {kind!r}")
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which refits locally
            answer = ("error", repr(exc))
        pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()


def serve() -> None:
    """Entry point of a helper process (stdin: requests, stdout: answers)."""
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but answers may reach the pipe
    _serve(sys.stdin.buffer, answers)
