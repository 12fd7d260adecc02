"""Full-jitter exponential backoff: bounded spread, growth, cap, and Retry-After as a floor."""

import random
from datetime import UTC, datetime, timedelta

from agent.backoff import MAX_RETRY_AFTER_S, Backoff

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_waits_stay_within_the_growing_full_jitter_window_and_the_cap():
    backoff = Backoff(base_s=10, cap_s=300, rng=random.Random(7))
    waits = [backoff.failed(T0).total_seconds() for _ in range(12)]
    for failures, wait in enumerate(waits, start=1):
        assert 0 <= wait <= min(300, 10 * 2**failures)
    assert max(waits[6:]) > 100, "later failures spread up to the cap"


def test_jitter_spreads_a_fleet_of_agents():
    first_waits = {
        round(Backoff(rng=random.Random(seed)).failed(T0).total_seconds(), 1) for seed in range(50)
    }
    assert len(first_waits) > 40, "fifty agents failing together retry at fifty moments"


def test_retry_after_is_a_floor_and_is_bounded():
    backoff = Backoff(base_s=1, cap_s=2, rng=random.Random(1))
    assert backoff.failed(T0, retry_after_s=120) == timedelta(seconds=120)
    assert not backoff.ready(T0 + timedelta(seconds=119))
    assert backoff.ready(T0 + timedelta(seconds=120))
    assert backoff.failed(T0, retry_after_s=10**9).total_seconds() == MAX_RETRY_AFTER_S


def test_success_resets():
    backoff = Backoff(rng=random.Random(3))
    backoff.failed(T0)
    backoff.failed(T0)
    backoff.succeeded()
    assert backoff.failures == 0
    assert backoff.ready(T0)
