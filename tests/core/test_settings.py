"""Settings come from DCODER_* variables, nested per concern, with readable errors."""

from __future__ import annotations

import pytest

from core.errors import SettingsError
from core.settings import load_settings


def test_nested_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCODER_NATS_URL", "nats://nats.example:4222")
    monkeypatch.setenv("DCODER_DATABASE_URL", "postgresql://u@db.example/x")
    monkeypatch.setenv("DCODER_RAY_ADDRESS", "ray-head:6379")
    monkeypatch.setenv("DCODER_HTTP_PORT", "9000")
    settings = load_settings()
    assert settings.nats.url == "nats://nats.example:4222"
    assert settings.database.url == "postgresql://u@db.example/x"
    assert settings.ray.address == "ray-head:6379"
    assert settings.http.port == 9000


def test_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCODER_HTTP_PORT", "eighty")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "DCODER_HTTP_PORT" in message
    assert "'eighty'" in message


def test_root_level_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCODER_LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError, match="DCODER_LOG_LEVEL"):
        load_settings()


def test_secrets_are_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCODER_OPERATOR_KEY", "super-secret-operator-key")
    settings = load_settings()
    assert "super-secret-operator-key" not in repr(settings)
    assert settings.security.operator_key is not None
