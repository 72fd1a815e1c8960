"""``ctx.http`` as the tenant host builds it: every request goes through the egress guard.

The hostile URLs go through the real client (egress transport → breakers → guarded connection
pool), not just the address policy: literal addresses in every spelling, names that resolve to
loopback at connect time, redirects to refused addresses, hosts the plugin's permissions don't
name. A local server on an operator-allowed loopback port shows what is allowed still works and
keeps its Host header.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from actors.host.services import HostServices
from core.credentials import Credential
from core.egress import EgressNotPermitted, EgressRefused
from core.settings import load_settings
from plugin_sdk.manifest import Manifest
from tests.conftest import TestServices
from tests.core.test_secret_store import add_instance

HOSTILE = [
    "http://127.0.0.1/", "http://127.1/", "http://2130706433/", "http://0x7f000001/",
    "http://0177.0.0.1/", "http://0/", "http://0.0.0.0/", "http://10.0.0.1/",
    "http://172.16.5.4/", "http://192.168.1.1/", "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://0xa9fea9fe/", "http://2852039166/",
    "http://100.100.100.200/latest/meta-data/", "http://169.254.170.2/v2/credentials",
    "http://224.0.0.1/", "http://255.255.255.255/", "http://[::1]/", "http://[::]/",
    "http://[fe80::1]/", "http://[fc00::1]/", "http://[fd00:ec2::254]/",
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:169.254.169.254]/", "http://[::127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/", "https://user:pw@10.1.2.3:8443/x",
    "ftp://example.com/", "file:///etc/passwd",
    # names: the URL check passes them, the connection pool refuses what they resolve to
    "http://localhost/", "http://localhost./", "http://vm/", "https://localhost:8443/",
]  # fmt: skip


# httpx itself refuses to build these URLs: the request never exists
HTTPX_REJECTS = {"http://0177.0.0.1/"}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's interface
        if self.path.startswith("/redirect?to="):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/redirect?to="))
            self.end_headers()
            return
        if self.path == "/auth":
            body = f"auth={self.headers.get('Authorization') or 'none'}".encode()
        else:
            body = f"host={self.headers.get('Host')}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def local_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def svc(
    test_services: TestServices, local_server: int, monkeypatch: pytest.MonkeyPatch
) -> HostServices:
    # the operator allows exactly this loopback port (as the tests allow the simulator's)
    monkeypatch.setenv("DCODER_EGRESS_ALLOW", f"127.0.0.1:{local_server},localhost:{local_server}")
    return HostServices.create(load_settings())


def _manifest(*permissions: str) -> Manifest:
    return Manifest.model_validate({
        "name": "egress-probe", "version": "1.0.0", "sdk_api": ">=1.0,<2",
        "description": "probe", "permissions": list(permissions),
    })  # fmt: skip


def test_table_is_big_enough() -> None:
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize("url", HOSTILE)
async def test_hostile_urls_are_refused_through_ctx_http(svc: HostServices, url: str) -> None:
    async with svc.plugin_http("t1", "i1", _manifest("network:*"), {}) as http:
        if url in HTTPX_REJECTS:
            with pytest.raises(httpx.InvalidURL):
                await http.get(url)
            return
        with pytest.raises(EgressRefused) as info:
            await http.get(url)
    assert "refused" in info.value.detail
    assert svc.egress_refusals["t1/i1"] == info.value.detail  # what the health shows


async def test_allowed_port_works_and_keeps_the_host_header(
    svc: HostServices, local_server: int
) -> None:
    async with svc.plugin_http("t1", "i1", _manifest("network:*"), {}) as http:
        by_address = await http.get(f"http://127.0.0.1:{local_server}/x")
        by_name = await http.get(f"http://localhost:{local_server}/x")
    assert by_address.text == f"host=127.0.0.1:{local_server}"
    assert by_name.text == f"host=localhost:{local_server}"  # connected to the checked address


async def test_allowed_address_on_another_port_is_refused(
    svc: HostServices, local_server: int
) -> None:
    async with svc.plugin_http("t1", "i1", _manifest("network:*"), {}) as http:
        with pytest.raises(EgressRefused, match="loopback"):
            await http.get(f"http://127.0.0.1:{local_server + 1}/")


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:10.0.0.1]/", "http://localhost:1/",
     "http://127.0.0.1:22/", "http://2130706433/", "http://[::1]:{port}/"],
)  # fmt: skip
async def test_each_redirect_hop_is_checked(
    svc: HostServices, local_server: int, target: str
) -> None:
    start = f"http://127.0.0.1:{local_server}/redirect?to={target.format(port=local_server)}"
    async with svc.plugin_http("t1", "i1", _manifest("network:*"), {}) as http:
        with pytest.raises(EgressRefused):
            await http.get(start, follow_redirects=True)
        hop = await http.get(start)  # not followed: the plugin sees the redirect itself
    assert hop.status_code == 302


async def test_hosts_must_be_permitted_by_manifest_or_config(
    svc: HostServices, local_server: int
) -> None:
    site = f"http://127.0.0.1:{local_server}"
    async with svc.plugin_http("t1", "i2", _manifest(), {}) as http:
        with pytest.raises(EgressNotPermitted):
            await http.get(f"{site}/x")
    config = {"base_url": site + "/", "nested": {"urls": ["https://jira.example.com"]}}
    async with svc.plugin_http("t1", "i2", _manifest(), config) as http:
        assert (await http.get(f"{site}/x")).status_code == 200
        with pytest.raises(EgressNotPermitted):
            await http.get("https://api.bitbucket.org/2.0/user")
    wildcard = _manifest("network:*.atlassian.net")
    async with svc.plugin_http("t1", "i2", wildcard, {}) as http:
        with pytest.raises(EgressNotPermitted):
            await http.get("https://atlassian.net.evil.com/")
        with pytest.raises(EgressNotPermitted):
            await http.get(f"{site}/x")


async def test_the_token_goes_to_the_instances_own_hosts_only(
    svc: HostServices, local_server: int
) -> None:
    tenant, instance = f"t-{secrets.token_hex(3)}", f"i-{secrets.token_hex(3)}"
    await add_instance(svc.db, tenant, instance)
    token = Credential("personal_access_token", {"token": "pat-1"})
    await svc.credentials.put(tenant, instance, token)
    manifest = Manifest.model_validate({
        "name": "egress-probe", "version": "1.0.0", "sdk_api": ">=1.0,<2",
        "description": "probe", "permissions": ["network:*"],
        "auth": [{"kind": "personal_access_token"}],
    })  # fmt: skip
    own = f"http://127.0.0.1:{local_server}"
    try:
        async with svc.plugin_http(tenant, instance, manifest, {"base_url": own}) as http:
            assert (await http.get(f"{own}/auth")).text == "auth=Bearer pat-1"
            # reachable ("network:*", allowed port) but not the instance's: no token
            other = await http.get(f"http://localhost:{local_server}/auth")
            assert other.text == "auth=none"
    finally:
        await svc.db.close()
