"""Egress address policy: which destinations an outbound plugin request may reach.

This module holds the decision only (no transport yet): ``check_url`` parses a URL's host,
including the decimal/octal/hex IPv4 spellings that libc resolvers accept, and ``check_address``
refuses every address that is not globally routable: loopback, private, link-local, CGNAT
(100.64.0.0/10), multicast, unspecified, reserved, documentation ranges and cloud metadata
addresses, for IPv4 and IPv6, looking through IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96),
6to4 and Teredo IPv6 forms to the embedded IPv4 address. ``resolve_checked`` resolves a DNS name
and checks every address it returns, so a caller can pin the connection to the checked address.

An operator allow-list (hosts and CIDRs) overrides the refusal for the listed destinations.

An allow-list entry may name a port (``127.0.0.1:8900``, ``sim.local:8900``): the exception then
covers that port only. ``core.egress_transport`` wires this policy into every plugin's HTTP client
(``DCODER_EGRESS_ALLOW``), checking each redirect hop and the address it connects to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from core.errors import PermanentError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Addresses cloud providers serve instance metadata (and credentials) on.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (classic)
        "fd00:ec2::254",  # AWS IMDS over IPv6
    )
)

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class EgressRefused(PermanentError):
    """An outbound request was aimed at an address plugins may not reach."""

    code = "egress-refused"
    status = 403
    title = "Outbound request refused"


class EgressNotPermitted(EgressRefused):
    """The plugin's manifest ``permissions`` (and its instance config) do not name the host."""

    code = "egress-not-permitted"
    title = "Outbound host not permitted"


def _split_port(entry: str) -> tuple[str, int | None]:
    """``"h:8900"`` / ``"[::1]:8900"`` → (host, port); a bare host or IPv6 address → (it, None)."""
    if entry.startswith("[") and "]:" in entry:
        host, _, port = entry[1:].partition("]:")
        return host, int(port) if port.isdigit() else None
    host, sep, port = entry.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return entry.strip("[]"), None


def _norm(host: str) -> str:
    return host.lower().rstrip(".")


@dataclass(frozen=True)
class AllowList:
    """Operator exceptions to the refusal: host names and address ranges, on any or one port."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default_factory=tuple)
    endpoints: frozenset[tuple[str, int]] = frozenset()  # (host or address, port)

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """``["127.0.0.1/32", "sim.local", "127.0.0.1:8900"]`` → allow-list.

        A CIDR or address is a network, ``host:port`` one endpoint, anything else a host name.
        """
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        endpoints: set[tuple[str, int]] = set()
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            host, port = _split_port(entry)
            literal = parse_host_address(host)
            name = str(literal) if literal is not None else _norm(host)
            if port is None:
                hosts.add(name)
            else:
                endpoints.add((name, port))
        return cls(frozenset(hosts), tuple(networks), frozenset(endpoints))

    def allows_host(self, host: str, port: int | None = None) -> bool:
        """Whether ``host`` (a name) is listed, for any port or for ``port``."""
        name = _norm(host)
        return name in self.hosts or (port is not None and (name, port) in self.endpoints)

    def allows_address(self, address: IPAddress, port: int | None = None) -> bool:
        """Whether ``address`` is in a listed network, or listed with ``port``."""
        if port is not None and (str(address), port) in self.endpoints:
            return True
        return any(address.version == n.version and address in n for n in self.networks)


NO_EXCEPTIONS = AllowList()


def parse_host_address(host: str) -> IPAddress | None:
    """The IP address ``host`` spells, or ``None`` for a DNS name.

    Accepts what libc's ``inet_aton`` accepts too ("2130706433", "0x7f.1", "0177.0.0.1"), because
    a resolver would turn those into addresses.
    """
    text = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text and all(c in "0123456789abcdefxABCDEFX." for c in text) and text[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or address in _NAT64_LOCAL:
        return ipaddress.IPv4Address(address.packed[-4:])
    packed = address.packed
    if packed[:12] == bytes(12) and int.from_bytes(packed[12:], "big") > 1:
        return ipaddress.IPv4Address(packed[12:])  # deprecated IPv4-compatible ::a.b.c.d
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` is refused, or ``None`` when it is globally routable."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            why = refusal_reason(inner)
            return f"an IPv6 form of {inner}, {why}" if why else None
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("carrier-grade NAT (100.64.0.0/10)", address.version == 4 and address in _CGNAT),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"a {name} address"
    return None


def check_address(
    address: IPAddress, allow: AllowList = NO_EXCEPTIONS, port: int | None = None
) -> None:
    """Raise ``EgressRefused`` unless ``address`` is global or on the allow-list."""
    if allow.allows_address(address, port):
        return
    why = refusal_reason(address)
    if why:
        raise EgressRefused(
            f"outbound request to {address} refused: it is {why}", address=str(address)
        )


def check_url(url: str, allow: AllowList = NO_EXCEPTIONS) -> IPAddress | None:
    """Check a URL's host before any resolution; the literal address, or ``None`` for a name."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise EgressRefused(f"outbound request to {url!r} refused: scheme must be http or https")
    host = parts.hostname
    if not host:
        raise EgressRefused(f"outbound request to {url!r} refused: it has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as err:
        raise EgressRefused(f"outbound request to {url!r} refused: bad port") from err
    if allow.allows_host(host, port):
        return None
    address = parse_host_address(host)
    if address is not None:
        check_address(address, allow, port)
    return address


async def resolve_checked(host: str, port: int, allow: AllowList = NO_EXCEPTIONS) -> IPAddress:
    """Resolve ``host`` and check every address; the first one, to pin the connection to."""
    literal = parse_host_address(host)
    if literal is not None:
        check_address(literal, allow, port)
        return literal
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise EgressRefused(
            f"outbound request to {host!r} refused: it does not resolve ({exc})"
        ) from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if allow.allows_host(host, port):
        return addresses[0]
    for address in addresses:
        check_address(address, allow, port)
    return addresses[0]
