"""A tenant's own LLM and its usage through the running service (Ray, NATS, PostgreSQL): a Jira
mention answered by the tenant's model on a local OpenAI-compatible endpoint
(``bench.support.jira_site.running_provider``) records one usage row with the endpoint's token
counts; a call past the tenant's timeout is recorded as a timeout; another tenant sees nothing;
a private endpoint is refused with problem+json.

The session reserves two loopback ports for these tests (``TestServices.llm_sockets``, both in
``DCODER_EGRESS_ALLOW``): the Jira site's and the endpoint's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bench.support.jira_site import (
    ANSWER,
    Site,
    agent_comments,
    comment,
    running_provider,
    running_site,
    seed,
    story,
)
from tests.conftest import TestServices
from tests.fixtures.polling import wait
from tests.serve_app.api_client import TenantClient, new_tenant, operator

USAGE = {"prompt_tokens": 321, "completion_tokens": 54, "total_tokens": 375}


@pytest.fixture(scope="module")
def ports(test_services: TestServices) -> tuple[int, int]:
    site_socket, llm_socket = test_services.llm_sockets
    return site_socket.getsockname()[1], llm_socket.getsockname()[1]


@pytest.fixture(scope="module")
def site(ports: tuple[int, int]) -> Iterator[Site]:
    with running_site(ports[0]) as running:
        seed(running.state, 10)  # the MESOS project and a little history
        yield running


@pytest.fixture(scope="module")
def agent(serve_url: str, site: Site) -> tuple[TenantClient, str]:
    """A tenant with an enabled Jira instance on the site (its LLM set by each test)."""
    tenant = new_tenant(serve_url, "llm")
    created = tenant.http.post(f"/v1/tenants/{tenant.id}/plugins", json={
        "plugin": "jira", "name": "jira", "secrets": {"webhook_secret": "llm-secret-0123"},
        "config": {"base_url": site.url + "/jira", "projects": ["MESOS"], "use_llm": True,
                   "service_url": serve_url},
    })  # fmt: skip
    assert created.status_code == 201, created.text
    base = f"/v1/tenants/{tenant.id}/plugins/{created.json()['id']}"
    bot = site.account("dcoder-agent")
    authorized = tenant.http.put(
        f"{base}/auth", json={"kind": "api_token", "email": bot.email, "token": bot.api_token}
    )
    assert authorized.status_code == 200, authorized.text
    enabled = tenant.http.post(f"{base}/enable")
    assert enabled.status_code == 200, enabled.text
    return tenant, created.json()["id"]


def _mention(site: Site, n: int) -> str:
    """Alice mentions the agent on a new story; the agent's comment body."""
    key = story(site.state, "MESOS", n)
    comment(site, key, f"[~accountid:{site.account('dcoder-agent').account_id}]")
    [answer] = wait("the agent's comment", lambda: agent_comments(site, key), 120)
    return str(answer.body)


