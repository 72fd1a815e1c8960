"""Realistic Python for the Bitbucket benchmark's pull request, with a known handful of findings.

``PullRequestCode`` generates, from a fixed seed, the files of a small order-processing service:
``main`` holds a short module per file; the pull request appends service code (dataclasses,
parameterised queries, subprocess calls with argument lists, JSON files, retries, statistics)
until about ``lines`` added lines in total. A few **slots** are functions with one line that is
either vulnerable or safe (SQL built by string formatting, ``shell=True``, MD5 for passwords,
``pickle.loads`` of a cookie, TLS checks off); toggling a slot never changes the line count, so the
line of every finding stays where it was across pushes and comments can be compared by
``(path, line, rule)``. ``revision`` changes the tuning constants of one block in four (lines
changed in place, as a push does).

Besides, two files hold a best-effort block with ``except Exception:`` that the benchmark's local
LLM endpoint reports (``llm_findings``), so the LLM path posts comments too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

HEADER = '''"""{doc}"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from flask import Flask, request

log = logging.getLogger(__name__)
DB_PATH = Path("/var/lib/shop/{stem}.db")
app = Flask(__name__)
db = sqlite3.connect(str(DB_PATH), check_same_thread=False)
'''

DOCS = [
    "Orders: reading, totals and exports.",
    "Customers: accounts, sessions and passwords.",
    "Inventory: stock levels, reservations and archives.",
    "Payments: captures, refunds and reconciliation.",
    "Shipping: labels, carriers and tracking.",
    "Reports: daily figures and exports.",
    "Catalogue: products, prices and imports.",
    "Notifications: templates and delivery.",
]

# Safe blocks. {n}: unique number; {tune}: a constant a push may change in place.
SAFE = [
    '''

@dataclass
class Record{n}:
    """One row of table t{n} as the service passes it around."""

    id: int
    name: str
    total: float = 0.0
    tags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {{"id": self.id, "name": self.name, "total": self.total, "tags": self.tags}}

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> Record{n}:
        tags = [str(t) for t in raw.get("tags", [])]  # type: ignore[union-attr]
        return cls(int(raw["id"]), str(raw["name"]), float(raw.get("total", 0)), tags)
''',
    '''

def rows_for_customer_{n}(conn: sqlite3.Connection, customer: str) -> list[tuple[int, float]]:
    """Orders of one customer, newest first (at most {tune})."""
    cur = conn.cursor()
    cur.execute(
        "SELECT id, total FROM orders WHERE customer = ? ORDER BY created DESC LIMIT ?",
        (customer, {tune}),
    )
    rows = cur.fetchall()
    log.debug("customer %s has %d orders", customer, len(rows))
    return [(int(r[0]), float(r[1])) for r in rows]
''',
    '''

