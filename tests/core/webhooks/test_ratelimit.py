"""GCRA per tenant: burst, sustained rate, Retry-After, isolation, bounded memory."""

from __future__ import annotations

import math

import pytest

from core.errors import RateLimited
from core.settings import WebhookSettings
from core.webhooks.ratelimit import TenantRateLimiter


def _allowed(limiter: TenantRateLimiter, tenant: str, now: float, n: int) -> int:
    ok = 0
    for _ in range(n):
        try:
            limiter.check(tenant, now)
        except RateLimited:
            continue
        ok += 1
    return ok


def test_burst_then_refusal_with_integer_retry_after() -> None:
    limiter = TenantRateLimiter(rate_per_s=2, burst=5)
    assert _allowed(limiter, "acme", 100.0, 5) == 5
    with pytest.raises(RateLimited) as caught:
        limiter.check("acme", 100.0)
    err = caught.value
    assert err.retry_after_s == 1 and isinstance(err.retry_after_s, int)
    assert err.status == 429 and err.problem()["retry_after"] == 1


def test_retry_after_is_at_least_one_and_covers_the_wait() -> None:
    slow = TenantRateLimiter(rate_per_s=0.1, burst=1)  # one per 10 s
    slow.check("acme", 0.0)
    with pytest.raises(RateLimited) as caught:
        slow.check("acme", 0.5)
    assert caught.value.retry_after_s == math.ceil(10 - 0.5)
    slow.check("acme", 0.5 + caught.value.retry_after_s)  # honouring Retry-After gets in
    fast = TenantRateLimiter(rate_per_s=1000, burst=1)
    fast.check("acme", 0.0)
    with pytest.raises(RateLimited) as caught:
        fast.check("acme", 0.0)
    assert caught.value.retry_after_s == 1


def test_sustained_rate_is_respected_over_time() -> None:
    limiter = TenantRateLimiter(rate_per_s=10, burst=10)
    allowed = sum(_allowed(limiter, "acme", t / 100, 1) for t in range(0, 1000))  # 100/s for 10 s
    assert 10 + 100 - 1 <= allowed <= 10 + 100 + 1  # burst plus rate × duration


def test_refused_requests_do_not_count() -> None:
    limiter = TenantRateLimiter(rate_per_s=1, burst=1)
    limiter.check("acme", 0.0)
    for _ in range(1000):
        with pytest.raises(RateLimited):
            limiter.check("acme", 0.5)
    limiter.check("acme", 1.0)


def test_tenants_are_isolated() -> None:
    limiter = TenantRateLimiter(rate_per_s=1, burst=3)
    assert _allowed(limiter, "noisy", 0.0, 50) == 3
    assert _allowed(limiter, "quiet", 0.0, 3) == 3


def test_memory_is_bounded_and_least_recent_tenants_go_first() -> None:
    limiter = TenantRateLimiter(rate_per_s=1, burst=1, max_tenants=3)
    for tenant in ("a", "b", "c"):
        limiter.check(tenant, 0.0)
    with pytest.raises(RateLimited):
        limiter.check("a", 0.1)  # refreshes a: b is now the least recent
    limiter.check("d", 0.2)
    assert len(limiter) == 3
    limiter.check("b", 0.3)  # b was evicted, so it starts afresh
    with pytest.raises(RateLimited):
        limiter.check("a", 0.4)  # a was kept
    for i in range(10_000):
        limiter.check(f"t{i}", 1.0)
    assert len(limiter) == 3


def test_from_settings_and_invalid_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCODER_WEBHOOKS_RATE_PER_S", "5")
    monkeypatch.setenv("DCODER_WEBHOOKS_BURST", "7")
    limiter = TenantRateLimiter.from_settings(WebhookSettings())
    assert (limiter.rate_per_s, limiter.burst) == (5, 7)
    assert _allowed(limiter, "acme", 0.0, 20) == 7
    with pytest.raises(ValueError, match="rate_per_s"):
        TenantRateLimiter(rate_per_s=0, burst=1)


def test_bad_webhook_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.errors import SettingsError
    from core.settings import load_settings

    monkeypatch.setenv("DCODER_WEBHOOKS_BURST", "0")
    with pytest.raises(SettingsError, match="DCODER_WEBHOOKS_BURST"):
        load_settings()
    monkeypatch.delenv("DCODER_WEBHOOKS_BURST")
    assert load_settings().webhooks.max_body_bytes == 1024 * 1024
