"""Egress address policy: which destinations an outbound plugin request may reach.

This module holds the decision only (no transport yet): ``check_url`` parses a URL's host,
including the decimal/octal/hex IPv4 spellings that libc resolvers accept, and ``check_address``
refuses every address that is not globally routable: loopback, private, link-local, CGNAT
(100.64.0.0/10), multicast, unspecified, reserved, documentation ranges and cloud metadata
addresses, for IPv4 and IPv6, looking through IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96),
6to4 and Teredo IPv6 forms to the embedded IPv4 address. ``resolve_checked`` resolves a DNS name
and checks every address it returns, so a caller can pin the connection to the checked address.

An operator allow-list (hosts and CIDRs) overrides the refusal for the listed destinations.

Not yet done: the httpx transport in ``PluginContext`` does not call this module yet, redirects are
not checked hop by hop and there is no ``DCODER_EGRESS_ALLOW`` setting; see issue 15, section 2.
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


@dataclass(frozen=True)
class AllowList:
    """Operator exceptions to the refusal: exact host names and address ranges."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """``["127.0.0.1/32", "sim.local"]`` → allow-list; a CIDR or address is a network."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
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


def check_address(address: IPAddress, allow: AllowList = NO_EXCEPTIONS) -> None:
    """Raise ``EgressRefused`` unless ``address`` is global or on the allow-list."""
    if allow.allows_address(address):
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
    if allow.allows_host(host):
        return None
    address = parse_host_address(host)
    if address is not None:
        check_address(address, allow)
    return address


async def resolve_checked(host: str, port: int, allow: AllowList = NO_EXCEPTIONS) -> IPAddress:
    """Resolve ``host`` and check every address; the first one, to pin the connection to."""
    literal = parse_host_address(host)
    if literal is not None:
        check_address(literal, allow)
        return literal
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise EgressRefused(
            f"outbound request to {host!r} refused: it does not resolve ({exc})"
        ) from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if allow.allows_host(host):
        return addresses[0]
    for address in addresses:
        check_address(address, allow)
    return addresses[0]