def compress_{n}(source: Path, target: Path) -> int:
    """Pack ``source`` into ``target`` (gzip level {tune}) and return the archive's size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["tar", "-czf", str(target), "-C", str(source.parent), source.name],
        check=True,
        env={{"GZIP": "-{tune}"}},
    )
    return target.stat().st_size
''',
    '''

def load_settings_{n}(path: Path) -> dict[str, object]:
    """Settings from a JSON file; missing keys take their defaults."""
    defaults: dict[str, object] = {{"batch": {tune}, "retries": 3, "region": "eu-west-1"}}
    if not path.exists():
        return defaults
    with path.open(encoding="utf-8") as handle:
        raw = json.load(handle)
    if not isinstance(raw, dict):
        raise ValueError(f"{{path}}: expected an object, got {{type(raw).__name__}}")
    return defaults | raw
''',
    '''

def with_retries_{n}(call, attempts: int = {tune}, delay_s: float = 0.5):
    """Call ``call`` until it succeeds, waiting longer after each failure."""
    last: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except (OSError, TimeoutError) as err:
            last = err
            log.warning("attempt %d of %d failed: %s", attempt, attempts, err)
            time.sleep(delay_s * attempt)
    assert last is not None
    raise last
''',
    '''

def summary_{n}(values: list[float]) -> dict[str, float]:
    """Count, mean and spread of ``values`` (rounded to {tune} places)."""
    if not values:
        return {{"count": 0, "mean": 0.0, "spread": 0.0}}
    mean = sum(values) / len(values)
    spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    return {{
        "count": float(len(values)),
        "mean": round(mean, {tune}),
        "spread": round(spread, {tune}),
    }}
''',
    '''

def checksum_{n}(path: Path, chunk: int = {tune} * 1024) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
''',
]

BEST_EFFORT = '''

def notify_best_effort_{n}(send, message: str) -> bool:
    """Send ``message``; a failure must not stop the order."""
    try:
        send(message)
        return True
    except Exception:
        return False
'''

# Slots: (name, template with {line}, vulnerable line, safe line). Same line count either way.
SLOTS = {
    "sql-format": (
        '''

@app.route("/orders/{n}")
def find_orders_{n}():
    """Orders of the customer named in the query string."""
    customer = request.args.get("customer", "")
    cur = db.cursor()
{line}
    return {{"orders": cur.fetchall()}}
''',
        """    cur.execute(f"SELECT id, total FROM orders WHERE customer = '{customer}'")""",
        """    cur.execute("SELECT id, total FROM orders WHERE customer = ?", (customer,))""",
    ),
    "shell": (
        '''

@app.route("/exports/{n}", methods=["POST"])
def archive_{n}():
    """Archive the export the user chose."""
    name = request.form["name"]
{line}
    return {{"archived": name}}
''',
        """    subprocess.run(f"tar czf /srv/{name}.tgz /srv/{name}", shell=True, check=True)""",
        """    subprocess.run(["tar", "czf", f"/srv/{name}.tgz", f"/srv/{name}"], check=True)""",
    ),
    "weak-hash": (
        '''

def password_hash_{n}(password: str, salt: bytes) -> str:
    """The stored hash of a customer's password."""
{line}
''',
        """    return hashlib.md5(salt + password.encode()).hexdigest()""",
        """    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000).hex()""",
    ),
    "pickle": (
        '''

@app.route("/session/{n}", methods=["POST"])
def restore_session_{n}():
    """The session a client sent back."""
    blob = request.get_data()
{line}
    return {{"user": state.get("user")}}
''',
        """    state = pickle.loads(blob)""",
        """    state = json.loads(blob)""",
    ),
    "tls-verify": (
        '''

def carrier_status_{n}(url: str) -> dict[str, object]:
    """Tracking status from the carrier's API."""
{line}
''',
        """    return requests.get(url, timeout=10, verify=False).json()""",
        """    return requests.get(url, timeout=10).json()""",
    ),
    "sql-concat": (
        '''

@app.route("/customers/{n}", methods=["DELETE"])
def delete_customer_{n}():
    """Remove the customer an operator named."""
    name = request.args["name"]
{line}
    db.commit()
    return {{"deleted": name}}
