"""Session-wide fixtures: backing services, one Ray cluster and one Serve app per test session.

Backing services: ``DCODER_NATS_URL`` / ``DCODER_DATABASE_URL`` when set (a fresh database and a
fresh NATS namespace are made for the session, so concurrent runs never collide; the URLs are used
as given, credentials included), otherwise embedded nats-server and PostgreSQL started for the
session in a temporary directory — the same code ``make run`` uses on a fresh machine, so they
require their generated passwords, which the URLs they return carry. The environment is set
before Ray starts, so every Ray worker (Serve replicas, actors) sees the same settings. No flags
document is made for the test-only plugins: a plugin without a flag is enabled (docs/flags.md).
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

# Offline machine: tools must not wait for the network.
os.environ.setdefault("SEMGREP_ENABLE_VERSION_CHECK", "0")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


OPERATOR_KEY = "op-" + secrets.token_urlsafe(24)


@dataclass
class TestServices:
    """The backing services of this test session."""

    __test__ = False  # not a test class

    nats_url: str
    database_url: str
    namespace: str
    data_dir: Path
    embedded_nats: object | None  # core.embedded.EmbeddedNats when we started it
    embedded_postgres: object | None
    # a loopback port reserved for the simulators (tests/fixtures/oauth_sim.py): the only
    # loopback destination the egress guard lets plugins reach (DCODER_EGRESS_ALLOW)
    sim_socket: socket.socket | None = None
    # a second one for the Jira agent's end-to-end tests (tests/plugins/jira/test_e2e.py), so
    # they and the OAuth tests can run their own simulators in one session
    jira_sim_socket: socket.socket | None = None
    # two more for the per-tenant LLM tests (tests/serve_app/test_llm_api.py): a Jira site and
    # an OpenAI-compatible endpoint, which bind them with SO_REUSEADDR while these hold them
    llm_sockets: tuple[socket.socket, ...] = ()


def _fresh_database(server_url: str, name: str) -> str:
    from core.db import ensure_database

    parts = urlsplit(server_url)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    asyncio.run(ensure_database(url))
    return url


@pytest.fixture(scope="session")
def test_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServices]:
    """NATS and PostgreSQL for the session, exported as DCODER_* environment variables."""
    from core.embedded import EmbeddedNats, EmbeddedPostgres, free_port

    root = Path(tempfile.mkdtemp(prefix="dcoder-test-", dir="/tmp"))
    suffix = secrets.token_hex(3)
    namespace = f"t{suffix}"
    nats = pg = None
    nats_url = os.environ.get("DCODER_NATS_URL")
    if not nats_url:
        nats = EmbeddedNats(root / "nats", free_port())
        nats_url = nats.start()
    server_url = os.environ.get("DCODER_DATABASE_URL")
    if not server_url:
        pg = EmbeddedPostgres(root / "postgres", free_port())
        server_url = pg.start()
    database_url = _fresh_database(server_url, f"dcoder_test_{suffix}")
    sim_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sim_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sim_socket.bind(("127.0.0.1", 0))  # ours for the session: no race with other sessions
    jira_sim_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    jira_sim_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    jira_sim_socket.bind(("127.0.0.1", 0))
    llm_sockets = tuple(socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(2))
    for sock in llm_sockets:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
    data_dir = root / "data"
    data_dir.mkdir()
    os.environ.update(
        DCODER_NATS_URL=nats_url,
        DCODER_DATABASE_URL=database_url,
        DCODER_NATS_NAMESPACE=namespace,
        DCODER_RAY_NAMESPACE=f"dcoder-{namespace}",
        DCODER_DATA_DIR=str(data_dir),
        DCODER_ENV="test",
        DCODER_OPERATOR_KEY=OPERATOR_KEY,
        DCODER_SECRETS_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        DCODER_RAY_TENANT_HOSTS="2",
        # Low enough that a test can trip the per-tenant limit quickly, high enough for the rest.
        DCODER_WEBHOOKS_RATE_PER_S="8",
        DCODER_WEBHOOKS_BURST="30",
        DCODER_EGRESS_ALLOW=f"127.0.0.1:{sim_socket.getsockname()[1]},"
        f"127.0.0.1:{jira_sim_socket.getsockname()[1]},"
        + ",".join(f"127.0.0.1:{sock.getsockname()[1]}" for sock in llm_sockets),
    )
    from core.settings import load_settings
    from serve_app.launcher.backing import migrate_and_declare

    migrate_and_declare(load_settings())
    yield TestServices(
        nats_url, database_url, namespace, data_dir, nats, pg, sim_socket, jira_sim_socket,
        llm_sockets,
    )  # fmt: skip
    sim_socket.close()
    jira_sim_socket.close()
    for sock in llm_sockets:
        sock.close()
    for server in (nats, pg):
        if server is not None:
            server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_address(test_services: TestServices) -> Iterator[str]:
    """Address of the Ray cluster of this test session.

    Uses ``DCODER_RAY_ADDRESS`` when set; otherwise starts one local cluster (2 CPUs, a ``sandbox``
    resource) inside this process, once, and shuts it down at the end of the session.
    """
    import ray

    namespace = os.environ["DCODER_RAY_NAMESPACE"]
    external = os.environ.get("DCODER_RAY_ADDRESS")
    if external:
        ray.init(address=external, namespace=namespace, log_to_driver=False)
        yield external
        ray.shutdown()
        return
    temp_dir = tempfile.mkdtemp(prefix="rayt", dir="/tmp")
    # The data plane `up` starts (HAProxy, confined) by default: Serve's processes read it from
    # the environment they inherit from this process.
    from core.settings import load_settings
    from serve_app.launcher.data_plane import cleanup, serve_env
    from serve_app.launcher.ray_head import RAY_ENV

    os.environ.update(serve_env(load_settings()))
    for name, value in RAY_ENV.items():  # as `up` starts Ray
        os.environ.setdefault(name, value)
    context = ray.init(
        num_cpus=2,
        resources={"sandbox": 2},
        include_dashboard=False,
        namespace=namespace,
        log_to_driver=False,
        _temp_dir=temp_dir,
        _node_ip_address="127.0.0.1",
    )
    yield context.address_info["address"]  # type: ignore[attr-defined]
    ray.shutdown()
    shutil.rmtree(temp_dir, ignore_errors=True)
    cleanup(load_settings())


APP_VERSION = "test-session"
USER_CONFIG = {"log_level": "INFO"}
"""The Ingress's ``user_config`` as configs/serve.yaml gives it."""


