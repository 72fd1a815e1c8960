"""The LLM path end to end through a running service: its gateway (``DCODER_LLM_*``, litellm)
pointed at a local OpenAI-compatible endpoint this test starts, a mention answered by the LLM.

The model is the service's, one for all tenants, so this test starts its own isolated service
(``bench.support.service``: ``up`` on free ports, own data dir) instead of configuring the test
session's one, which every other test shares.
"""

from __future__ import annotations

import pytest

from bench.bench_jira import _install, _mentions, _tenant
from bench.support.jira_site import agent_comments, running_provider, running_site, seed
from bench.support.service import isolated_service, port

pytestmark = pytest.mark.slow


def test_a_mention_is_answered_by_the_services_llm() -> None:
    with running_site(port()) as site, running_provider(port()) as provider:
        seed(site.state, 60)  # MESOS first: enough history for a model and a number
        env = {"DCODER_EGRESS_ALLOW": f"127.0.0.1:{site.port}", "DCODER_LLM_MODEL": "openai/t",
               "DCODER_LLM_API_BASE": provider.url, "DCODER_LLM_API_KEY": "k"}  # fmt: skip
        with isolated_service(env) as svc, _tenant(svc) as api:
            detail, _ = _install(svc, api, site, "MESOS", use_llm=True)
            assert "model: 60 stories" in detail
            _mentions(site, "MESOS", 1, 1)
    [issue] = [i for i in site.state.issues.values() if i.fields["summary"].endswith("(1)")]
    [answer] = agent_comments(site, issue.key)
    assert "LLM analysis (prompt jira-analysis@v1)" in answer.body, answer.body[:300]
    assert "retry storms" in answer.body  # the endpoint's answer, in the comment
    assert "story points" in answer.body  # the estimate from the site's own history
    [asked] = provider.seen
    assert asked["model"] == "t" and "Retry failed executor registrations" in str(asked)
