"""The relay's dispatch pacing: waits longer between fetches while ingest is under pressure, no
longer than a second (the backlog keeps draining), and not at all once the pressure is gone."""

from __future__ import annotations

from actors.pacing import FRESH_S, REPORT_EVERY_S, Pacer, PressureReport


def _report(replica: str, latency_ms: float, inflight: int = 0, limit: int = 64) -> bytes:
    report = PressureReport(replica, latency_ms=latency_ms)
    return report.payload(inflight, limit)


def test_pressure_doubles_the_pause_up_to_the_most_then_it_is_gone() -> None:
    pacer = Pacer(yield_ms=50.0, least_pause_s=0.05, most_pause_s=1.0)
    assert pacer.next_pause(now=0.0) == 0.0  # nobody reported: full speed
    pacer.heard(_report("a", latency_ms=120.0), now=0.0)
    pauses = [pacer.next_pause(now=0.1) for _ in range(7)]
    assert pauses == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]  # never longer: the backlog drains
    assert pacer.paced == 7
    pacer.heard(_report("a", latency_ms=5.0), now=0.2)  # the replica recovered
    assert pacer.next_pause(now=0.3) == 0.0


def test_in_flight_near_the_admission_bound_is_pressure_too() -> None:
    pacer = Pacer()
    pacer.heard(_report("a", latency_ms=1.0, inflight=32, limit=64), now=0.0)
    assert pacer.next_pause(now=0.0) == pacer.least_pause_s
    pacer.heard(_report("a", latency_ms=1.0, inflight=31, limit=64), now=0.0)
    assert pacer.next_pause(now=0.0) == 0.0


def test_any_pressed_replica_counts_and_stale_reports_are_ignored() -> None:
    pacer = Pacer()
    pacer.heard(_report("calm", latency_ms=2.0), now=0.0)
    pacer.heard(_report("busy", latency_ms=80.0), now=0.0)
    assert pacer.pressed(now=0.5)
    assert not pacer.pressed(now=FRESH_S + 0.1)  # a replica that stopped reporting is idle


def test_malformed_reports_are_ignored() -> None:
    pacer = Pacer()
    for data in (b"not json", b"{}", b"[1]", b'{"replica": "a", "latency_ms": "x"}'):
        pacer.heard(data, now=0.0)
    assert pacer.next_pause(now=0.0) == 0.0


def test_a_replica_reports_at_most_every_quarter_second_with_a_moving_average() -> None:
    report = PressureReport("r")
    assert report.due(10.0)
    assert not report.due(10.0 + REPORT_EVERY_S / 2)
    assert report.due(10.0 + REPORT_EVERY_S)
    for _ in range(50):
        report.observe(0.1)
    assert 99.0 < report.latency_ms <= 100.0
