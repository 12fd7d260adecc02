"""Standard MIB objects a printer reading needs, and pure decoders for their values.

The OIDs are the published ones (SNMPv2-MIB, IF-MIB, HOST-RESOURCES-MIB RFC 2790, Printer-MIB
RFC 3805).  Decoders take the plain values :mod:`agent.snmp` returns (``int | bytes | str |
None``) and never raise on garbage: a value of the wrong type or shape decodes to ``None`` so one
broken object costs one field, never the whole reading.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping
from typing import Final

from shared.reading import Alert

# -- SNMPv2-MIB / IF-MIB ----------------------------------------------------------------------

SYS_DESCR: Final = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID: Final = "1.3.6.1.2.1.1.2.0"
SYS_NAME: Final = "1.3.6.1.2.1.1.5.0"
IF_TYPE: Final = "1.3.6.1.2.1.2.2.1.3"
IF_PHYS_ADDRESS: Final = "1.3.6.1.2.1.2.2.1.6"

# -- HOST-RESOURCES-MIB -----------------------------------------------------------------------

HR_DEVICE_TYPE: Final = "1.3.6.1.2.1.25.3.2.1.2"
HR_DEVICE_DESCR: Final = "1.3.6.1.2.1.25.3.2.1.3"
HR_DEVICE_STATUS: Final = "1.3.6.1.2.1.25.3.2.1.5"
HR_PRINTER_ERROR_STATE: Final = "1.3.6.1.2.1.25.3.5.1.2"
HR_DEVICE_PRINTER: Final = "1.3.6.1.2.1.25.3.1.5"

# -- Printer-MIB (RFC 3805) -------------------------------------------------------------------

PRT_GENERAL_SERIAL: Final = "1.3.6.1.2.1.43.5.1.1.17"
PRT_MARKER_MARK_TECH: Final = "1.3.6.1.2.1.43.10.2.1.2"
PRT_MARKER_COUNTER_UNIT: Final = "1.3.6.1.2.1.43.10.2.1.3"
PRT_MARKER_LIFE_COUNT: Final = "1.3.6.1.2.1.43.10.2.1.4"
PRT_MARKER_PROCESS_COLORANTS: Final = "1.3.6.1.2.1.43.10.2.1.6"
SUPPLY_COLORANT_INDEX: Final = "1.3.6.1.2.1.43.11.1.1.3"
SUPPLY_CLASS: Final = "1.3.6.1.2.1.43.11.1.1.4"
SUPPLY_TYPE: Final = "1.3.6.1.2.1.43.11.1.1.5"
SUPPLY_DESCRIPTION: Final = "1.3.6.1.2.1.43.11.1.1.6"
SUPPLY_UNIT: Final = "1.3.6.1.2.1.43.11.1.1.7"
SUPPLY_MAX: Final = "1.3.6.1.2.1.43.11.1.1.8"
SUPPLY_LEVEL: Final = "1.3.6.1.2.1.43.11.1.1.9"
COLORANT_VALUE: Final = "1.3.6.1.2.1.43.12.1.1.4"
ALERT_SEVERITY: Final = "1.3.6.1.2.1.43.18.1.1.2"
ALERT_GROUP: Final = "1.3.6.1.2.1.43.18.1.1.4"
ALERT_CODE: Final = "1.3.6.1.2.1.43.18.1.1.7"
ALERT_DESCRIPTION: Final = "1.3.6.1.2.1.43.18.1.1.8"

#: First row of each single-instance object, fetched by the first GET of a read.
FIRST_PRINTER: Final = ".1"
FIRST_MARKER: Final = ".1.1"

#: The scalars the first request of every read asks for.
IDENTITY_SCALARS: Final = (
    SYS_DESCR,
    SYS_OBJECT_ID,
    HR_DEVICE_DESCR + FIRST_PRINTER,
    HR_DEVICE_STATUS + FIRST_PRINTER,
    HR_PRINTER_ERROR_STATE + FIRST_PRINTER,
    PRT_GENERAL_SERIAL + FIRST_PRINTER,
    PRT_MARKER_MARK_TECH + FIRST_MARKER,
    PRT_MARKER_LIFE_COUNT + FIRST_MARKER,
    PRT_MARKER_PROCESS_COLORANTS + FIRST_MARKER,
)

#: Table columns every read walks (in one GETBULK stream together with vendor columns).
#: Supply class and unit are left out on purpose: percent and state need neither, and every
#: column costs a decoded value per row.
STANDARD_COLUMNS: Final = (
    SUPPLY_COLORANT_INDEX,
    SUPPLY_TYPE,
    SUPPLY_DESCRIPTION,
    SUPPLY_MAX,
    SUPPLY_LEVEL,
    COLORANT_VALUE,
    ALERT_SEVERITY,
    ALERT_GROUP,
    ALERT_CODE,
    ALERT_DESCRIPTION,
    IF_TYPE,
    IF_PHYS_ADDRESS,
    HR_DEVICE_TYPE,
    HR_DEVICE_DESCR,
)

# -- text -------------------------------------------------------------------------------------

MAX_TEXT: Final = 256
"""Longest text kept from a device (the contract's ingest side refuses more than 512)."""

# net-snmp prints a non-printable string as a hex dump; some captures keep the first 16
# characters as text, a newline, then the remaining bytes as hex pairs.
_HEX_TAIL: Final = re.compile(r"^(.{1,16})\n((?:[0-9A-Fa-f]{2}\s+)*[0-9A-Fa-f]{2})\s*$", re.S)
_HEX_DUMP: Final = re.compile(r"^(?:[0-9A-Fa-f]{2}[ \n]){3,}[0-9A-Fa-f]{2}\s*$")
_SPACES: Final = re.compile(r"\s+")


def decode_text(raw: object, *, limit: int = MAX_TEXT) -> str | None:
    """Device octets to a clean ``str``: UTF-8 else Latin-1, hex dumps undone, NUL-terminated.

    Control characters (HP's PML strings start with two) and runs of whitespace collapse to one
    space; an empty result is ``None``; anything longer than ``limit`` is cut.  Only octet
    strings are text: an INTEGER or an OBJECT IDENTIFIER (``str`` at the SNMP boundary) where
    text belongs is garbage and gives ``None``.
    """
    if not isinstance(raw, bytes):
        return None
    text = _undo_hex_dump(_bytes_to_str(raw))
    text = text.split("\x00", 1)[0]
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    text = _SPACES.sub(" ", text).strip()
    return text[:limit].rstrip() or None


def _bytes_to_str(raw: bytes) -> str:
    """UTF-8, else Latin-1 (which cannot fail); only the first bytes of a huge value are read."""
    data = bytes(raw[: MAX_TEXT * 4])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        if len(data) < len(raw) and err.reason == "unexpected end of data":
            return data[: err.start].decode("utf-8", errors="replace")  # cut mid-character
        return data.decode("latin-1")


def _undo_hex_dump(text: str) -> str:
    tail = _HEX_TAIL.match(text)
    if tail is not None:
        return tail.group(1) + _bytes_to_str(bytes.fromhex(_SPACES.sub("", tail.group(2))))
    if _HEX_DUMP.match(text):
        decoded = _bytes_to_str(bytes.fromhex(_SPACES.sub("", text)))
        if decoded.rstrip("\x00").isprintable():
            return decoded
    return text


def decode_int(raw: object) -> int | None:
    """An INTEGER (Integer32) value, or None when the device sent something else or too big."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        return None
    return raw if -(2**31) <= raw < 2**31 else None


def decode_counter(raw: object) -> int | None:
    """A page counter: a non-negative integer (a text of digits is tolerated), else None."""
    if isinstance(raw, bytes):
        text = decode_text(raw)
        raw = int(text) if text is not None and text.isdigit() and len(text) < 19 else None
    if isinstance(raw, bool) or not isinstance(raw, int):
        return None
    return raw if 0 <= raw < 2**63 else None


def decode_oid(raw: object) -> str | None:
    """A dotted OID as returned for OBJECT IDENTIFIER values, else None."""
    if isinstance(raw, str) and re.fullmatch(r"\d+(\.\d+)+", raw):
        return raw
    return None


# -- MAC --------------------------------------------------------------------------------------

_MAC_TEXT: Final = re.compile(r"^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$")


def format_mac(raw: object) -> str | None:
    """Six octets as ``aa:bb:cc:dd:ee:ff``; all-zero, broadcast or wrong length gives None."""
    if isinstance(raw, str):
        text = raw.strip()
        if not _MAC_TEXT.match(text):
            return None
        raw = bytes.fromhex(re.sub(r"[:-]", "", text))
    if not isinstance(raw, bytes) or len(raw) != 6:
        return None
    if raw == b"\x00" * 6 or raw == b"\xff" * 6:
        return None
    return ":".join(f"{byte:02x}" for byte in raw)


#: IANA ifType values of Ethernet-like interfaces (ethernetCsmacd, iso88023, fastEther, ...).
ETHERNET_IF_TYPES: Final = frozenset({6, 7, 62, 69, 117})
#: Interfaces whose address is never the device's (softwareLoopback, ppp, tunnel).
NON_HARDWARE_IF_TYPES: Final = frozenset({23, 24, 131})


# -- supplies ---------------------------------------------------------------------------------

#: prtMarkerSuppliesType (PrtMarkerSuppliesTypeTC) → contract kind; other/unknown are guessed
#: from the description by :func:`kind_from_words`.
SUPPLY_TYPE_KIND: Final[Mapping[int, str]] = {
    3: "toner",  # toner
    4: "waste_toner",  # wasteToner
    5: "ink",  # ink
    6: "ink",  # inkCartridge
    7: "ink",  # inkRibbon
    8: "waste_ink",  # wasteInk
    9: "drum",  # opc
    10: "developer",  # developer
    11: "fuser",  # fuserOil
    15: "fuser",  # fuser
    17: "fuser",  # fuserOilWick
    18: "maintenance",  # cleanerUnit
    19: "fuser",  # fuserCleaningPad
    20: "transfer",  # transferUnit
    21: "toner",  # tonerCartridge
    22: "fuser",  # fuserOiler
    29: "staples",  # stitchingWire
    32: "staples",  # staples
    35: "toner",  # matteToner
    36: "ink",  # matteInk
}
_GUESS_TYPES: Final = frozenset({1, 2})

#: Words (any of English, Italian, Spanish, German, French, Portuguese) → kind, checked in this
#: order so that "waste toner" wins over "toner" and "toner cartridge" over "cartridge".
KIND_WORDS: Final[tuple[tuple[str, frozenset[str]], ...]] = (
    (
        "waste_toner",
        frozenset(
            {
                "waste toner",
                "resttoner",
                "resttonerbehälter",
                "recupero toner",
                "residuos",
                "toner usagé",
                "toner residual",
            }
        ),
    ),
    ("waste_ink", frozenset({"waste ink", "maintenance box", "tinta residual"})),
    (
        "drum",
        frozenset(
            {
                "drum",
                "imaging unit",
                "image drum",
                "photoconductor",
                "photoconductive",
                "opc",
                "tamburo",
                "tambor",
                "trommel",
                "tambour",
                "bildtrommel",
                "fotoconduttore",
            }
        ),
    ),
    (
        "developer",
        frozenset(
            {"developer", "sviluppatore", "revelador", "entwickler", "développeur", "developpeur"}
        ),
    ),
    (
        "fuser",
        frozenset({"fuser", "fusing", "fusore", "fusor", "fixiereinheit", "fixation", "fusion"}),
    ),
    (
        "transfer",
        frozenset(
            {"transfer", "belt", "trasferimento", "transferencia", "transfert", "transferband"}
        ),
    ),
    (
        "staples",
        frozenset({"staple", "staples", "stapler", "punti", "grapas", "heftklammern", "agrafes"}),
    ),
    ("ink", frozenset({"ink", "inchiostro", "tinta", "tinte", "encre"})),
    (
        "toner",
        frozenset(
            {"toner", "tóner", "cartridge", "cartuccia", "cartucho", "kartusche", "cartouche"}
        ),
    ),
    (
        "maintenance",
        frozenset(
            {
                "maintenance",
                "roller",
                "kit",
                "filter",
                "manutenzione",
                "mantenimiento",
                "wartung",
                "rullo",
                "rodillo",
                "walze",
            }
        ),
    ),
)

#: Words (several languages) → colour.  Multi-word names come first.
COLOUR_WORDS: Final[tuple[tuple[str, frozenset[str]], ...]] = (
    ("light cyan", frozenset({"light cyan", "photo cyan", "ciano chiaro", "cian claro"})),
    (
        "light magenta",
        frozenset({"light magenta", "photo magenta", "magenta chiaro", "magenta claro"}),
    ),
    (
        "black",
        frozenset(
            {
                "black",
                "photo black",
                "matte black",
                "nero",
                "negro",
                "schwarz",
                "noir",
                "preto",
                "zwart",
                "bk",
            }
        ),
    ),
    ("cyan", frozenset({"cyan", "ciano", "cian", "cyaan"})),
    ("magenta", frozenset({"magenta"})),
    ("yellow", frozenset({"yellow", "giallo", "amarillo", "gelb", "jaune", "amarelo", "geel"})),
    ("gray", frozenset({"gray", "grey", "grigio", "gris", "grau", "cinza"})),
    ("red", frozenset({"red", "rosso", "rojo", "rot", "rouge", "vermelho"})),
    ("blue", frozenset({"blue", "blu", "azul", "blau", "bleu"})),
    ("green", frozenset({"green", "verde", "grün", "grun", "vert"})),
    ("orange", frozenset({"orange", "arancione", "naranja"})),
    ("violet", frozenset({"violet", "viola", "violeta"})),
    ("white", frozenset({"white", "bianco", "blanco", "weiß", "weiss", "blanc"})),
)

_WORD: Final = re.compile(r"[^\W\d_]+")


def _phrases(text: str) -> set[str]:
    """Every single word and adjacent word pair of ``text``, lower-cased."""
    words = _WORD.findall(text.casefold())
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def colour_from_words(text: str | None) -> str | None:
    """The colour a supply description or colorant name names, in any of several languages."""
    if not text:
        return None
    phrases = _phrases(text)
    for colour, words in COLOUR_WORDS:
        if phrases & words:
            return colour
    return None


def kind_from_words(text: str | None, *, inkjet: bool = False) -> str:
    """Guess a supply kind from its description; a bare "cartridge" means ink on inkjets."""
    phrases = _phrases(text or "")
    for kind, words in KIND_WORDS:
        if phrases & words:
            if kind == "toner" and inkjet and "toner" not in phrases:
                return "ink"
            return kind
    return "other"


def supply_kind(type_code: int | None, description: str | None, *, inkjet: bool = False) -> str:
    """Contract kind of a supply row: the MIB type when it is specific, else the description."""
    if type_code is not None and type_code not in _GUESS_TYPES:
        kind = SUPPLY_TYPE_KIND.get(type_code)
        if kind is not None:
            if kind == "toner" and inkjet and type_code == 21:
                return "ink"
            return kind
        return "other"
    return kind_from_words(description, inkjet=inkjet)


#: prtMarkerMarkTech values of inkjet engines (inkjetAqueous, inkjetSolid, inkjetOther).
INKJET_MARK_TECH: Final = frozenset({12, 13, 14})


# -- alerts -----------------------------------------------------------------------------------

#: prtAlertSeverityLevel → contract severity (a missing or unknown level counts as warning).
ALERT_SEVERITIES: Final[Mapping[int, str]] = {1: "info", 3: "critical", 4: "warning", 5: "info"}

#: prtAlertCode (PrtAlertCodeTC) → (contract code, default English description).
ALERT_CODES: Final[Mapping[int, tuple[str, str]]] = {
    1: ("other", "Other alert"),
    3: ("doorOpen", "Cover open"),
    5: ("doorOpen", "Interlock open"),
    7: ("configurationChange", "Configuration changed"),
    8: ("jammed", "Paper jam"),
    9: ("subunitMissing", "Part missing"),
    10: ("subunitLifeAlmostOver", "Part near end of life"),
    11: ("subunitLifeOver", "Part at end of life"),
    12: ("subunitAlmostEmpty", "Almost empty"),
    13: ("subunitEmpty", "Empty"),
    14: ("subunitAlmostFull", "Almost full"),
    15: ("subunitFull", "Full"),
    16: ("subunitNearLimit", "Near limit"),
    17: ("subunitAtLimit", "At limit"),
    18: ("subunitOpened", "Opened"),
    22: ("offline", "Offline"),
    24: ("warmingUp", "Warming up"),
    25: ("subunitAdded", "Part added"),
    26: ("subunitRemoved", "Part removed"),
    29: ("subunitRecoverableFailure", "Recoverable failure"),
    30: ("subunitUnrecoverableFailure", "Unrecoverable failure"),
    31: ("subunitUnrecoverableStorageError", "Storage error"),
    32: ("subunitUnrecoverableStorageError", "Storage error"),
    33: ("subunitMotorFailure", "Motor failure"),
    34: ("subunitMemoryExhausted", "Memory exhausted"),
    35: ("subunitUnderTemperature", "Under temperature"),
    36: ("subunitOverTemperature", "Over temperature"),
    37: ("subunitTimingFailure", "Timing failure"),
    38: ("subunitThermistorFailure", "Thermistor failure"),
    501: ("doorOpen", "Door open"),
    504: ("poweredDown", "Powered down"),
    801: ("inputTrayMissing", "Input tray missing"),
    802: ("inputMediaSizeChange", "Paper size changed"),
    807: ("paperLow", "Paper low"),
    808: ("paperEmpty", "Out of paper"),
    809: ("inputMediaChangeRequest", "Load paper"),
    810: ("manualFeedRequest", "Manual feed requested"),
    811: ("inputTrayPositionFailure", "Tray position failure"),
    812: ("inputTrayElevationFailure", "Tray lift failure"),
    813: ("inputCannotFeedSizeSelected", "Cannot feed selected size"),
    901: ("outputTrayMissing", "Output tray missing"),
    902: ("outputNearFull", "Output tray almost full"),
    903: ("outputFull", "Output tray full"),
    904: ("outputMailboxSelectFailure", "Mailbox select failure"),
    1001: ("fuserUnderTemperature", "Fuser under temperature"),
    1002: ("fuserOverTemperature", "Fuser over temperature"),
    1003: ("fuserTimingFailure", "Fuser timing failure"),
    1004: ("fuserThermistorFailure", "Fuser thermistor failure"),
    1005: ("adjustingPrintQuality", "Adjusting print quality"),
    1101: ("tonerEmpty", "Toner empty"),
    1102: ("inkEmpty", "Ink empty"),
    1103: ("ribbonEmpty", "Ribbon empty"),
    1104: ("tonerLow", "Toner low"),
    1105: ("inkLow", "Ink low"),
    1106: ("ribbonLow", "Ribbon low"),
    1107: ("wasteTonerAlmostFull", "Waste toner almost full"),
    1108: ("wasteInkAlmostFull", "Waste ink almost full"),
    1109: ("wasteTonerFull", "Waste toner full"),
    1110: ("wasteInkFull", "Waste ink full"),
    1111: ("drumLifeAlmostOver", "Drum near end of life"),
    1112: ("drumLifeOver", "Drum at end of life"),
    1113: ("developerLow", "Developer low"),
    1114: ("developerEmpty", "Developer empty"),
    1115: ("supplyMissing", "Toner cartridge missing"),
    1301: ("mediaPathTrayMissing", "Media path tray missing"),
    1302: ("mediaPathTrayAlmostFull", "Media path tray almost full"),
    1303: ("mediaPathTrayFull", "Media path tray full"),
    1304: ("cannotDuplexMediaSelected", "Cannot duplex selected media"),
}

#: Alert codes that report a return to normal or routine events, never a problem.
NOT_A_PROBLEM: Final = frozenset({4, 6, 19, 20, 21, 23, 27, 28, 502, 503, 505, 506, 507, 1801})


#: prtAlertGroup values whose generic "almost empty"/"empty" codes have a specific meaning.
_INPUT_GROUP: Final = 8
_SUPPLY_GROUPS: Final = frozenset({11, 12})
_GROUP_CODES: Final[Mapping[tuple[str, int], tuple[str, str]]] = {
    ("input", 12): ("paperLow", "Paper low"),
    ("input", 13): ("paperEmpty", "Out of paper"),
    ("supply", 12): ("supplyLow", "Supply low"),
    ("supply", 13): ("supplyEmpty", "Supply empty"),
}


def decode_alert(
    severity: object, code: object, description: object, group: object = None
) -> Alert | None:
    """One prtAlertTable row as a contract alert, or None for a routine event.

    The generic "subunit almost empty/empty" codes are made specific by the alert's group
    (an input tray means paper, a marker supply means toner or ink).
    """
    code_number = decode_int(code)
    if code_number in NOT_A_PROBLEM:
        return None
    name, default_text = ALERT_CODES.get(
        code_number if code_number is not None else 1, ("other", "Other alert")
    )
    if code_number is not None and code_number not in ALERT_CODES:
        name = f"alert{code_number}"
    group_number = decode_int(group)
    area = (
        "input"
        if group_number == _INPUT_GROUP
        else "supply"
        if group_number in _SUPPLY_GROUPS
        else ""
    )
    if code_number is not None and (area, code_number) in _GROUP_CODES:
        name, default_text = _GROUP_CODES[(area, code_number)]
    level = ALERT_SEVERITIES.get(decode_int(severity) or 0, "warning")
    return Alert(severity=level, code=name, description=decode_text(description) or default_text)


#: hrDeviceStatus down(5): the one status that is an alert by itself.
HR_STATUS_DOWN: Final = 5


def decode_device_status(raw: object) -> Alert | None:
    """An alert for a printer whose hrDeviceStatus is down(5), else None."""
    if decode_int(raw) == HR_STATUS_DOWN:
        return Alert(severity="critical", code="deviceDown", description="Device down")
    return None


#: hrPrinterDetectedErrorState bit (0 = most significant bit of the first octet) →
#: (code, severity, description).  Codes match :data:`ALERT_CODES` so duplicates merge.
ERROR_STATE_BITS: Final[tuple[tuple[str, str, str], ...]] = (
    ("paperLow", "warning", "Paper low"),
    ("paperEmpty", "critical", "Out of paper"),
    ("tonerLow", "warning", "Toner low"),
    ("tonerEmpty", "critical", "Toner empty"),
    ("doorOpen", "critical", "Door open"),
    ("jammed", "critical", "Paper jam"),
    ("offline", "critical", "Offline"),
    ("serviceRequested", "warning", "Service requested"),
    ("inputTrayMissing", "warning", "Input tray missing"),
    ("outputTrayMissing", "warning", "Output tray missing"),
    ("supplyMissing", "critical", "Marker supply missing"),
    ("outputNearFull", "warning", "Output tray almost full"),
    ("outputFull", "critical", "Output tray full"),
    ("inputTrayEmpty", "warning", "Input tray empty"),
    ("maintenanceOverdue", "warning", "Preventive maintenance overdue"),
)


def decode_error_state(raw: object) -> tuple[Alert, ...]:
    """The alerts an hrPrinterDetectedErrorState bit string sets (only its 2 defined octets)."""
    if not isinstance(raw, bytes):
        return ()
    bits = int.from_bytes(raw[:2].ljust(2, b"\x00"), "big")
    return tuple(
        Alert(severity=severity, code=code, description=text)
        for position, (code, severity, text) in enumerate(ERROR_STATE_BITS)
        if bits & (0x8000 >> position)
    )


# -- IEEE 1284 device id ----------------------------------------------------------------------

_DEVICE_ID_FIELD: Final = re.compile(r"(?:^|;)\s*([A-Za-z][A-Za-z0-9 .-]*?)\s*:\s*([^;]*)")


def parse_device_id(text: str | None) -> dict[str, str]:
    """IEEE 1284 ``KEY:value;`` pairs, keys upper-cased (``MFG``, ``MDL``, ``MODEL``, ...)."""
    if not text or ":" not in text:
        return {}
    fields: dict[str, str] = {}
    for key, value in _DEVICE_ID_FIELD.findall(text):
        fields.setdefault(key.upper(), value.strip())
    return fields


def device_id_model(fields: Mapping[str, str]) -> str | None:
    """The model an IEEE 1284 id gives (``MDL`` or the long form ``MODEL``), or None."""
    return fields.get("MDL") or fields.get("MODEL") or None


def device_id_maker(fields: Mapping[str, str]) -> str | None:
    """The manufacturer an IEEE 1284 id gives (``MFG``, or a long form some makers use)."""
    return fields.get("MFG") or fields.get("MANUFACTURER") or fields.get("MANUFACTURE") or None
