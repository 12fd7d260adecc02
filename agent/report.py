"""A human summary of one reading, for ``scm-agent read`` without ``--json``."""

from __future__ import annotations

from typing import Final

from shared.reading import COUNTER_KEYS, Reading, Supply, format_timestamp

BAR_WIDTH: Final = 20
_COUNTER_LABELS: Final = {
    "total": "total",
    "mono": "black & white",
    "colour": "colour",
    "print_mono": "print b&w",
    "print_colour": "print colour",
    "copy_mono": "copy b&w",
    "copy_colour": "copy colour",
    "fax": "fax",
    "scan": "scan",
    "duplex": "duplex",
}
_STATE_TEXT: Final = {
    "some_remaining": "some remaining",
    "unknown": "level unknown",
    "empty": "EMPTY",
    "low": "low",
    "ok": "",
}


def format_summary(reading: Reading) -> str:
    """A few readable lines: who the device is, its counters, supplies and alerts."""
    lines = [_device_line(reading), f"  observed {format_timestamp(reading.observed_at)}"]
    lines.extend(_counter_lines(reading))
    lines.extend(_supply_lines(reading.supplies))
    lines.extend(_alert_lines(reading))
    return "\n".join(lines)


def _device_line(reading: Reading) -> str:
    device = reading.device
    name = " ".join(part for part in (device.manufacturer, device.model) if part) or "unknown"
    details = [
        f"serial {device.serial}" if device.serial else None,
        f"MAC {device.mac}" if device.mac else None,
        f"firmware {device.firmware}" if device.firmware else None,
    ]
    extra = ", ".join(detail for detail in details if detail)
    return f"{reading.address}  {name}" + (f"  ({extra})" if extra else "")


def _counter_lines(reading: Reading) -> list[str]:
    reported = [
        (key, value)
        for key in COUNTER_KEYS
        if (value := getattr(reading.counters, key)) is not None
    ]
    if not reported:
        return ["  counters: none reported"]
    width = max(len(_COUNTER_LABELS[key]) for key, _ in reported)
    return ["  counters:"] + [
        f"    {_COUNTER_LABELS[key]:<{width}}  {value:>12,}" for key, value in reported
    ]


def _supply_lines(supplies: tuple[Supply, ...]) -> list[str]:
    if not supplies:
        return ["  supplies: none reported"]
    width = max(len(_supply_name(supply)) for supply in supplies)
    return ["  supplies:"] + [
        f"    {_supply_name(supply):<{width}}  {_gauge(supply)}" for supply in supplies
    ]


def _supply_name(supply: Supply) -> str:
    return (supply.description or supply.kind)[:48]


def _gauge(supply: Supply) -> str:
    """``[##########          ]  50%`` for a known level, else the state in words."""
    note = _STATE_TEXT.get(supply.state, supply.state)
    if supply.percent is None:
        return note
    filled = round(BAR_WIDTH * supply.percent / 100)
    bar = "#" * filled + " " * (BAR_WIDTH - filled)
    return f"[{bar}] {supply.percent:>3}%" + (f"  {note}" if note else "")


def _alert_lines(reading: Reading) -> list[str]:
    if not reading.alerts:
        return ["  alerts: none"]
    return ["  alerts:"] + [
        f"    {alert.severity:<8}  {alert.code}"
        + (f": {alert.description}" if alert.description else "")
        for alert in reading.alerts
    ]
