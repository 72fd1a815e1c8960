"""The embedded servers require their generated credentials; old open installs are secured in
place on the next start with their data kept. Real servers, real connections."""

from __future__ import annotations

import asyncio
import stat
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import nats
import pytest
from nats.errors import Error as NatsError

from core.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from core.embedded.nats import nats_server_binary
from core.embedded.pg_admin import os_user, pg_bin, run_as
from core.embedded.process import wait_for_port


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"postgres@{parts.hostname}:{parts.port}"))


def _wrong_password(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"postgres:nope@{parts.hostname}:{parts.port}"))


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


async def _pg_value(url: str, query: str) -> object:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


def _pg_refuses(url: str) -> None:
    for bad in (_without_password(url), _wrong_password(url)):
        with pytest.raises(asyncpg.InvalidPasswordError):
            asyncio.run(_pg_value(bad, "SELECT 1"))


def test_postgres_needs_the_generated_password(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", free_port())
    url = server.start()
    try:
        password = server.password_file.read_text().strip()
        assert urlsplit(url).password == password and len(password) >= 40
        assert _private(server.password_file)
        assert asyncio.run(_pg_value(url, "SELECT 1")) == 1
        _pg_refuses(url)
        stored = asyncio.run(
            _pg_value(url, "SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'")
        )
        assert str(stored).startswith("SCRAM-SHA-256$")
        assert server.stop()
        assert server.start() == url  # the same password after a restart
        assert asyncio.run(_pg_value(url, "SELECT 1")) == 1
    finally:
        server.stop()


def _legacy_cluster(server: EmbeddedPostgres) -> tuple[str | None, str]:
    """A cluster as earlier versions made it (trust on loopback), running, with a table."""
    user = os_user()
    server._prepare_dirs(user)
    run_as(
        [pg_bin("initdb"), "-D", str(server.pgdata), "-U", "postgres", "--auth=trust",
         "--encoding=UTF8", "--no-instructions"],
        user, 60,
    )  # fmt: skip
    options = f"-h {server.host} -p {server.port} -k ''"
    run_as(
        [pg_bin("pg_ctl"), "-D", str(server.pgdata), "-l", str(server.log_file), "-o", options,
         "-w", "start"],
        user, 60,
    )  # fmt: skip
    open_url = f"postgresql://postgres@{server.host}:{server.port}/postgres"
    assert asyncio.run(_pg_value(open_url, "SELECT 1")) == 1  # anyone on the host gets in
    asyncio.run(_pg_value(open_url, "CREATE TABLE kept AS SELECT 42 AS v"))
    return user, open_url


@pytest.mark.parametrize("while_running", [True, False], ids=["running", "stopped"])
def test_postgres_made_by_an_earlier_version_is_secured_with_its_data(
    tmp_path: Path, while_running: bool
) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", free_port())
    try:
        _, open_url = _legacy_cluster(server)
        assert not server.password_file.exists()
        if not while_running:
            assert server.stop()
        pid = server.pid
        url = server.start()
        if while_running:
            assert server.pid == pid  # reloaded, not restarted
        assert asyncio.run(_pg_value(url, "SELECT v FROM kept")) == 42
        _pg_refuses(url)
        with pytest.raises(asyncpg.InvalidPasswordError):
            asyncio.run(_pg_value(open_url, "SELECT 1"))
        assert "trust" not in (server.pgdata / "pg_hba.conf").read_text().replace("# ", "")
        assert _private(server.password_file)
    finally:
        server.stop()


def test_postgres_whose_password_file_was_lost_says_so(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", free_port())
    server.start()
    server.stop()
    server.password_file.unlink()
    with pytest.raises(Exception, match="is missing but the cluster"):
        server.start()
    assert not server.password_file.exists()  # no new password that would not match


async def _nats_streams(url: str) -> list[str]:
    nc = await nats.connect(url, allow_reconnect=False, connect_timeout=5, max_reconnect_attempts=0)
    try:
        return [str(s.config.name) for s in await nc.jetstream().streams_info()]
    finally:
        await nc.close()


def _nats_refuses(server: EmbeddedNats) -> None:
    for bad in (
        f"nats://{server.host}:{server.port}",
        f"nats://dcoder:nope@{server.host}:{server.port}",
        f"nats://{server.password}@{server.host}:{server.port}",  # as a token: not accepted
    ):
        with pytest.raises(NatsError, match="Authorization Violation"):
            asyncio.run(_nats_streams(bad))


def test_nats_needs_the_generated_credentials(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats", free_port())
    url = server.start()
    try:
        assert urlsplit(url).password == server.password_file.read_text().strip()
        assert asyncio.run(_nats_streams(url)) == []
        _nats_refuses(server)
        assert _private(server.password_file) and _private(server.config_file)
        assert stat.S_IMODE(server.root.stat().st_mode) == 0o700  # the store is private
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes().decode()
        assert server.password not in cmdline  # `ps` shows no credential
    finally:
        server.stop()


def test_nats_started_without_credentials_is_restarted_with_them(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats", free_port())
    (server.root / "jetstream").mkdir(parents=True)
    subprocess.Popen(  # noqa: S603 - what earlier versions ran: no authorization
        [nats_server_binary(), "-a", server.host, "-p", str(server.port), "-js",
         "-sd", str(server.root / "jetstream"), "-P", str(server.pid_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    assert wait_for_port(server.host, server.port, 15)

    async def add_stream() -> None:
        nc = await nats.connect(f"nats://{server.host}:{server.port}")
        await nc.jetstream().add_stream(name="KEPT", subjects=["kept.>"])
        await nc.close()

    try:
        asyncio.run(add_stream())
        url = server.start()
        assert asyncio.run(_nats_streams(url)) == ["KEPT"]
        _nats_refuses(server)
    finally:
        server.stop()