''',
        """    db.execute("DELETE FROM customers WHERE name = '" + name + "'")""",
        """    db.execute("DELETE FROM customers WHERE name = ?", (name,))""",
    ),
}


@dataclass(frozen=True)
class Slot:
    """One place that is vulnerable or safe: file, the line of the toggled code, its kind."""

    path: str
    line: int
    kind: str


@dataclass
class PullRequestCode:
    """The files of ``main`` and of the pull request's head at a revision."""

    lines: int = 1000
    files: int = 6
    slots_per_file: int = 2
    seed: int = 17
    _layout: dict[str, list[tuple[str, int]]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        kinds = list(SLOTS)
        number = 0
        per_file = max(1, self.lines // self.files)
        for f in range(self.files):
            path = f"shop/{DOCS[f % len(DOCS)].split(':')[0].lower()}_{f}.py"
            blocks: list[tuple[str, int]] = []
            added = 0
            places = sorted(rng.sample(range(2, 12), self.slots_per_file))
            while added < per_file:
                number += 1
                if places and len(blocks) == places[0]:
                    places.pop(0)
                    kind = kinds[(f * self.slots_per_file + len(places)) % len(kinds)]
                    blocks.append(("slot:" + kind, number))
                    added += SLOTS[kind][0].count("\n")
                elif f < 2 and len(blocks) == 1:
                    blocks.append(("best-effort", number))
                    added += BEST_EFFORT.count("\n")
                else:
                    index = rng.randrange(len(SAFE))
                    blocks.append((f"safe:{index}", number))
                    added += SAFE[index].count("\n")
            self._layout[path] = blocks

    def slots(self) -> list[Slot]:
        """Every slot, in file order (the line is that of the head, which ``main`` lacks)."""
        found = []
        for path, blocks in self._layout.items():
            line = self._base_text(path).count("\n")
            for name, _n in blocks:
                text = self._block(name, _n, 0, set(), path)
                if name.startswith("slot:"):
                    kind = name.removeprefix("slot:")
                    offset = SLOTS[kind][0].split("{line}")[0].count("\n")
                    found.append(Slot(path, line + offset + 1, kind))
                line += text.count("\n")
        return found

    def _base_text(self, path: str) -> str:
        f = list(self._layout).index(path)
        stem = path.rsplit("/", 1)[-1].removesuffix(".py")
        text = HEADER.format(doc=DOCS[f % len(DOCS)], stem=stem)
        for k in range(3):  # what main already has: a few safe blocks
            text += SAFE[(f + k) % len(SAFE)].format(n=1000 * (f + 1) + k, tune=10 + k)
        return text

    def _block(self, name: str, n: int, revision: int, vulnerable: set[Slot], path: str) -> str:
        if name == "best-effort":
            return BEST_EFFORT.format(n=n)
        if name.startswith("safe:"):
            index = int(name.removeprefix("safe:"))
            tune = 8 + (revision if n % 4 == revision % 4 else 0)
            return SAFE[index].format(n=n, tune=tune)
        kind = name.removeprefix("slot:")
        template, bad, good = SLOTS[kind]
        chosen = any(s.path == path and s.kind == kind for s in vulnerable)
        return template.format(n=n, line=bad if chosen else good)

    def main(self) -> dict[str, str]:
        """The files of ``main`` (and the review settings of the team)."""
        files = {path: self._base_text(path) for path in self._layout}
        files[".dcoder/review.yaml"] = "severity_threshold: medium\nmax_comments: 40\n"
        files["shop/__init__.py"] = '"""The shop service."""\n'
        return files

    def head(self, vulnerable: set[Slot], revision: int = 0) -> dict[str, str]:
        """The pull request's files with ``vulnerable`` slots vulnerable, the rest safe."""
        out = {}
        for path, blocks in self._layout.items():
            text = self._base_text(path)
            for name, n in blocks:
                text += self._block(name, n, revision, vulnerable, path)
            out[path] = text
        return out

    def added_lines(self) -> int:
        """Lines the pull request adds to ``main``."""
        return sum(
            text.count("\n") - self._base_text(path).count("\n")
            for path, text in self.head(set()).items()
        )


def llm_findings(diff: str) -> list[dict[str, object]]:
    """What the benchmark's LLM reports in one chunk of the prompt's numbered diff: every added
    ``except Exception:`` (a best-effort block that hides every error)."""
    found: list[dict[str, object]] = []
    path = ""
    for line in diff.splitlines():
        if line.startswith("@@ ") and " from line " in line:
            path = line[3:].split(" from line ")[0]
        parts = line.split(" + ", 1)
        if len(parts) == 2 and parts[0].strip().isdigit() and "except Exception:" in parts[1]:
            found.append({
                "path": path, "line": int(parts[0]), "severity": "medium",
                "category": "error-handling", "confidence": 0.8,
                "message": "Every error is swallowed here, including programming errors.",
                "fix_hint": "Catch the transport's errors only and log them.", "suggestion": None,
            })  # fmt: skip
    return found
