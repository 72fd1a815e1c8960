"""The request guard and the 500 path, in process: bounded logs, strict JSON helpers."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from core import json_input
from core.errors import MalformedJson
from core.settings import HttpSettings
from serve_app.guard import RequestGuard
from serve_app.problems import install_problem_handlers


def _app() -> FastAPI:
    api = FastAPI()
    install_problem_handlers(api)
    api.add_middleware(RequestGuard, settings=HttpSettings(max_body_bytes=2048))

    @api.post("/boom")
    async def boom(body: dict) -> dict:  # type: ignore[type-arg]
        raise RuntimeError("x" * 50_000)  # a bug whose message a client could inflate

    @api.post("/echo")
    async def echo(body: dict) -> dict:  # type: ignore[type-arg]
        return body

    return api


async def test_a_bug_is_one_bounded_log_line_and_a_problem_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with caplog.at_level(logging.INFO):
            response = await client.post("/boom", json={"a": 1})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1, [r.getMessage()[:100] for r in errors]
    line = errors[0].getMessage()
    assert "RuntimeError" in line and "test_guard.py" in line and len(line) < 1000
    assert errors[0].exc_info is None  # no traceback at ERROR


async def test_the_body_limit_and_the_replayed_body() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/echo", json={"a": "b"})).json() == {"a": "b"}
        big = await client.post("/echo", json={"a": "b" * 4000})
        assert big.status_code == 413 and big.json()["code"] == "payload-too-large"


def test_strict_json_helpers() -> None:
    for bad in (b"[NaN]", b"[1e999999]", b"[-Infinity]", b"\xff", b"[" * 101 + b"]" * 101, b"{"):
        with pytest.raises(MalformedJson):
            json_input.parse(bad)
    assert json_input.parse(b"[" * 100 + b"]" * 100) is not None
    assert json_input.nul_pointer({"a": [{"b~/c": "x\x00"}]}) == "/a/0/b~0~1c"
    assert json_input.nul_pointer({"ok": ["fine", 1, None]}) is None
