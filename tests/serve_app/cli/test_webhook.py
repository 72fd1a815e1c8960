"""`webhook send` against the real service: signed, accepted, visible in deliveries, repeats
answered 200, a wrong secret refused with the service's problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serve_app.cli.main import main
from tests.serve_app.api_client import install_generic, new_tenant, whsec
from tests.serve_app.webhook_helpers import wait_status


def _send(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, dict]:
    code = main(["webhook", "send", *argv])
    lines = capsys.readouterr().out.splitlines()
    return code, lines[0], json.loads(lines[1])


def test_webhook_send_signs_and_the_delivery_is_listed(
    serve_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = new_tenant(serve_url, "cli")
    secret = whsec()
    instance = install_generic(tenant, "ci", secret)["id"]
    assert tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{instance}/enable").is_success
    data = '{"type": "build.finished", "build": 7}'
    args = (tenant.id, instance, "--secret", secret, "--data", data, "--url", serve_url)

    code, status, body = _send(capsys, *args)
    assert (code, status.split()[:2]) == (0, ["HTTP", "202"]), (status, body)
    assert body["duplicate"] is False
    msg_id = status.split()[-1]
    assert msg_id.startswith("msg_")
    delivery = wait_status(tenant, body["delivery_id"], "done")
    assert (delivery["instance_id"], delivery["event_key"]) == (instance, "build.finished")

    code, status, again = _send(capsys, *args, "--id", msg_id)  # the same delivery again
    assert (code, status.split()[1], again["duplicate"]) == (0, "200", True)
    assert again["delivery_id"] == body["delivery_id"]

    code, status, problem = _send(capsys, *args[:2], "--secret", whsec(), *args[4:])
    assert (code, status.split()[1]) == (1, "401")
    assert problem["status"] == 401 and problem["code"]


def test_webhook_send_reads_the_secret_and_body_from_elsewhere(
    serve_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    tenant = new_tenant(serve_url, "cli")
    secret = whsec()
    instance = install_generic(tenant, "ci", secret)["id"]
    assert tenant.http.post(f"/v1/tenants/{tenant.id}/plugins/{instance}/enable").is_success
    payload = tmp_path / "payload.json"
    payload.write_text('{"type": "from.file"}')
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    monkeypatch.setenv("DCODER_HTTP_PORT", serve_url.rsplit(":", 1)[1])  # no --url: settings
    code, status, body = _send(capsys, tenant.id, instance, "--data", f"@{payload}")
    assert (code, status.split()[1]) == (0, "202"), body
    assert wait_status(tenant, body["delivery_id"], "done")["event_key"] == "from.file"


def test_webhook_send_without_a_secret_says_how(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    assert main(["webhook", "send", "acme", "i-x", "--data", "{}"]) == 2
    assert "--secret or set WEBHOOK_SECRET" in capsys.readouterr().err
