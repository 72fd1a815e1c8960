"""Who may register which Jira webhook, as the contract says (``jira-platform-v3`` spec):
``/rest/api/3/webhook`` is for OAuth 2.0 / Connect apps with ``manage:jira-webhook`` (403 "if
the caller isn't an app"); the admin resource ``/rest/webhooks/1.0`` is not in the OAuth 2.0
API (an app's token gets 403) and takes a user's API token or PAT."""

from __future__ import annotations

import httpx

from simulators.auth import TokenIssuer, accounts
from tests.simulators.conftest import SimServer

DYNAMIC = {"url": "https://example.com/hook",
           "webhooks": [{"events": ["comment_created"], "jqlFilter": "project = X"}]}  # fmt: skip
ADMIN = {"name": "t", "url": "https://example.com/admin-hook", "events": ["comment_created"]}


def _app_token(sim: SimServer, scope: str) -> dict[str, str]:
    agent = next(a for a in accounts(sim.config) if a.username == "dcoder-agent")
    token = TokenIssuer(sim.config).issue("atlassian", subject=agent.account_id, ttl_s=300,
                                          scope=scope)  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


def test_dynamic_webhooks_are_for_oauth_apps_with_the_webhook_scope(sim: SimServer) -> None:
    agent = next(a for a in accounts(sim.config) if a.username == "dcoder-agent")
    with httpx.Client(base_url=sim.url + "/jira", timeout=10) as http:
        as_user = http.post("/rest/api/3/webhook", json=DYNAMIC,
                            auth=(agent.email, agent.api_token))  # fmt: skip
        assert as_user.status_code == 403
        assert as_user.json()["errorMessages"] == [
            "Only Connect and OAuth 2.0 apps can use this operation."
        ]
        as_pat = http.get("/rest/api/3/webhook", headers={"Authorization": f"Bearer {agent.pat}"})
        assert as_pat.status_code == 403
        no_scope = _app_token(sim, "read:jira-work write:jira-work")
        assert http.post("/rest/api/3/webhook", json=DYNAMIC, headers=no_scope).status_code == 403
        app = _app_token(sim, "read:jira-work manage:jira-webhook")
        made = http.post("/rest/api/3/webhook", json=DYNAMIC, headers=app)
        assert made.status_code == 200, made.text
        [result] = made.json()["webhookRegistrationResult"]
        listed = http.get("/rest/api/3/webhook", headers=app).json()["values"]
        assert result["createdWebhookId"] in [w["id"] for w in listed]
        gone = http.request("DELETE", "/rest/api/3/webhook", headers=app,
                            json={"webhookIds": [result["createdWebhookId"]]})  # fmt: skip
        assert gone.status_code == 202


def test_admin_webhooks_take_users_not_oauth_apps(sim: SimServer) -> None:
    agent = next(a for a in accounts(sim.config) if a.username == "dcoder-agent")
    app = _app_token(sim, "read:jira-work write:jira-work manage:jira-webhook")
    with httpx.Client(base_url=sim.url + "/jira", timeout=10) as http:
        refused = http.post("/rest/webhooks/1.0/webhook", json=ADMIN, headers=app)
        assert refused.status_code == 403 and "OAuth 2.0 apps" in refused.text
        assert http.get("/rest/webhooks/1.0/webhook", headers=app).status_code == 403
        made = http.post("/rest/webhooks/1.0/webhook", json=ADMIN,
                         auth=(agent.email, agent.api_token))  # fmt: skip
        assert made.status_code == 201, made.text
        hook_id = made.json()["self"].rsplit("/", 1)[-1]
        assert http.delete(f"/rest/webhooks/1.0/webhook/{hook_id}", headers=app).status_code == 403
        done = http.delete(f"/rest/webhooks/1.0/webhook/{hook_id}",
                           auth=(agent.email, agent.api_token))  # fmt: skip
        assert done.status_code == 204
