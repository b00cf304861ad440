"""The one clock: the system's, or one a test holds still and moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from smsbridge.clock import ManualClock, SystemClock

START = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_system_clock_is_aware_utc():
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_manual_clock_stands_still_until_moved():
    clock = ManualClock(START)
    assert clock.now() == clock.now() == START
    clock.advance(minutes=31)
    clock.advance(timedelta(seconds=2))
    assert clock.now() == START + timedelta(minutes=31, seconds=2)
    clock.set(START)
    assert clock.now() == START


def test_manual_clock_keeps_utc_and_refuses_naive_times():
    wib = timezone(timedelta(hours=7))
    clock = ManualClock(datetime(2024, 5, 1, 17, 0, tzinfo=wib))
    assert clock.now() == START and clock.now().tzinfo == UTC
    with pytest.raises(ValueError):
        ManualClock(datetime(2024, 5, 1))
    with pytest.raises(ValueError):
        clock.set(datetime(2024, 5, 1))

