"""The relay's dispatch pacing: halves under ingest pressure, grows back, never stops draining."""

from __future__ import annotations

from actors.pacing import FRESH_S, REPORT_EVERY_S, Pacer, PressureReport


def _report(replica: str, latency_ms: float, inflight: int = 0, limit: int = 64) -> bytes:
    report = PressureReport(replica, latency_ms=latency_ms)
    return report.payload(inflight, limit)


def test_pressure_halves_the_cap_down_to_the_floor_then_it_grows_back() -> None:
    pacer = Pacer(ceiling=64, floor=4, yield_ms=50.0, step=4)
    assert pacer.next_cap(now=0.0) == 64  # nobody reported: full speed
    pacer.heard(_report("a", latency_ms=120.0), now=0.0)
    assert [pacer.next_cap(now=0.1) for _ in range(6)] == [32, 16, 8, 4, 4, 4]
    assert pacer.paced == 4
    pacer.heard(_report("a", latency_ms=5.0), now=0.2)  # the replica recovered
    assert [pacer.next_cap(now=0.3) for _ in range(3)] == [8, 12, 16]


def test_in_flight_near_the_admission_bound_is_pressure_too() -> None:
    pacer = Pacer(ceiling=64)
    pacer.heard(_report("a", latency_ms=1.0, inflight=32, limit=64), now=0.0)
    assert pacer.next_cap(now=0.0) == 32
    pacer.heard(_report("a", latency_ms=1.0, inflight=31, limit=64), now=0.0)
    assert pacer.next_cap(now=0.0) == 36


def test_any_pressed_replica_counts_and_stale_reports_are_ignored() -> None:
    pacer = Pacer(ceiling=64)
    pacer.heard(_report("calm", latency_ms=2.0), now=0.0)
    pacer.heard(_report("busy", latency_ms=80.0), now=0.0)
    assert pacer.pressed(now=0.5)
    assert not pacer.pressed(now=FRESH_S + 0.1)  # a replica that stopped reporting is idle


def test_malformed_reports_are_ignored() -> None:
    pacer = Pacer(ceiling=64)
    for data in (b"not json", b"{}", b"[1]", b'{"replica": "a", "latency_ms": "x"}'):
        pacer.heard(data, now=0.0)
    assert pacer.next_cap(now=0.0) == 64


def test_a_replica_reports_at_most_every_quarter_second_with_a_moving_average() -> None:
    report = PressureReport("r")
    assert report.due(10.0)
    assert not report.due(10.0 + REPORT_EVERY_S / 2)
    assert report.due(10.0 + REPORT_EVERY_S)
    for _ in range(50):
        report.observe(0.1)
    assert 99.0 < report.latency_ms <= 100.0
