"""The mention flow's LLM path through the platform's real gateway (litellm) against a local
OpenAI-compatible endpoint this test starts: a good answer is used, malformed and truncated
JSON fall back to the rules with the reason, a provider that does not answer in time too."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from core.llm import LiteLlmGateway
from core.settings import LlmSettings
from plugin_sdk.testing import PluginHarness
from plugins.jira.plugin import JiraPlugin
from simulators.jira.state import JiraState
from tests.plugins.jira import sitekit as kit
from tests.plugins.jira.conftest import SimServer
from tests.plugins.jira.test_llm import VALID

SLOW = "<sleep>"


class Provider:
    """Chat completions from a script: each request takes the next reply (``SLOW``: no answer)."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies
        self.requests: list[dict[str, Any]] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            self.requests.append(json.loads(await _body(reader, head)))
            reply = self.replies.pop(0) if self.replies else "{}"
            if reply == SLOW:
                await asyncio.sleep(30)
            body = {
                "id": "c1", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": reply}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }  # fmt: skip
            data = json.dumps(body).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def _body(reader: asyncio.StreamReader, head: str) -> bytes:
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            return await reader.readexactly(int(line.split(":", 1)[1]))
    data = b""  # chunked
    while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
        data += await reader.readexactly(size)
        await reader.readexactly(2)
    await reader.readexactly(2)
    return data


@pytest.fixture
async def agent_with(sim: SimServer) -> AsyncIterator[Any]:
    made: list[tuple[PluginHarness[JiraPlugin], Provider]] = []

    async def make(replies: list[str], timeout_s: float = 25.0) -> Any:
        provider = Provider(["{}", *replies])
        url = await provider.start()
        gateway = LiteLlmGateway(LlmSettings(model="openai/test-model", api_base=url,
                                             api_key=SecretStr("k"), timeout_s=30))  # fmt: skip
        # litellm's first call in a process takes seconds (imports, cost map): not the test's
        await gateway.complete([{"role": "user", "content": "warm up"}], max_tokens=10)
        provider.requests.clear()
        state: JiraState = sim.mounted("/jira").state.jira
        project = kit.new_project(state)
        config = {"base_url": sim.url + "/jira", "projects": [project], "llm_timeout_s": timeout_s}
        harness = PluginHarness(
            JiraPlugin, llm=gateway, secrets={"webhook_secret": "s"}, config=config
        )
        me = kit.account(sim.config, "dcoder-agent")
        harness.http.auth = httpx.BasicAuth(me.email, me.api_token)
        await harness.install()
        await harness.enable()
        made.append((harness, provider))
        return harness, provider, state, project

    yield make
    for harness, provider in made:
        await harness.aclose()
        assert provider.server is not None
        provider.server.close()


async def _answer(sim: SimServer, harness: PluginHarness[JiraPlugin], state: JiraState,
                  project: str) -> str:  # fmt: skip
    agent = kit.account(sim.config, "dcoder-agent")
    key = kit.story(state, project)
    made = kit.comment(sim.url + "/jira", kit.account(sim.config, "alice"), key,
                       f"[~accountid:{agent.account_id}] analyze")  # fmt: skip
    await harness.webhook(body=kit.comment_created(made, key))
    [answer] = kit.agent_comments(state, key, agent)
    return str(answer.body)


async def test_a_valid_answer_is_the_analysis(sim: SimServer, agent_with: Any) -> None:
    harness, provider, state, project = await agent_with([json.dumps(VALID)])
    body = await _answer(sim, harness, state, project)
    assert "LLM analysis (prompt jira-analysis@v1)" in body and VALID["summary"] in body
    [request] = provider.requests
    assert request["model"] == "test-model" and request["temperature"] == 0.0
    assert "Export invoices to CSV" in request["messages"][-1]["content"]


async def test_malformed_then_truncated_json_falls_back_to_the_rules(
    sim: SimServer, agent_with: Any
) -> None:
    truncated = json.dumps(VALID)[:80]
    harness, provider, state, project = await agent_with(["Sure! {not json at all", truncated])
    body = await _answer(sim, harness, state, project)
    assert "deterministic rules, no LLM. the LLM's answer was unusable twice" in body
    assert len(provider.requests) == 2  # one retry, naming what was wrong
    assert "not usable" in provider.requests[1]["messages"][-1]["content"]


async def test_a_provider_that_does_not_answer_in_time(sim: SimServer, agent_with: Any) -> None:
    harness, _provider, state, project = await agent_with([SLOW], timeout_s=1.0)
    body = await _answer(sim, harness, state, project)
    assert "deterministic rules, no LLM. the LLM did not answer within 1 s" in body
