"""Generated story histories with an obvious text -> points relation, for the estimator's tests."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from core.estimation import Story

# Each topic has its own words and its own size; filler words carry no signal.
TOPICS: dict[str, tuple[float, list[str]]] = {
    "typo": (1.0, ["fix typo in docs", "typo in readme", "spelling error in help text"]),
    "button": (3.0, ["add button to dialog", "new button on toolbar", "button for export page"]),
    "engine": (
        8.0,
        ["rewrite storage engine", "migrate engine to new database", "engine sharding"],
    ),
}
FILLER = ["alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma", "theta"]


def make_history(n: int, seed: int = 0, noise: float = 0.05, describe: bool = True) -> list[Story]:
    """``n`` stories cycling through the topics; a share ``noise`` gets a random other label."""
    rng = random.Random(seed)
    stories = []
    names = list(TOPICS)
    for i in range(n):
        points, phrases = TOPICS[names[rng.randrange(len(names))]]
        if rng.random() < noise:
            points = rng.choice([1.0, 2.0, 3.0, 5.0, 8.0])
        title = f"{rng.choice(phrases)} {rng.choice(FILLER)}"
        description = " ".join(rng.choices(FILLER, k=6)) if describe and i % 10 else ""
        stories.append(Story(f"T-{i + 1}", title, description, points))
    return stories


def write_csv(path: Path, stories: list[Story], with_split: bool = True) -> Path:
    """Write ``stories`` in the dataset's CSV layout (``split_mark`` 60/20/20 when asked)."""
    n = len(stories)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["issuekey", "title", "description", "storypoint"]
            + (["split_mark"] if with_split else [])
        )
        for i, s in enumerate(stories):
            mark = "train" if i < int(0.6 * n) else "val" if i < int(0.8 * n) else "test"
            row = [s.key, s.title, s.description, f"{s.points:g}"]
            writer.writerow(row + ([mark] if with_split else []))
    return path
