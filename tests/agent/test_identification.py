"""Maker, model and serial from sysObjectID/sysDescr on the identification-only captures.

These captures hold 1-5 OIDs each, so they are fed straight to the pure ``build_reading``; the
wire path is covered by ``test_read_printers`` and one case here goes through snmpsim too.
"""

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.snmpsim import parse_snmprec

from agent.reader import build_reading, read_device
from agent.snmp import SnmpClient, Target

IDENT = Path(__file__).parents[1] / "fixtures" / "printers" / "ident"
CASES = json.loads((IDENT / "ident.expected.json").read_text(encoding="utf-8"))["cases"]
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.casefold()))


def _maker_matches(got: str | None, vendor: str) -> bool:
    """``Develop (Konica Minolta OEM)`` accepts Develop or Konica Minolta; "Toshiba TEC" Toshiba."""
    brand, _, parent = vendor.partition(" (")
    accepted = [_words(brand)]
    if parent:
        accepted.append(_words(parent.removesuffix(")").replace(" OEM", "")))
    got_words = _words(got or "")
    return bool(got_words) and any(got_words <= names or names <= got_words for names in accepted)


def _model_key(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", (text or "").casefold())


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["snmprec"].removesuffix(".snmprec"))
def test_identifies_maker(case: dict) -> None:
    values = parse_snmprec(IDENT / case["snmprec"])
    reading = build_reading("192.0.2.1:161", NOW, values)
    assert _maker_matches(reading.device.manufacturer, case["vendor"]), reading.device
    assert reading.device.sys_object_id == case["sysObjectID"]
    for field, source in (case.get("from_yaml_oids") or {}).items():
        got = getattr(reading.device, field)
        if field == "model":
            assert _model_key(source["value"]).endswith(_model_key(got)), got
        else:
            assert got == source["value"]


def test_sysdescr_beats_a_borrowed_enterprise_number() -> None:
    """A Toshiba on Lexmark firmware and an HP JetDirect with Kyocera's sysObjectID."""
    toshiba = build_reading(
        "x", NOW, parse_snmprec(IDENT / "librenms__toshiba-tec_estudio305.snmprec")
    )
    jetdirect = build_reading("x", NOW, parse_snmprec(IDENT / "librenms__jetdirect_1.snmprec"))
    assert toshiba.device.manufacturer == "Toshiba"
    assert jetdirect.device.manufacturer == "HP"


def test_oem_brand_is_reported_as_such() -> None:
    gestetner = build_reading("x", NOW, parse_snmprec(IDENT / "librenms__gestetner.snmprec"))
    assert gestetner.device.manufacturer == "Gestetner"
    assert gestetner.device.model == "MPC2500/DSc525"
    assert gestetner.device.firmware == "1.71"


def test_identification_over_the_wire(snmpsim) -> None:
    async def read() -> str | None:
        async with SnmpClient(timeout=2, retries=1) as client:
            target = Target.parse(snmpsim.endpoint, community="ident/librenms__kyocera")
            return (await read_device(client, target)).device.model

    assert asyncio.run(read()) == "FS-1028MFP"
