"""The Jira agent's end-to-end kit: the simulated sites of a running simulator, the agent installed
for a tenant through the API as a user would (config, the agent's credential, enable, the admin's
webhook where the agent may not register one), and what it wrote. Shared by test_e2e.py and
tests/plugins/test_e2e_review_to_jira.py.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI

from simulators.config import SimulatorConfig
from simulators.jira.state import JiraState
from tests.plugins.jira import sitekit as kit
from tests.serve_app.api_client import TenantClient

CODE = "oauth2_authorization_code"


@dataclass
class Sim:
    """The running simulator and its two Jira sites."""

    url: str
    config: SimulatorConfig
    app: FastAPI

    def state(self, mount: str = "/jira") -> JiraState:
        """A site's state (to arrange stories and read what the agent wrote)."""
        app = next(r.app for r in self.app.routes if getattr(r, "path", "") == mount)  # type: ignore[attr-defined]
        state: JiraState = app.state.jira
        return state


@dataclass
class Agent:
    """One installed, enabled jira instance of a tenant."""

    tenant: TenantClient
    id: str
    project: str
    mount: str
    secret: str

    @property
    def base(self) -> str:
        return f"/v1/tenants/{self.tenant.id}/plugins/{self.id}"

    def state(self) -> str:
        """Health and jobs, for a failure's message."""
        jobs = self.tenant.http.get(f"/v1/tenants/{self.tenant.id}/jobs").json()
        ended = [{k: j.get(k) for k in ("kind", "status", "attempts", "error")} for j in jobs]
        return f"health {self.health()['detail']}; jobs {ended}; deliveries {deliveries(self)}"

    def model(self, size: int) -> bool:
        """Whether the fit job's model of ``size`` stories is kept."""
        return f"model: {size} stories" in str(self.health()["detail"])

    def health(self) -> dict[str, Any]:
        response = self.tenant.http.get(f"{self.base}/health")
        assert response.status_code == 200, response.text
        return dict(response.json())


def install(serve_url: str, sim: Sim, tenant: TenantClient, mount: str = "/jira",
            history: int = 0, oauth: bool = False, project: str | None = None,
            **config: Any) -> Agent:  # fmt: skip
    """The agent installed and enabled for ``tenant`` on the site at ``mount``, for ``project``
    (an existing project of that site) or a fresh one with ``history`` resolved stories."""
    state, dc = sim.state(mount), mount == "/jira-dc"
    project = project or kit.new_project(state)
    kit.history(state, project, history)
    secret = secrets.token_urlsafe(24)
    created = tenant.http.post(f"/v1/tenants/{tenant.id}/plugins", json={
        "plugin": "jira", "name": f"jira-{secrets.token_hex(3)}",
        "config": {"base_url": sim.url + mount, "deployment": "dc" if dc else "cloud",
                   "projects": [project], "service_url": serve_url, "min_history": 5,
                   "use_llm": False, **config},
        "secrets": {"webhook_secret": secret},
    })  # fmt: skip
    assert created.status_code == 201, created.text
    agent = Agent(tenant, created.json()["id"], project, mount, secret)
    me = kit.account(sim.config, "dcoder-agent")
    auth = {"kind": "personal_access_token", "token": me.pat} if dc else {
        "kind": "api_token", "email": me.email, "token": me.api_token}  # fmt: skip
    if oauth:
        auth = {"kind": CODE, "client_id": "demo-client", "client_secret": "demo-secret"}
    assert tenant.http.put(f"{agent.base}/auth", json=auth).status_code == 200
    if oauth:
        authorize(serve_url, sim, agent)
    enabled = tenant.http.post(f"{agent.base}/enable")
    assert enabled.status_code == 200, enabled.text
    if dc or oauth:  # Data Center and 3LO: the admin registers the webhook (the agent may not)
        register_admin_webhook(sim, serve_url, agent)
    return agent


def authorize(serve_url: str, sim: Sim, agent: Agent) -> None:
    """oauth/start → the simulator's consent (its demo user) → the service's callback."""
    start = agent.tenant.http.post(f"{agent.base}/oauth/start")
    assert start.status_code == 200, start.text
    consent = httpx.get(start.json()["authorize_url"], follow_redirects=False, timeout=10)
    query = parse_qs(urlsplit(consent.headers["location"]).query)
    done = httpx.get(f"{serve_url}/v1/oauth/callback", timeout=30,
                     params={"code": query["code"][0], "state": query["state"][0]})  # fmt: skip
    assert done.status_code == 200 and done.json()["authorized"] is True, done.text


def register_admin_webhook(sim: Sim, serve_url: str, agent: Agent) -> None:
    """What the site's admin does (their PAT on DC, API token on Cloud): a signed webhook."""
    admin = kit.account(sim.config, "demo")
    basic = base64.b64encode(f"{admin.email}:{admin.api_token}".encode()).decode()
    auth = f"Bearer {admin.pat}" if agent.mount == "/jira-dc" else f"Basic {basic}"
    response = httpx.post(f"{sim.url}{agent.mount}/rest/webhooks/1.0/webhook", json={
        "name": "dcoder", "url": f"{serve_url}/v1/webhooks/{agent.tenant.id}/{agent.id}",
        "events": ["comment_created"], "secret": agent.secret,
        "filters": {"issue-related-events-section": f"project = {agent.project}"},
    }, headers={"Authorization": auth}, timeout=10)  # fmt: skip
    assert response.status_code == 201, response.text


def answers(sim: Sim, agent: Agent, key: str, by: str = "dcoder-agent") -> list[Any]:
    """The comments on ``key`` written by the account ``by`` (the agent's by default)."""
    return kit.agent_comments(sim.state(agent.mount), key, kit.account(sim.config, by))


def deliveries(agent: Agent) -> list[dict[str, Any]]:
    """The instance's webhook deliveries (``comment_created``)."""
    rows = agent.tenant.http.get(f"/v1/tenants/{agent.tenant.id}/deliveries").json()
    # webhooks only: the fit job's job.completed is a delivery of the instance too
    return [r for r in rows if r["instance_id"] == agent.id and r["event_key"] == "comment_created"]
