"""The LLM gateway classifies provider failures, against a local OpenAI-compatible endpoint."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from core.errors import PermanentError, RetryableError
from core.llm import LiteLlmGateway
from core.settings import LlmSettings


class Provider:
    """Answers every chat completion with ``status`` (an OpenAI error body) or a reply on 200."""

    def __init__(self) -> None:
        self.status = 200
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.decode("latin-1").split("\r\n"):
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            await reader.readexactly(length)
            if self.status == 200:
                body = {
                    "id": "c1", "object": "chat.completion", "created": 0, "model": "m",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "hello"}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }  # fmt: skip
            else:
                body = {"error": {"message": f"status {self.status}", "type": "x", "code": None}}
            data = json.dumps(body).encode()
            writer.write(
                f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def provider() -> AsyncIterator[tuple[Provider, str]]:
    p = Provider()
    url = await p.start()
    yield p, url
    assert p.server is not None
    p.server.close()


def _gateway(url: str, timeout_s: float = 10.0) -> LiteLlmGateway:
    return LiteLlmGateway(
        LlmSettings(
            model="openai/test-model", api_base=url, api_key=SecretStr("k"), timeout_s=timeout_s
        )
    )


async def test_a_reply_comes_back(provider: tuple[Provider, str]) -> None:
    _p, url = provider
    assert await _gateway(url).complete([{"role": "user", "content": "hi"}]) == "hello"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, PermanentError),
        (401, PermanentError),
        (403, PermanentError),
        (404, PermanentError),
        (422, PermanentError),
        (429, RetryableError),
        (500, RetryableError),
        (502, RetryableError),
        (503, RetryableError),
    ],
)
async def test_provider_statuses_are_classified(
    provider: tuple[Provider, str], status: int, expected: type[Exception]
) -> None:
    p, url = provider
    p.status = status
    with pytest.raises(expected) as info:
        await _gateway(url).complete([{"role": "user", "content": "hi"}])
    assert info.value.extra.get("llm_status") == status  # type: ignore[attr-defined]


async def test_unreachable_provider_is_retryable() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(RetryableError):
        await _gateway(f"http://127.0.0.1:{port}/v1", timeout_s=5).complete(
            [{"role": "user", "content": "hi"}]
        )
