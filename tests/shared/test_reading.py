"""The reading contract: percent and state rules, and refusal of readings that break it."""

from datetime import UTC, datetime

import pytest

from shared.reading import (
    Counters,
    Device,
    Reading,
    ReadingError,
    Supply,
    supply_percent,
    supply_state,
)


@pytest.mark.parametrize(
    ("level", "maximum", "percent", "state"),
    [
        (76, 100, 76, "ok"),
        (10, 100, 10, "low"),
        (0, 100, 0, "empty"),
        (450, 300, 100, "ok"),  # clamped
        (1, 3, 33, "ok"),
        (-3, 100, None, "some_remaining"),
        (-3, -2, None, "some_remaining"),
        (-2, 100, None, "unknown"),
        (-1, 100, None, "unknown"),
        (50, 0, None, "unknown"),
        (50, -2, None, "unknown"),
        (None, None, None, "unknown"),
    ],
)
def test_percent_and_state_follow_the_contract(level, maximum, percent, state):
    assert supply_percent(level, maximum) == percent
    assert supply_state(level, maximum) == state
    supply = Supply.from_raw("toner", "black", "Black", level, maximum)
    assert (supply.percent, supply.state) == (percent, state)


def _valid():
    return Reading(
        address="10.0.0.5:161",
        observed_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        device=Device(),
        counters=Counters(),
        supplies=(),
        alerts=(),
    ).to_dict()


def test_to_dict_has_every_contract_key_in_order():
    data = _valid()
    assert list(data) == ["address", "observed_at", "device", "counters", "supplies", "alerts"]
    assert data["observed_at"] == "2026-01-02T03:04:05Z"
    assert list(data["counters"]) == [
        "total",
        "mono",
        "colour",
        "print_mono",
        "print_colour",
        "copy_mono",
        "copy_colour",
        "fax",
        "scan",
        "duplex",
    ]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("device", "mac"), "00-11-22-33-44-55", "device.mac"),
        (("device", "serial"), 12345, "device.serial"),
        (("counters", "mono"), True, "counters.mono"),
        (("counters", "total"), "100", "counters.total"),
        (("observed_at",), "2026-01-02T03:04:05", "observed_at"),
        (("supplies",), [{"kind": "plasma", "state": "ok"}], "kind"),
        (("supplies",), [{"kind": "toner", "state": "ok", "percent": 101}], "percent"),
        (("alerts",), [{"severity": "fatal", "code": "x"}], "severity"),
        (("device",), None, "device"),
        (("clock",), "ntp", "clock"),
        (("derived",), ["total"], "derived"),
        (("derived",), ["mono", "mono"], "derived"),
        (("derived",), "mono", "derived"),
    ],
)
def test_from_dict_refuses_what_breaks_the_contract(path, value, field):
    data = _valid()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ReadingError) as err:
        Reading.from_dict(data)
    assert field in str(err.value)


def test_clock_and_derived_are_optional_and_round_trip():
    data = _valid()
    assert "clock" not in data and "derived" not in data
    plain = Reading.from_dict(data)
    assert plain.clock is None and plain.derived == ()
    data.update(clock="server", derived=["mono", "colour"])
    marked = Reading.from_dict(data)
    assert marked.clock == "server" and marked.derived == ("mono", "colour")
    assert marked.to_dict()["clock"] == "server"
    assert marked.to_dict()["derived"] == ["mono", "colour"]
    assert Reading.from_dict({**_valid(), "clock": "local"}).clock == "local"
