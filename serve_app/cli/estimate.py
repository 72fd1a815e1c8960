"""`estimate` and `estimate-eval`: story points from a team's own history, and their evaluation."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.estimation.model import Estimate


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add `estimate` and `estimate-eval`."""
    one = subparsers.add_parser(
        "estimate",
        help="estimate one story's points from a CSV history (or a saved model)",
        description="Fit on a history (issuekey,title,description,storypoint; creation order) "
        "and estimate one story, explained by its most similar past stories.",
    )
    source = one.add_mutually_exclusive_group(required=True)
    source.add_argument("--history", type=Path, help="CSV history of resolved stories")
    source.add_argument("--model", type=Path, help="model bytes written by --save-model")
    one.add_argument("--title", required=True, help="title of the story to estimate")
    one.add_argument("--description", default="", help="description of the story")
    one.add_argument("--save-model", type=Path, help="also write the fitted model to this file")
    one.add_argument("--json", action="store_true", help="print the estimate as JSON")
    one.set_defaults(func=_estimate)

    evaluate = subparsers.add_parser(
        "estimate-eval",
        help="evaluate the estimator on every *.csv history of a directory",
        description="Per project: fit on train (+val, chosen on val), score the test split, and "
        "compare with the constant median and mean of the same history.",
    )
    evaluate.add_argument("directory", type=Path, help="directory of *.csv histories")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(func=_estimate_eval)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _estimate(args: argparse.Namespace) -> int:
    from core.errors import IntegrationsError
    from core.estimation import dumps, fit_model, loads, read_history_csv

    try:
        if args.model is not None:
            model = loads(args.model.read_bytes())
        else:
            stories, _marks = read_history_csv(args.history)
            if not stories:
                print(f"error: {args.history} holds no story", file=sys.stderr)
                return 2
            model = fit_model(stories, progress=_progress)
    except (OSError, IntegrationsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.save_model is not None:
        args.save_model.write_bytes(dumps(model))
    estimate = model.estimate(args.title, args.description)
    print(json.dumps(estimate.to_dict(), indent=2) if args.json else _render(estimate))
    return 0


def _render(estimate: Estimate) -> str:
    lines = [
        f"Estimate: {estimate.points:g} points (likely {estimate.low:g}-{estimate.high:g})",
        f"Model: {estimate.model} on {estimate.history_size} past stories",
    ]
    if estimate.fallback_reason:
        lines.append(f"Fell back to the history's median: {estimate.fallback_reason}")
    if estimate.similar:
        lines.append("Most similar past stories:")
        lines += [
            f"  {s.key} ({s.points:g} points, similarity {s.similarity:.2f}): {s.title}"
            for s in estimate.similar
        ]
    else:
        lines.append("No past story shares words with this one.")
    return "\n".join(lines)


def _estimate_eval(args: argparse.Namespace) -> int:
    from core.errors import IntegrationsError
    from core.estimation.evaluation import evaluate_directory, markdown_table, summary

    try:
        results = evaluate_directory(args.directory, progress=_progress)
    except (OSError, ValueError, IntegrationsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    report = summary(results)
    print(json.dumps(report, indent=2) if args.json else markdown_table(results, report))
    return 0
