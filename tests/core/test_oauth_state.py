"""The OAuth state: signed, bound to tenant + instance, expiring, single-use (on PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from core.crypto import KEY_BYTES
from core.db import Database
from core.oauth_state import (
    OAuthStateInvalid,
    OAuthStateStore,
    OAuthStateUsed,
    StateSigner,
    pkce_challenge,
)
from tests.conftest import TestServices
from tests.core.test_secret_store import add_instance, drop_database, fresh_database


@pytest.fixture
async def db(test_services: TestServices) -> AsyncIterator[Database]:
    database = await fresh_database(test_services.database_url)
    await add_instance(database, "tenant-a", "inst-a")
    yield database
    await drop_database(database)


def test_signed_state_round_trips_with_a_derived_pkce_verifier() -> None:
    signer = StateSigner([os.urandom(KEY_BYTES)])
    text, state = signer.issue("tenant-a", "inst-a", 600)
    verified = signer.verify(text)
    assert (verified.tenant_id, verified.instance_id) == ("tenant-a", "inst-a")
    assert verified.verifier == state.verifier and 43 <= len(state.verifier) <= 128
    assert len(pkce_challenge(state.verifier)) == 43
    assert signer.issue("tenant-a", "inst-a", 600)[1].verifier != state.verifier


@pytest.mark.parametrize("mangle", [
    lambda t: t + "x", lambda t: "x" + t, lambda t: t.split(".")[0], lambda t: "",
    lambda t: "e30." + t.split(".")[1],  # someone else's payload ({}) with this signature
])  # fmt: skip
def test_tampered_states_are_refused(mangle: object) -> None:
    signer = StateSigner([os.urandom(KEY_BYTES)])
    text, _ = signer.issue("tenant-a", "inst-a", 600)
    with pytest.raises(OAuthStateInvalid):
        signer.verify(mangle(text))  # type: ignore[operator]


def test_expired_and_foreign_states_are_refused_rotation_keeps_flows() -> None:
    old, new = os.urandom(KEY_BYTES), os.urandom(KEY_BYTES)
    text, _ = StateSigner([old]).issue("tenant-a", "inst-a", 600)
    assert StateSigner([new, old]).verify(text).tenant_id == "tenant-a"  # key rotated meanwhile
    with pytest.raises(OAuthStateInvalid, match="not one this service issued"):
        StateSigner([new]).verify(text)
    expired, _ = StateSigner([old]).issue("tenant-a", "inst-a", -1)
    with pytest.raises(OAuthStateInvalid, match="expired"):
        StateSigner([old]).verify(expired)


async def test_a_state_is_spent_once(db: Database) -> None:
    signer, store = StateSigner([os.urandom(KEY_BYTES)]), OAuthStateStore(db)
    text, state = signer.issue("tenant-a", "inst-a", 600)
    with pytest.raises(OAuthStateInvalid):
        await store.spend(state)  # never recorded
    await store.record(state, "https://svc.example/v1/oauth/callback")
    assert await store.spend(signer.verify(text)) == "https://svc.example/v1/oauth/callback"
    with pytest.raises(OAuthStateUsed) as info:
        await store.spend(signer.verify(text))
    assert info.value.status == 409
