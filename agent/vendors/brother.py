"""Brother laser and inkjet printers.

Brother packs its counters and consumable levels into binary blobs under ``brInfo``
(``2435.2.3.9.4.2.1.5.5``), as decoded by the ``brother`` library (bieniu/brother) after
saper-2/BRN-Printer-sCounters-Info.  Each blob is a run of records ``code, 0x01, length,
value[length]`` ended by ``0xff``.  Values are big-endian integers; the consumables blob
gives remaining life in hundredths of a percent.  Old inkjets use two-byte values
``(level, max)`` instead.  Many small Brother models have no Printer-MIB supplies table, so
these records become the reading's supplies; the model is the ``MDL`` of the IEEE 1284 id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Final

from agent.mibs import (
    FIRST_MARKER,
    INKJET_MARK_TECH,
    PRT_MARKER_MARK_TECH,
    decode_text,
    device_id_model,
    parse_device_id,
)
from agent.snmp import Value
from agent.vendors.profile import VendorData, VendorProfile, private, words
from shared.reading import Supply

_INFO: Final = private("2435.2.3.9.4.2.1.5.5")
SERIAL_OID: Final = f"{_INFO}.1.0"
MAINTENANCE_OID: Final = f"{_INFO}.8.0"
COUNTERS_OID: Final = f"{_INFO}.10.0"
FIRMWARE_OID: Final = f"{_INFO}.17.0"
DEVICE_ID_OID: Final = private("2435.2.3.9.1.1.7.0")

#: Counter blob record code → contract counter key.
COUNTER_CODES: Final[Mapping[int, str]] = {
    0x00: "total",
    0x01: "mono",
    0x02: "colour",
    0x06: "duplex",
}

#: Consumables blob record code → (kind, colour, description); ``kind`` "toner" becomes "ink"
#: on inkjet models.  Values are remaining life in 1/100 %.
MAINTENANCE_CODES: Final[Mapping[int, tuple[str, str | None, str]]] = {
    0x6F: ("toner", "black", "Black Toner"),
    0x70: ("toner", "cyan", "Cyan Toner"),
    0x71: ("toner", "magenta", "Magenta Toner"),
    0x72: ("toner", "yellow", "Yellow Toner"),
    0xA1: ("toner", "black", "Black Toner"),
    0xA2: ("toner", "cyan", "Cyan Toner"),
    0xA3: ("toner", "magenta", "Magenta Toner"),
    0xA4: ("toner", "yellow", "Yellow Toner"),
    0x41: ("drum", None, "Drum Unit"),
    0x80: ("drum", "black", "Black Drum Unit"),
    0x79: ("drum", "cyan", "Cyan Drum Unit"),
    0x7A: ("drum", "magenta", "Magenta Drum Unit"),
    0x7B: ("drum", "yellow", "Yellow Drum Unit"),
    0x69: ("transfer", None, "Belt Unit"),
    0x6A: ("fuser", None, "Fuser Unit"),
    0x6B: ("maintenance", None, "Laser Unit"),
    0x6C: ("maintenance", None, "Paper Feeding Kit MP"),
    0x6D: ("maintenance", None, "Paper Feeding Kit 1"),
}
PERCENT_SCALE: Final = 10_000

#: Brother inkjet model families (DCP-J/MFC-J, ink-tank DCP-T/MFC-T, HL-J, and the older
#: MFC-/DCP- numbers ending in C, CN or CW below the 9000 colour-laser range).
INKJET_MODEL: Final = re.compile(
    r"^(?:Brother\s+)?(?:(?:DCP|MFC|HL)-[JT]\d|(?:DCP|MFC)-[1-8]?\d{2,3}C[NW]?\b)", re.I
)


def iter_records(blob: object) -> Iterator[tuple[int, bytes]]:
    """Yield ``(code, value)`` records of a Brother blob; stops at 0xff or any malformation."""
    if not isinstance(blob, bytes):
        return
    position = 0
    while position + 3 <= len(blob) and blob[position] != 0xFF:
        code, length = blob[position], blob[position + 2]
        value = blob[position + 3 : position + 3 + length]
        if length == 0 or len(value) != length:
            return
        yield code, value
        position += 3 + length


def decode_counters(blob: object) -> dict[str, int]:
    """Page counters from the ``brInfoCounter`` blob (4-byte records only)."""
    counters: dict[str, int] = {}
    for code, value in iter_records(blob):
        key = COUNTER_CODES.get(code)
        if key is not None and len(value) == 4:
            counters.setdefault(key, int.from_bytes(value, "big"))
    return counters


def decode_supplies(blob: object, *, inkjet: bool) -> tuple[Supply, ...]:
    """Consumables from the ``brInfoMaintenance`` blob, one per known code, first wins.

    A four-byte value is remaining life in 1/100 % (so level/max = value/10000); a two-byte
    value (old inkjets) is ``(level, max)``.  One-byte values are status flags, not levels.
    """
    supplies: dict[tuple[str, str | None, str], Supply] = {}
    for code, value in iter_records(blob):
        meaning = MAINTENANCE_CODES.get(code)
        if meaning is None or meaning in supplies:
            continue
        if len(value) == 4:
            level, maximum = int.from_bytes(value, "big"), PERCENT_SCALE
        elif len(value) == 2:
            level, maximum = value[0], value[1]
        else:
            continue
        kind, colour, description = meaning
        if inkjet and kind == "toner":
            kind, description = "ink", description.replace("Toner", "Ink")
        supplies[meaning] = Supply.from_raw(kind, colour, description, level, maximum)
    order = list(MAINTENANCE_CODES.values())
    return tuple(supplies[meaning] for meaning in sorted(supplies, key=order.index))


def is_inkjet(values: Mapping[str, Value]) -> bool:
    """Inkjet if the Printer-MIB marking technology says so, else by Brother's model names."""
    tech = values.get(PRT_MARKER_MARK_TECH + FIRST_MARKER)
    if isinstance(tech, int) and not isinstance(tech, bool):
        return tech in INKJET_MARK_TECH
    model = device_id_model(parse_device_id(decode_text(values.get(DEVICE_ID_OID))))
    return bool(model and INKJET_MODEL.match(model))


def decode(values: Mapping[str, Value]) -> VendorData:
    """Counters and consumables packed in the brInfo blobs."""
    return VendorData(
        counters=decode_counters(values.get(COUNTERS_OID)),
        supplies=decode_supplies(values.get(MAINTENANCE_OID), inkjet=is_inkjet(values)),
    )


PROFILE: Final = VendorProfile(
    key="brother",
    manufacturer="Brother",
    names=words("Brother"),
    enterprises=(2435,),
    serial_oids=(SERIAL_OID,),
    firmware_oids=(FIRMWARE_OID,),
    device_id_oids=(DEVICE_ID_OID,),
    decoder=decode,
    decoder_oids=(COUNTERS_OID, MAINTENANCE_OID),
    decoded_keys=frozenset(COUNTER_CODES.values()),
)
