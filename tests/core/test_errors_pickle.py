"""Every error survives pickling (Ray carries what a remote method raises to the caller)."""

from __future__ import annotations

import pickle

import pytest

from core import errors


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


EXAMPLES: list[errors.IntegrationsError] = [
    errors.CircuitOpen("https://jira.example.com", 12.3),
    errors.RateLimited("slow down", 7),
    errors.PluginValidationError("acme", "no manifest"),
    errors.ValidationFailed("bad", [{"loc": ["body", "name"], "msg": "required"}]),
    errors.NotFound("tenant 'x' not found"),
]


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_round_trip_keeps_type_detail_and_fields(error: errors.IntegrationsError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.detail == error.detail
    assert copy.problem() == error.problem()
    assert copy.__dict__ == error.__dict__


def test_circuit_open_keeps_its_endpoint_and_retry() -> None:
    copy = pickle.loads(pickle.dumps(errors.CircuitOpen("https://api.example.com", 3.2)))
    assert copy.endpoint == "https://api.example.com"
    assert copy.retry_after_s == 3.2
    assert copy.problem()["retry_after"] == 4


def test_every_error_class_is_covered_by_the_generic_rule() -> None:
    # Every core error, whatever its constructor, goes through IntegrationsError.__reduce__
    # (plugins' own subclasses may add theirs; other tests may have imported some).
    for cls in _subclasses(errors.IntegrationsError):
        if cls.__module__ == errors.__name__:
            assert cls.__reduce__ is errors.IntegrationsError.__reduce__, cls
