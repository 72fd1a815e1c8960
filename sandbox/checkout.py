"""Fetch the code under review, outside the analysis sandbox, without persisting credentials.

The credential travels only in the environment of the one ``git fetch`` (``GIT_CONFIG_*``
variables setting ``http.extraHeader``): never in a URL, never on a command line (visible in
``/proc/*/cmdline``), never in ``.git/config``. No remote is configured, so the checkout holds no
URL either. The tree is then copied into a workspace (without ``.git``) for the sandboxed run.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from sandbox.errors import SandboxError

GIT_TIMEOUT_S = 300.0


def _git_env(
    extra_header: SecretStr | None, config: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/nonexistent",  # no user config, no stored credentials
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "/bin/false",
        "LC_ALL": "C",
    }
    pairs = list((config or {}).items())
    if extra_header is not None:
        pairs.append(("http.extraHeader", extra_header.get_secret_value()))
    for i, (key, value) in enumerate(pairs):
        env |= {f"GIT_CONFIG_KEY_{i}": key, f"GIT_CONFIG_VALUE_{i}": value}
    if pairs:
        env["GIT_CONFIG_COUNT"] = str(len(pairs))
    return env


def _git(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
            timeout=GIT_TIMEOUT_S, check=True,
        )  # fmt: skip
    except subprocess.CalledProcessError as err:
        raise SandboxError(f"git {args[0]} failed: {err.stderr.strip()[-500:]}") from err
    except subprocess.TimeoutExpired as err:
        raise SandboxError(f"git {args[0]} timed out after {GIT_TIMEOUT_S:.0f} s") from err
    return done.stdout.strip()


def fetch_checkout(
    repo_url: str,
    ref: str,
    dest: Path,
    auth_header: SecretStr | None = None,
    depth: int | None = 50,
    config: Mapping[str, str] | None = None,
) -> str:
    """Fetch ``ref`` of ``repo_url`` into the new directory ``dest``, check it out; its commit.

    ``auth_header`` is a full header line, e.g. ``Authorization: Bearer <token>``. The result
    is verified: no file under ``dest/.git`` may contain the secret. ``config``: more git
    settings for the fetch only, set the same way (e.g. the egress guard's pinned address).
    """
    dest.mkdir(parents=True)
    env = _git_env(None)
    _git(["init", "-q"], dest, env)
    fetch = ["fetch", "-q", "--no-tags"]
    if depth:
        fetch.append(f"--depth={depth}")
    _git([*fetch, repo_url, ref], dest, _git_env(auth_header, config))
    _git(["checkout", "-q", "--detach", "FETCH_HEAD"], dest, env)
    if auth_header is not None:
        assert_no_secret(dest / ".git", auth_header)
    return _git(["rev-parse", "HEAD"], dest, env)


def assert_no_secret(git_dir: Path, secret: SecretStr) -> None:
    """Raise when the secret (or its value after a ':') was written anywhere in ``git_dir``."""
    needles = {secret.get_secret_value().encode()}
    value = secret.get_secret_value().partition(":")[2].strip()
    if value:
        needles.add(value.encode())
    for path in git_dir.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 2**20:
            data = path.read_bytes()
            if any(needle in data for needle in needles):
                raise SandboxError(f"credential found in {path.relative_to(git_dir.parent)}")
