"""Token refresh against the simulators' real OAuth endpoints, credentials in real PostgreSQL.

Refresh before expiry, one refresh after a 401, single-flight (one refresh for many concurrent
callers, also across two managers standing for two processes), rotating refresh tokens stored,
a revoked refresh token refused, client credentials on the Microsoft identity endpoint.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest

from core.credentials import Credential, CredentialStore
from core.crypto import KEY_BYTES, SecretBox
from core.db import Database
from core.oauth import CredentialsRefused, TokenEndpoint, TokenManager, request_token
from core.oauth_state import pkce_challenge
from plugin_sdk.auth import InstanceAuth
from tests.conftest import TestServices
from tests.core.test_secret_store import add_instance, drop_database, fresh_database
from tests.fixtures.oauth_sim import Sim, running_simulator

CODE = "oauth2_authorization_code"
CLIENT = {"client_id": "demo-client", "client_secret": "demo-secret"}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    with running_simulator(tmp_path_factory.mktemp("sim")) as running:
        yield running


@pytest.fixture
async def store(test_services: TestServices) -> AsyncIterator[CredentialStore]:
    database: Database = await fresh_database(test_services.database_url)
    await add_instance(database, "tenant-a", "inst-a")
    yield CredentialStore(database, SecretBox([os.urandom(KEY_BYTES)]))
    await drop_database(database)


def _endpoints(sim: Sim) -> dict[str, TokenEndpoint]:
    return {CODE: TokenEndpoint(f"{sim.url}/oauth/token", ("read:jira-work", "offline_access"))}


async def _authorized(sim: Sim, store: CredentialStore, expires_in_s: float) -> Credential:
    """The 3LO dance against the simulator; tokens stored expiring in ``expires_in_s``."""
    verifier = "v" * 50
    query = {"client_id": "demo-client", "redirect_uri": "https://svc.example/cb", "state": "s",
             "scope": "read:jira-work offline_access", "code_challenge": pkce_challenge(verifier),
             "code_challenge_method": "S256"}  # fmt: skip
    code, state = sim.consent(f"{sim.url}/authorize?{urlencode(query)}")
    assert state == "s"
    form = {**CLIENT, "grant_type": "authorization_code", "code": code,
            "redirect_uri": "https://svc.example/cb", "code_verifier": verifier}  # fmt: skip
    async with httpx.AsyncClient() as http:
        answer = await request_token(http, _endpoints(sim)[CODE], form)
    values = {**CLIENT, "access_token": answer["access_token"],
              "refresh_token": answer["refresh_token"]}  # fmt: skip
    credential = Credential(CODE, values, datetime.now(UTC) + timedelta(seconds=expires_in_s))
    await store.put("tenant-a", "inst-a", credential)
    return credential


def _manager(sim: Sim, store: CredentialStore, http: httpx.AsyncClient) -> TokenManager:
    return TokenManager(store, "tenant-a", "inst-a", _endpoints(sim), http, refresh_before_s=120)


async def test_refreshes_before_expiry_and_stores_the_rotated_refresh_token(
    sim: Sim, store: CredentialStore
) -> None:
    old = await _authorized(sim, store, expires_in_s=60)  # inside the 120 s refresh window
    async with httpx.AsyncClient() as http:
        manager = _manager(sim, store, http)
        header = await manager.authorization()
        again = await manager.authorization()
    assert manager.refreshes == 1 and header == again
    stored = await store.get("tenant-a", "inst-a")
    assert stored is not None and stored.expires_at is not None
    assert header == f"Bearer {stored.values['access_token']}"
    assert stored.values["access_token"] != old.values["access_token"]
    assert stored.values["refresh_token"] != old.values["refresh_token"]  # rotated and stored
    assert stored.expires_at > datetime.now(UTC) + timedelta(seconds=120)


async def test_a_fresh_token_is_used_without_refresh(sim: Sim, store: CredentialStore) -> None:
    old = await _authorized(sim, store, expires_in_s=3600)
    async with httpx.AsyncClient() as http:
        manager = _manager(sim, store, http)
        assert await manager.authorization() == f"Bearer {old.values['access_token']}"
    assert manager.refreshes == 0


async def test_a_401_refreshes_once_and_retries(sim: Sim, store: CredentialStore) -> None:
    real = await _authorized(sim, store, expires_in_s=3600)
    values = {**real.values, "access_token": "not-a-token"}  # server refuses it: 401
    await store.put("tenant-a", "inst-a", Credential(CODE, values, real.expires_at))
    async with httpx.AsyncClient() as token_http:
        manager = _manager(sim, store, token_http)
        async with httpx.AsyncClient(auth=InstanceAuth(manager)) as http:
            response = await http.get(f"{sim.url}/jira/rest/api/3/myself")
            assert response.status_code == 200, response.text
            assert manager.refreshes == 1
            await http.get(f"{sim.url}/jira/rest/api/3/myself")
    assert manager.refreshes == 1  # the new token is kept


async def test_a_401_after_refresh_is_returned_not_looped(sim: Sim, store: CredentialStore) -> None:
    await _authorized(sim, store, expires_in_s=3600)
    async with httpx.AsyncClient() as token_http:
        manager = _manager(sim, store, token_http)
        async with httpx.AsyncClient(auth=InstanceAuth(manager)) as http:
            response = await http.get(
                f"{sim.url}/graph/v1.0/sites/root"
            )  # refuses Atlassian tokens
    assert response.status_code == 401
    assert manager.refreshes == 1


async def test_concurrent_callers_refresh_once_even_across_processes(
    sim: Sim, store: CredentialStore
) -> None:
    await _authorized(sim, store, expires_in_s=10)
    async with httpx.AsyncClient() as http:
        one, two = _manager(sim, store, http), _manager(sim, store, http)  # two "processes"
        headers = await asyncio.gather(*(m.authorization() for m in [one, two] * 10))
    assert one.refreshes + two.refreshes == 1  # the FOR UPDATE lock + re-read
    assert len(set(headers)) == 1


async def test_a_revoked_refresh_token_is_refused(sim: Sim, store: CredentialStore) -> None:
    old = await _authorized(sim, store, expires_in_s=10)
    sim.revoke(old.values["refresh_token"])
    async with httpx.AsyncClient() as http:
        manager = _manager(sim, store, http)
        with pytest.raises(CredentialsRefused, match="invalid_grant") as info:
            await manager.authorization()
    assert info.value.code == "credentials-refused"
    assert await store.get("tenant-a", "inst-a") == old  # nothing half-written


async def test_client_credentials_against_microsoft_identity(
    sim: Sim, store: CredentialStore
) -> None:
    kind = "oauth2_client_credentials"
    await store.put("tenant-a", "inst-a", Credential(kind, dict(CLIENT)))
    token_url = f"{sim.url}/login/contoso/oauth2/v2.0/token"
    endpoints = {kind: TokenEndpoint(token_url, ("https://graph.microsoft.com/.default",))}
    async with httpx.AsyncClient() as token_http:
        manager = TokenManager(store, "tenant-a", "inst-a", endpoints, token_http)
        async with httpx.AsyncClient(auth=InstanceAuth(manager)) as http:
            response = await http.get(f"{sim.url}/graph/v1.0/sites/root")
        anonymous = await token_http.get(f"{sim.url}/graph/v1.0/sites/root")
    # the token is accepted (no such site: 404); without it Graph answers 401
    assert response.status_code == 404 and "itemNotFound" in response.text
    assert anonymous.status_code == 401
    assert manager.refreshes == 1
    stored = await store.get("tenant-a", "inst-a")
    assert stored is not None and stored.values["access_token"] and stored.expires_at


async def test_api_token_and_pat_headers(sim: Sim, store: CredentialStore) -> None:
    await store.put("tenant-a", "inst-a", Credential(
        "api_token", {"email": sim.config.user_email, "token": sim.config.api_token}))  # fmt: skip
    async with httpx.AsyncClient() as token_http:
        manager = TokenManager(store, "tenant-a", "inst-a", {}, token_http)
        async with httpx.AsyncClient(auth=InstanceAuth(manager)) as http:
            response = await http.get(f"{sim.url}/jira/rest/api/3/myself")
            assert response.status_code == 200, response.text
            await store.put(
                "tenant-a", "inst-a", Credential("api_token", {"email": "x", "token": "y"})
            )
            manager.invalidate()
            refused = await http.get(f"{sim.url}/jira/rest/api/3/myself")
    assert refused.status_code == 401 and manager.refreshes == 0
