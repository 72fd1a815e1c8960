"""README's "A first tenant" runs as written (bash, curl, python3) against the real service.

The block runs in a scratch folder laid out like a checkout after `make run`: `.data/operator.key`
holds the session's operator key and `.venv/bin/dcoder-integrations` is this venv's console
script. Only the API address and the tenant id (unique per run) are substituted.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.paths import PROJECT_ROOT
from tests.conftest import OPERATOR_KEY


def _first_tenant_block() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## A first tenant\n", 1)[1]
    return section.split("```bash\n", 1)[1].split("\n```", 1)[0]


def test_first_tenant_walkthrough_runs_literally(serve_url: str, tmp_path: Path) -> None:
    script = _first_tenant_block()
    assert "API=http://127.0.0.1:8085" in script
    tenant = f"acme{secrets.token_hex(3)}"
    script = script.replace("API=http://127.0.0.1:8085", f"API={serve_url}")
    script = script.replace('"acme"', f'"{tenant}"').replace("/acme/", f"/{tenant}/")
    script = script.replace(" acme ", f" {tenant} ")
    (tmp_path / ".data").mkdir()
    (tmp_path / ".data" / "operator.key").write_text(OPERATOR_KEY + "\n")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "dcoder-integrations").symlink_to(
        Path(sys.executable).parent / "dcoder-integrations"
    )
    # `webhook send` finds the API through the settings, as after `make run` (default port 8085).
    env = {**os.environ, "DCODER_HTTP_PORT": serve_url.rsplit(":", 1)[1]}
    done = subprocess.run(  # noqa: S603
        ["bash", "-euo", "pipefail", "-c", script + '\necho "KEY=$KEY"\necho "IID=$IID"'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    out = done.stdout
    key = out.split("KEY=")[-1].split()[0]
    iid = out.split("IID=")[-1].split()[0]
    assert key.startswith("dck_") and iid.startswith("i-"), out
    assert "HTTP 202  webhook-id msg_" in out, out
    accepted = json.loads(out.split("HTTP 202  webhook-id ", 1)[1].splitlines()[1])
    with httpx.Client(base_url=serve_url, headers={"Authorization": f"Bearer {key}"}) as api:
        deadline = time.monotonic() + 60
        row: dict = {}
        while time.monotonic() < deadline and row.get("status") != "done":
            rows = api.get(f"/v1/tenants/{tenant}/deliveries").json()
            row = next(r for r in rows if r["id"] == accepted["delivery_id"])
            time.sleep(0.3)
    assert (row["instance_id"], row["event_key"], row["status"]) == (iid, "build.finished", "done")
