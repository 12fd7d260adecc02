"""Every vendor a dealer meets is data in ``agent/vendors``, known by sysDescr or sysObjectID.

The identification captures (``fixtures/printers/ident``) are checked one signal at a time: the
sysDescr alone names the vendor, and so does the sysObjectID alone, except where a firmware
borrows another maker's enterprise number (an HP JetDirect card reporting Kyocera's, a Toshiba
e-STUDIO on Lexmark firmware), where sysDescr is what wins (``test_identification``).
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.snmpsim import parse_snmprec

from agent.mibs import SYS_DESCR, SYS_OBJECT_ID, decode_oid, decode_text
from agent.reader import build_reading
from agent.vendors import PROFILES
from agent.vendors.engine import by_enterprise, by_text, enterprise_of

PRINTERS = Path(__file__).parents[1] / "fixtures" / "printers"
IDENT = PRINTERS / "ident"
CASES = json.loads((IDENT / "ident.expected.json").read_text(encoding="utf-8"))["cases"]
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

#: The issue's vendor list → profile key (OEM brands ride on their engine maker's profile).
FAMILIES = {
    "HP": "hp",
    "Brother": "brother",
    "Canon": "canon",
    "Epson": "epson",
    "Konica Minolta": "konica_minolta",
    "Develop": "konica_minolta",
    "Kyocera": "kyocera",
    "UTAX": "kyocera",
    "TA Triumph-Adler": "kyocera",
    "Lexmark": "lexmark",
    "OKI": "oki",
    "Ricoh": "ricoh",
    "Lanier": "ricoh",
    "Savin": "ricoh",
    "Gestetner": "ricoh",
    "NRG": "ricoh",
    "Samsung": "samsung",
    "Sharp": "sharp",
    "Toshiba": "toshiba",
    "Xerox": "xerox",
    "Fujifilm": "xerox",
    "Fuji Xerox": "xerox",
    "Dell": "dell",
}
BORROWED_ENTERPRISE = {"librenms__jetdirect_1.snmprec", "librenms__toshiba-tec_estudio305.snmprec"}


def _family(vendor: str) -> str:
    brand = vendor.partition(" (")[0].removesuffix(" TEC")
    return FAMILIES[brand]


def test_every_vendor_of_the_issue_has_a_profile():
    assert set(FAMILIES.values()) <= {profile.key for profile in PROFILES}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["snmprec"].removesuffix(".snmprec"))
def test_sysdescr_alone_names_the_vendor(case):
    values = parse_snmprec(IDENT / case["snmprec"])
    found = by_text(decode_text(values.get(SYS_DESCR)), PROFILES)
    if case["snmprec"] == "librenms__jetdirect_2.snmprec":  # "JETDIRECT EX" with no maker name
        assert found is None or found.key == "hp"
        return
    assert found is not None
    assert found.key == _family(case["vendor"])


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c["sysObjectID"] and c["snmprec"] not in BORROWED_ENTERPRISE],
    ids=lambda case: case["snmprec"].removesuffix(".snmprec"),
)
def test_sysobjectid_alone_names_the_vendor(case):
    values = parse_snmprec(IDENT / case["snmprec"])
    found = by_enterprise(enterprise_of(decode_oid(values.get(SYS_OBJECT_ID))), PROFILES)
    assert found is not None
    assert found.key == _family(case["vendor"])


@pytest.mark.parametrize(
    ("descr", "brand"),
    [
        ("Develop ineo+ 258", "Develop"),
        ("UTAX P-4532DN", "UTAX"),
        ("TA Triumph-Adler P-4531DN", "TA Triumph-Adler"),
        ("LANIER MP C3501", "Lanier"),
        ("SAVIN C4503", "Savin"),
        ("GESTETNER MP C2500", "Gestetner"),
        ("NRG MP 2352", "NRG"),
        ("FUJI XEROX DocuPrint CP225w", "Fuji Xerox"),
        ("FUJIFILM Apeos C325 z", "Fujifilm"),
    ],
)
def test_oem_brands_are_reported_under_their_own_name(descr, brand):
    values = {SYS_DESCR: descr.encode()}
    assert build_reading("x", NOW, values).device.manufacturer == brand


def test_every_vendor_is_recognised_in_some_capture():
    captures = [*IDENT.glob("*.snmprec"), *PRINTERS.glob("*.snmprec")]
    seen = set()
    for path in captures:
        maker = build_reading("x", NOW, parse_snmprec(path)).device.manufacturer
        if maker:
            seen.add(FAMILIES.get(maker, maker))
    assert set(FAMILIES.values()) <= seen
