"""The Retry-After window of shed webhooks: wider every second shedding lasts, narrower after.

The steering through the real HAProxy and replica is in test_haproxy_queue.py; this is the rule.
"""

from __future__ import annotations

import pytest

from serve_app.retry_window import GROWTH, REFUSED_SHARE, SHRINK, RetryWindow


def test_at_rest_the_window_is_the_configured_spread() -> None:
    window = RetryWindow(least_s=3, most_s=120)
    assert window.seconds == 3
    assert window.update(arrived=500, refused=0, elapsed_s=1.0) == 3
    assert window.update(arrived=0, refused=0, elapsed_s=60.0) == 3  # idle: stays


def test_every_overloaded_second_widens_it_up_to_the_most() -> None:
    window = RetryWindow(least_s=3, most_s=120)
    widths = [window.update(arrived=1000, refused=600, elapsed_s=1.0) for _ in range(12)]
    assert widths[:4] == [round(3 * GROWTH), round(3 * GROWTH**2), round(3 * GROWTH**3),
                          round(3 * GROWTH**4)]  # fmt: skip
    assert widths == sorted(widths) and widths[-1] == 120  # never past the most


def test_a_late_step_counts_as_one_second_of_overload_but_all_its_calm_seconds() -> None:
    window = RetryWindow(least_s=3, most_s=120)
    assert window.update(arrived=100, refused=100, elapsed_s=30.0) == round(3 * GROWTH)
    window.spread = 100.0
    assert window.update(arrived=100, refused=0, elapsed_s=5.0) == round(100 * SHRINK**5)
    assert window.update(arrived=0, refused=0, elapsed_s=60.0) == 3  # back to rest, not below


@pytest.mark.parametrize(("refused", "widens"), [(0, False), (20, False), (21, True)])
def test_only_more_than_a_small_share_refused_is_overload(refused: int, widens: bool) -> None:
    assert REFUSED_SHARE == 0.02
    window = RetryWindow(least_s=3, most_s=120)
    assert (window.update(arrived=1000, refused=refused, elapsed_s=1.0) > 3) is widens


def test_a_zero_spread_can_widen_and_a_most_below_the_least_is_the_least() -> None:
    window = RetryWindow(least_s=0, most_s=10)
    assert window.update(arrived=10, refused=10, elapsed_s=1.0) == round(GROWTH)
    assert RetryWindow(least_s=5, most_s=2).most_s == 5
