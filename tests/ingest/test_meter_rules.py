"""Meter-read validation: backwards counters, implausible jumps and serial swaps are flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingest.domain.meter_rules import (
    COUNTER_BACKWARDS,
    IMPLAUSIBLE_JUMP,
    SERIAL_SWAP,
    Counter,
    check_read,
    split_counters,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def c(days: float, mono: int, colour: int = 0) -> Counter:
    return Counter(T0 + timedelta(days=days), mono, colour)


@pytest.mark.parametrize(
    ("previous", "new", "limit", "expected"),
    [
        (None, c(0, 100), 1000, []),
        (c(0, 100), c(1, 900), 1000, []),
        (c(0, 100), c(1, 1101), 1000, [IMPLAUSIBLE_JUMP]),
        (c(0, 100), c(10, 9000), 1000, []),
        (c(0, 100), c(0.01, 900), 1000, []),  # bursts within a day are judged per day
        (c(0, 100, 50), c(1, 100, 49), 1000, [COUNTER_BACKWARDS]),
        (c(0, 5000), c(1, 12), 1000, [COUNTER_BACKWARDS]),
        (c(0, 100), c(1, 100), 1000, []),
    ],
)
def test_counter_checks(previous, new, limit, expected):
    assert check_read(previous, new, max_pages_per_day=limit) == expected


def test_serial_swap_is_flagged_whatever_the_counters():
    flags = check_read(c(0, 1), c(1, 2), machine_serial="AB 123", reported_serial="ZZ999")
    assert flags == [SERIAL_SWAP]
    assert check_read(None, c(1, 2), machine_serial="AB 123", reported_serial="ab123") == []


@pytest.mark.parametrize(
    ("counters", "colour_machine", "expected"),
    [
        ((1000, 700, 300), True, (700, 300)),
        ((1000, None, 300), True, (700, 300)),
        ((1000, None, None), True, None),
        ((1000, None, None), False, (1000, 0)),
        ((1000, 990, None), False, (990, 0)),
        ((None, None, None), False, None),
        ((100, None, 300), True, None),
    ],
)
def test_split_counters(counters, colour_machine, expected):
    assert split_counters(*counters, colour_machine=colour_machine) == expected