def _usage(tenant: TenantClient, **params: Any) -> dict[str, Any]:
    response = tenant.http.get(f"/v1/tenants/{tenant.id}/llm/usage", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_mention_uses_the_tenants_model_and_records_its_tokens(
    agent: tuple[TenantClient, str], site: Site, ports: tuple[int, int]
) -> None:
    tenant, instance_id = agent
    with running_provider(ports[1], usage=USAGE) as provider:
        put = tenant.http.put(f"/v1/tenants/{tenant.id}/llm", json={
            "model": "openai/tenant-model", "api_base": provider.url, "api_key": "tenant-key-1",
        })  # fmt: skip
        assert put.status_code == 200, put.text

        body = _mention(site, 1)

    assert "LLM analysis" in body and "retry storms" in body, body[:300]  # the endpoint's answer
    # the endpoint saw the tenant's model string and key (no service model is configured)
    assert [r["model"] for r in provider.seen] == ["tenant-model"]
    assert provider.keys == ["Bearer tenant-key-1"]
    usage = wait("the usage row", lambda: _usage(tenant)["calls"] and _usage(tenant), 30)
    [call] = usage["calls"]
    assert call["instance_id"] == instance_id and call["plugin"] == "jira"
    assert call["model"] == "openai/tenant-model" and call["outcome"] == "ok"
    assert (call["prompt_tokens"], call["completion_tokens"]) == (321, 54)
    assert call["cost_usd"] is None  # a local endpoint's model has no price
    assert call["latency_ms"] >= 0
    [by_model] = usage["by_model"]
    assert by_model == {
        "key": "openai/tenant-model", "calls": 1, "failed": 0,
        "prompt_tokens": 321, "completion_tokens": 54, "cost_usd": None,
    }  # fmt: skip
    assert [t["key"] for t in usage["by_instance"]] == [instance_id]
    # GET shows the model, never the key
    shown = tenant.http.get(f"/v1/tenants/{tenant.id}/llm")
    assert shown.status_code == 200 and "tenant-key-1" not in shown.text
    assert shown.json()["source"] == "tenant" and shown.json()["api_key_set"] is True
    # a later window holds nothing
    assert _usage(tenant, since="2999-01-01T00:00:00Z")["calls"] == []
    # and /metrics counts it (the tenant host's counters, summed at scrape time)
    metrics = tenant.http.get("/metrics").text
    labels = f'model="openai/tenant-model",outcome="ok",tenant="{tenant.id}"'
    assert f"dcoder_llm_calls_total{{{labels}}} 1.0" in metrics, metrics[-2000:]
    prompt = f'kind="prompt",model="openai/tenant-model",tenant="{tenant.id}"'
    assert f"dcoder_llm_tokens_total{{{prompt}}} 321.0" in metrics


def test_a_call_past_the_tenants_timeout_is_recorded_as_a_timeout(
    agent: tuple[TenantClient, str], site: Site, ports: tuple[int, int]
) -> None:
    tenant, _ = agent

    def slow(request: dict[str, Any]) -> str:
        time.sleep(4)
        return json.dumps(ANSWER)

    with running_provider(ports[1], answer=slow) as provider:
        put = tenant.http.put(f"/v1/tenants/{tenant.id}/llm", json={
            "model": "openai/slow-model", "api_base": provider.url, "api_key": "k", "timeout_s": 1,
        })  # fmt: skip
        assert put.status_code == 200, put.text

        body = _mention(site, 2)

    assert "LLM analysis" not in body  # answered by the rules
    latest = wait(
        "the timed-out call's row",
        lambda: [c for c in _usage(tenant)["calls"] if c["model"] == "openai/slow-model"],
        30,
    )
    assert {c["outcome"] for c in latest} == {"timeout"}, latest
    assert all(c["prompt_tokens"] is None for c in latest)
    totals = {t["key"]: t for t in _usage(tenant)["by_model"]}
    assert totals["openai/slow-model"]["failed"] == totals["openai/slow-model"]["calls"] >= 1
    # paging: one call per page, newest first, then the next page
    first = _usage(tenant, limit=1)
    assert len(first["calls"]) == 1 and first["next_before"] == first["calls"][0]["id"]
    older = _usage(tenant, limit=1, before=first["next_before"])
    assert older["calls"][0]["id"] < first["calls"][0]["id"]


def test_another_tenant_sees_neither_the_usage_nor_the_model(
    serve_url: str, agent: tuple[TenantClient, str]
) -> None:
    tenant, _ = agent
    other = new_tenant(serve_url, "llm-other")
    for path in (f"/v1/tenants/{tenant.id}/llm/usage", f"/v1/tenants/{tenant.id}/llm"):
        response = other.http.get(path)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
    refused = other.http.put(f"/v1/tenants/{tenant.id}/llm", json={"model": "openai/x"})
    assert refused.status_code == 404
    assert _usage(other) == {"since": None, "by_model": [], "by_instance": [], "calls": [],
                             "next_before": None}  # fmt: skip
    with operator(serve_url) as op:  # the operator reads any tenant's usage
        assert op.get(f"/v1/tenants/{tenant.id}/llm/usage").json()["calls"]


@pytest.mark.parametrize(
    "api_base",
    ["http://10.1.2.3/v1", "http://169.254.169.254/latest", "http://127.0.0.1:9/v1",
     "http://[::1]:8080/v1", "http://0x7f000001/v1", "file:///etc/passwd"],
)  # fmt: skip
def test_a_private_api_base_is_refused_with_problem_json(serve_url: str, api_base: str) -> None:
    tenant = new_tenant(serve_url, "llm-ssrf")
    response = tenant.http.put(
        f"/v1/tenants/{tenant.id}/llm", json={"model": "openai/x", "api_base": api_base}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation-failed"
    assert problem["errors"][0]["pointer"] == "/api_base"
    assert tenant.http.get(f"/v1/tenants/{tenant.id}/llm").json()["source"] == "none"


def test_a_model_without_endpoint_needs_the_tenants_own_key(serve_url: str) -> None:
    """No api_base and no api_key would let litellm use the host's provider credentials."""
    tenant = new_tenant(serve_url, "llm-nokey")
    response = tenant.http.put(f"/v1/tenants/{tenant.id}/llm", json={"model": "openai/gpt-4o"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["pointer"] == "/api_key"
    assert tenant.http.get(f"/v1/tenants/{tenant.id}/llm").json()["source"] == "none"


def test_delete_falls_back_to_the_service_model(serve_url: str) -> None:
    tenant = new_tenant(serve_url, "llm-reset")
    path = f"/v1/tenants/{tenant.id}/llm"
    assert tenant.http.put(path, json={"model": "anthropic/claude-3-5-haiku-20241022",
                                       "api_key": "sk-ant-x"}).status_code == 200  # fmt: skip
    assert tenant.http.get(path).json()["model"] == "anthropic/claude-3-5-haiku-20241022"
    assert tenant.http.delete(path).status_code == 204
    shown = tenant.http.get(path).json()
    assert shown["source"] == "none" and shown["model"] is None  # the session has no service model
    again = tenant.http.delete(path)
    assert again.status_code == 404 and again.headers["content-type"] == "application/problem+json"
    actions = [a["action"] for a in tenant.http.get(f"/v1/tenants/{tenant.id}/audit").json()]
    assert "llm.configure" in actions and "llm.reset" in actions
