"""The human summary printed by `scm-agent read` without --json."""

from datetime import UTC, datetime

from agent.report import format_summary
from shared.reading import Alert, Counters, Device, Reading, Supply

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_summary_shows_device_counters_supplies_and_alerts():
    reading = Reading(
        address="192.0.2.7:161",
        observed_at=NOW,
        device=Device(
            manufacturer="Sharp", model="MX-3570N", serial="6509415X00", mac="24:31:84:c8:46:6a"
        ),
        counters=Counters(total=121104, mono=91164, colour=29940),
        supplies=(
            Supply.from_raw("toner", "cyan", "Cyan Toner", 55, 100),
            Supply.from_raw("toner", "black", "Black Toner", 0, 100),
            Supply.from_raw("waste_toner", None, "Waste Toner", -3, -2),
            Supply.from_raw("fuser", None, None, -2, -2),
        ),
        alerts=(Alert("warning", "tonerLow", "Toner low (Black)"),),
    )
    text = format_summary(reading)
    assert text.splitlines()[0] == (
        "192.0.2.7:161  Sharp MX-3570N  (serial 6509415X00, MAC 24:31:84:c8:46:6a)"
    )
    assert "2026-11-22T10:00:00Z" in text
    assert "121,104" in text
    assert "[###########         ]  55%" in text
    assert "0%  EMPTY" in text
    assert "some remaining" in text
    assert "fuser" in text and "level unknown" in text
    assert "warning   tonerLow: Toner low (Black)" in text


def test_summary_of_an_empty_reading():
    text = format_summary(
        Reading(
            address="192.0.2.8:161",
            observed_at=NOW,
            device=Device(),
            counters=Counters(),
            supplies=(),
            alerts=(),
        )
    )
    assert "unknown" in text.splitlines()[0]
    assert "counters: none reported" in text
    assert "supplies: none reported" in text
    assert "alerts: none" in text
