"""The egress address policy refuses every non-global destination, in every spelling."""

from __future__ import annotations

import ipaddress

import pytest

from core.egress import AllowList, EgressRefused, check_url, resolve_checked

HOSTILE_URLS = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",  # decimal 127.0.0.1
    "http://0x7f000001/",  # hex
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",  # octal
    "http://017700000001/",
    "http://0/",
    "http://0.0.0.0/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # CGNAT
    "http://100.127.255.254/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://100.100.100.200/latest/meta-data/",
    "http://0xa9fea9fe/",  # hex metadata
    "http://2852039166/",  # decimal metadata
    "http://169.254.1.1/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",
    "http://192.0.2.10/",  # documentation
    "http://198.18.0.1/",  # benchmarking
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[::10.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of metadata
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[2002:c0a8:101::]/",  # 6to4 of 192.168.1.1
    "http://[2001:db8::1]/",  # documentation
    "https://user:pw@10.1.2.3:8443/x",
    "ftp://example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_",
    "http:///nohost",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_hostile_urls_are_refused(url: str) -> None:
    with pytest.raises(EgressRefused) as info:
        check_url(url)
    assert info.value.status == 403
    assert "refused" in info.value.detail


def test_table_is_big_enough() -> None:
    assert len(HOSTILE_URLS) >= 30


@pytest.mark.parametrize(
    "url",
    [
        "https://api.atlassian.com/",
        "https://8.8.8.8/",
        "http://[2606:4700:4700::1111]/",
        "http://[::ffff:8.8.8.8]/",
        "http://[64:ff9b::808:808]/",
        "https://example.com/",  # names are checked at resolution, not here
    ],
)
def test_public_destinations_pass(url: str) -> None:
    check_url(url)


def test_metadata_refusal_names_the_reason() -> None:
    with pytest.raises(EgressRefused, match="cloud metadata"):
        check_url("http://169.254.169.254/")
    with pytest.raises(EgressRefused, match="IPv6 form of 127.0.0.1"):
        check_url("http://[::ffff:127.0.0.1]/")


def test_allow_list_admits_listed_networks_and_hosts_only() -> None:
    allow = AllowList.parse(["127.0.0.1/32", "sim.internal", " "])
    assert check_url("http://127.0.0.1:8081/", allow) == ipaddress.ip_address("127.0.0.1")
    check_url("http://sim.internal/", allow)
    with pytest.raises(EgressRefused):
        check_url("http://127.0.0.2/", allow)
    with pytest.raises(EgressRefused):
        check_url("http://169.254.169.254/", allow)


async def test_names_resolving_to_loopback_are_refused() -> None:
    with pytest.raises(EgressRefused, match="loopback"):
        await resolve_checked("localhost", 80)


async def test_resolution_returns_the_checked_address_to_pin() -> None:
    allow = AllowList.parse(["127.0.0.0/8", "::1/128"])
    pinned = await resolve_checked("localhost", 80, allow)
    assert pinned.is_loopback


async def test_unresolvable_names_are_refused() -> None:
    with pytest.raises(EgressRefused, match="does not resolve"):
        await resolve_checked("no-such-host.invalid", 80)


def test_allow_list_entries_with_a_port_allow_that_port_only() -> None:
    allow = AllowList.parse(["127.0.0.1:8900", "[::1]:8900", "sim.local:8900", "2130706433:81"])
    check_url("http://127.0.0.1:8900/", allow)
    check_url("http://[::1]:8900/", allow)
    check_url("http://sim.local:8900/", allow)
    check_url("http://127.0.0.1:81/", allow)  # the decimal spelling names the same address
    for url in ("http://127.0.0.1:8901/", "http://127.0.0.1/", "http://[::1]:80/",
                "http://0x7f000001:8901/", "https://127.0.0.1:8900:1/"):  # fmt: skip
        with pytest.raises(EgressRefused):
            check_url(url, allow)
    assert not allow.allows_host("sim.local") and allow.allows_host("SIM.local.", 8900)


async def test_resolution_honours_port_entries() -> None:
    allow = AllowList.parse(["localhost:8900"])
    assert (await resolve_checked("localhost", 8900, allow)).is_loopback
    with pytest.raises(EgressRefused, match="loopback"):
        await resolve_checked("localhost", 8901, allow)