def session_app(deployment: Any, args: Any, user_config: dict[str, Any] = USER_CONFIG) -> Any:
    """The session's app, bound with one fixed deployment version.

    Ray Serve 2.60 gives a deployment run from Python a new random version on every
    ``serve.run`` (``Deployment.options(version=...)`` was removed; the client reads the private
    ``_version``), so every redeploy started a new replica (about 35 s here). With the version
    fixed, a redeploy that changes only ``user_config`` (test_admission.py) is reconfigured in
    place on the running replica (``Ingress.reconfigure``), as `up`'s declarative deploys are.
    """
    configured = deployment.options(user_config=user_config)
    configured._version = APP_VERSION
    return configured.bind(args)


@pytest.fixture(scope="session")
def serve_url(ray_address: str) -> Iterator[str]:
    """Base URL of the service's Serve application, deployed once for the session."""
    from ray import serve

    from core.embedded import free_port
    from serve_app.app import AppArgs, Ingress

    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(session_app(Ingress, AppArgs()), name="dcoder", route_prefix="/", blocking=False)
    _wait_ready(f"http://127.0.0.1:{port}")
    yield f"http://127.0.0.1:{port}"
    serve.shutdown()


def _wait_ready(base_url: str, timeout_s: float = 90.0) -> None:
    import time

    import httpx

    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{base_url}/healthz", timeout=2.0)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as err:
            last = repr(err)
        time.sleep(0.25)
    raise TimeoutError(f"Serve app at {base_url} not healthy after {timeout_s}s: {last}")


@pytest.fixture(scope="session")
def db_fetch(test_services: TestServices):
    """Run one read query against the session's database (for asserting stored state)."""
    import asyncpg

    def fetch(query: str, *args: object) -> list:
        async def run() -> list:
            conn = await asyncpg.connect(test_services.database_url)
            try:
                return list(await conn.fetch(query, *args))
            finally:
                await conn.close()

        return asyncio.run(run())

    return fetch
