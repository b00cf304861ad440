"""One backoff policy: doubling from a base up to a cap, with optional jitter."""

from __future__ import annotations

import random

import pytest

from smsbridge.retry import RetryPolicy


def test_waits_double_from_the_base_up_to_the_cap():
    outbox = RetryPolicy(base=30.0, cap=3600.0)
    assert [outbox.delay(n) for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert RetryPolicy(1.0, 30.0).delay(1000) == 30.0  # no overflow however long it lasts


def test_no_jitter_is_exact_and_jitter_stays_within_its_fraction():
    assert RetryPolicy(60.0, 3600.0).delay(2, rng=random.Random(1)) == 120.0
    jittered = RetryPolicy(60.0, 3600.0, jitter=0.5)
    rng = random.Random(7)
    waits = [jittered.delay(2, rng=rng) for _ in range(200)]
    assert all(60.0 <= w <= 120.0 for w in waits) and len(set(waits)) > 100
    assert 60.0 <= jittered.delay(2) <= 120.0


@pytest.mark.parametrize("kwargs", [{"base": -1, "cap": 1}, {"base": 1, "cap": -1},
                                    {"base": 1, "cap": 2, "jitter": 1.5}])
def test_nonsense_policies_are_refused(kwargs):
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_attempts_count_from_one():
    with pytest.raises(ValueError):
        RetryPolicy(1.0, 2.0).delay(0)
