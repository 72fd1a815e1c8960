"""What each rule means: our semgrep rules (from their YAML) and the ruff/bandit checks we keep.

ruff's ``S`` rules are flake8-bandit ports and share bandit's numbers (S602 = B602), so one table
describes both. Checks that mostly produce noise in code review (``assert``, every ``import
subprocess``, every ``random`` call, string-built SQL without a tainted source, ...) are turned
off: our own semgrep rules cover the real problems behind them with far fewer false positives.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

from core.paths import CONFIGS_DIR
from sandbox.analysis.models import RuleInfo, Severity, Tool

RULES_DIR = CONFIGS_DIR / "semgrep"

# Numbers of the bandit checks (and their ruff S ports) left out, with why:
# 101 assert; 104 bind 0.0.0.0 (containers); 105-107 hard-coded password by name (our
# py-hardcoded-secret also checks the value); 110/112 try-except-pass; 301/302 every pickle use
# and 311 every random call (our taint / secret rules); 310 every urlopen; 313-320 stdlib XML
# (safe from XXE since Python 3.7.1; our py-xxe); 401-415 imports; 603/606/607 list-argv
# subprocess; 608/610/611 SQL strings and Django raw without a tainted source (py-sql-injection).
NOISY = (
    (101, 104, 105, 106, 107, 110, 112, 301, 302, 310, 311)
    + tuple(range(313, 321))
    + tuple(range(401, 416))
    + (603, 606, 607, 608, 610, 611)
)

_H, _M, _L = Severity.HIGH, Severity.MEDIUM, Severity.LOW

# Checks whose weakness our semgrep taint rules follow from real sources to sinks are kept as
# low-severity audit notes (the callee cannot know where its argument came from): exec/eval,
# shell=True, mark_safe/Markup. bandit rates them LOW itself when the argument is a constant;
# those are dropped (see SHELL_CHECKS).
SHELL_CHECKS = frozenset({601, 602, 604, 605, 609})

# number -> (title, CWE, severity, fix hint)
CHECKS: dict[int, tuple[str, int, Severity, str]] = {
    102: ("Use of exec", 95, _L, "Avoid exec; dispatch through an explicit table of operations."),
    103: ("Permissive file mode", 732, _M, "Use 0o600 / 0o640 for files, 0o700 for directories."),
    108: ("Fixed temporary path", 377, _L, "Use tempfile.mkstemp or tempfile.TemporaryDirectory."),
    113: ("HTTP call without timeout", 400, _L, "Pass timeout= to every HTTP request."),
    201: ("Flask debug mode", 94, _H, "Never enable debug=True outside development."),
    202: ("Unsafe tar extraction", 22, _H, "Extract with filter='data' or check member paths."),
    303: ("Weak hash", 327, _L, "Use SHA-256 or better (usedforsecurity=False if not security)."),
    304: ("Broken cipher", 327, _H, "Use AES-GCM or ChaCha20-Poly1305 (cryptography's AEAD)."),
    305: ("ECB cipher mode", 327, _M, "Use an authenticated mode such as GCM."),
    306: ("Insecure mktemp", 377, _M, "Use tempfile.mkstemp or NamedTemporaryFile."),
    307: ("Use of eval", 95, _L, "Use ast.literal_eval for literals, json.loads for data."),
    308: ("mark_safe on data", 79, _L, "Build HTML with format_html / escape, not mark_safe."),
    312: ("Telnet", 319, _M, "Use SSH or TLS instead of telnet."),
    321: ("FTP", 319, _M, "Use SFTP or FTPS instead of plain FTP."),
    323: ("Unverified TLS context", 295, _H, "Use ssl.create_default_context()."),
    324: (
        "Weak hash",
        327,
        _L,
        "Use SHA-256 or better; pass usedforsecurity=False if not security.",
    ),
    501: ("TLS verification disabled", 295, _H, "Remove verify=False; trust a CA bundle instead."),
    502: ("Insecure TLS version", 327, _H, "Require TLS 1.2 or newer."),
    503: ("Insecure TLS defaults", 327, _M, "Require TLS 1.2 or newer."),
    504: ("TLS without version", 327, _L, "Use ssl.create_default_context()."),
    505: ("Weak key size", 326, _H, "Use RSA/DSA >= 2048 bits, EC >= 224 bits."),
    506: ("Unsafe YAML load", 502, _M, "Use yaml.safe_load."),
    507: ("SSH host key not checked", 295, _H, "Use RejectPolicy and known host keys."),
    508: ("Insecure SNMP version", 319, _M, "Use SNMPv3 with authentication and privacy."),
    509: ("Weak SNMP crypto", 319, _M, "Use SNMPv3 with authPriv."),
    601: ("Paramiko exec_command", 78, _L, "Quote every value with shlex.quote."),
    602: ("subprocess with shell=True", 78, _L, "Pass a list argv without shell=True."),
    604: ("Call with shell=True", 78, _L, "Pass a list argv without shell=True."),
    605: ("Process started through a shell", 78, _L, "Use subprocess.run with a list argv."),
    609: ("Wildcard in shell command", 78, _M, "Expand paths in Python (glob) and pass a list."),
    612: ("Logging config listener", 94, _M, "Do not expose logging.config.listen."),
    701: ("Jinja2 autoescape off", 79, _H, "Create the Environment with autoescape=True."),
    702: ("Mako template", 79, _M, "Escape output (default_filters=['h'])."),
    703: ("mark_safe on data", 79, _L, "Build HTML with format_html / escape, not mark_safe."),
    704: ("Markup on data", 79, _L, "Use markupsafe.Markup(template).format(value)."),
}

_CWE = re.compile(r"CWE-(\d+)")
_SEMGREP_SEVERITY = {"ERROR": _H, "WARNING": _M, "INFO": _L}


def check_number(code: str) -> int | None:
    """The bandit number of ``S602``/``B602`` (602), None for anything else."""
    match = re.fullmatch(r"[SB](\d{3})", code)
    return int(match.group(1)) if match else None


def ruff_ignored() -> list[str]:
    """ruff codes to pass to ``--ignore`` (ruff has no S414, so imports go as the S4 prefix)."""
    return ["S4", *(f"S{number}" for number in NOISY if not 400 <= number < 500)]


def bandit_skipped() -> list[str]:
    """bandit test ids to pass to ``--skip``."""
    return [f"B{number}" for number in NOISY]


def check_rule(tool: Tool, code: str) -> RuleInfo | None:
    """The description of a ruff/bandit check we keep, None when it is not in the table."""
    number = check_number(code)
    if number is None or number not in CHECKS:
        return None
    title, cwe, severity, fix = CHECKS[number]
    return RuleInfo(tool=tool, id=code, title=title, cwe=(cwe,), severity=severity, fix_hint=fix)


def cwe_numbers(entries: list[str] | str | None) -> tuple[int, ...]:
    """CWE numbers out of semgrep ``metadata.cwe`` strings (``"CWE-89: ..."``)."""
    if entries is None:
        return ()
    items = [entries] if isinstance(entries, str) else entries
    return tuple(int(m.group(1)) for item in items for m in _CWE.finditer(item))


@cache
def semgrep_rules(rules_dir: Path = RULES_DIR) -> dict[str, RuleInfo]:
    """Every rule of our semgrep configs, by id."""
    rules: dict[str, RuleInfo] = {}
    for path in sorted(rules_dir.glob("*.yaml")):
        for rule in yaml.safe_load(path.read_text()).get("rules", []):
            meta = rule.get("metadata", {})
            rules[rule["id"]] = RuleInfo(
                tool=Tool.SEMGREP,
                id=rule["id"],
                title=meta.get("title", rule["id"]),
                cwe=cwe_numbers(meta.get("cwe")),
                severity=_SEMGREP_SEVERITY.get(rule.get("severity", "WARNING"), _M),
                fix_hint=" ".join(str(meta.get("fix-hint", "")).split()),
            )
    return rules
