"""The guarded connection pool connects to the address it checked and keeps the name for TLS.

A TLS server whose certificate names only ``localhost`` (no IP address) is reached by name: the
pool resolves and checks ``localhost``, connects to its loopback address (allowed for this port
only) and still verifies the certificate against the name, so SNI and ``Host`` stay the name.
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.egress import AllowList, EgressRefused
from core.egress_transport import EgressTransport, GuardedHTTPTransport, HostPermissions


def _cert(name: str, issuer_key: Any, subject_key: Any, issuer: x509.Name, ca: bool) -> Any:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer)
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    root = tmp_path_factory.mktemp("tls")
    ca_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = _cert("test CA", ca_key, ca_key, ca_name, ca=True)
    leaf = _cert("localhost", ca_key, leaf_key, ca_name, ca=False)
    (root / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (root / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (root / "key.pem").write_bytes(leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's interface
            body = f"host={self.headers.get('Host')}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(root / "leaf.pem", root / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], root / "ca.pem"
    server.shutdown()


def _client(port: int, ca: Path) -> httpx.AsyncClient:
    allow = AllowList.parse([f"localhost:{port}", f"127.0.0.1:{port}"])
    trust = ssl.create_default_context(cafile=str(ca))
    pool = GuardedHTTPTransport(allow, ssl_context=trust)
    transport = EgressTransport(pool, allow, HostPermissions(frozenset({"*"})))
    return httpx.AsyncClient(transport=transport, trust_env=False)


async def test_tls_by_name_verifies_against_the_name(tls_server: tuple[int, Path]) -> None:
    port, ca = tls_server
    async with _client(port, ca) as http:
        response = await http.get(f"https://localhost:{port}/")
        assert response.text == f"host=localhost:{port}"
        # the same server by address: the certificate names no address, so TLS fails — the
        # name above was verified, not the address the pool connected to
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED|IP address"):
            await http.get(f"https://127.0.0.1:{port}/")


async def test_other_ports_of_the_name_are_refused_at_connect(
    tls_server: tuple[int, Path],
) -> None:
    port, ca = tls_server
    async with _client(port, ca) as http:
        with pytest.raises(EgressRefused, match="loopback"):
            await http.get(f"https://localhost:{port + 1}/")
