"""`scm-agent read --json` against every real printer capture, served by snmpsim.

Expectations are derived here from each ``*.expected.json`` (never hard-coded): serial and MAC
from the raw walk, model from what upstream asserts or hrDeviceDescr, the life count and the
vendor counters upstream asserts, and every supply percentage the raw level/max imply (level
-3 means "some remaining").  Placeholders in the bieniu/brother fixtures are not device data.
"""

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shared.reading import Reading

PRINTERS = Path(__file__).parents[1] / "fixtures" / "printers"
CASES = sorted(PRINTERS.glob("*.expected.json"))
PLACEHOLDERS = {"serial_number", "aa:bb:cc:dd:ee:ff"}
SCM_AGENT = Path(sys.executable).with_name("scm-agent")

# Upstream counter-sensor descriptions → contract counter key.
SENSOR_DESCRIPTIONS = {
    "total page cnt": "total",
    "total mono cnt": "mono",
    "total duplex cnt": "duplex",
    "total print duplex": "duplex",
    "duplex": "duplex",
    "lifetime scanned": "scan",
    "total scans": "scan",
    "total copy black": "copy_mono",
    "black & white copy count": "copy_mono",
    "total copy color": "copy_colour",
    "full color copy count": "copy_colour",
    "total print black": "print_mono",
    "black & white print count": "print_mono",
    "total print color": "print_colour",
    "full color print count": "print_colour",
    "black & white total count": "mono",
    "full color total count": "colour",
}
# bieniu/brother sensor names → contract counter key.
BROTHER_SENSORS = {
    "page_counter": "total",
    "bw_counter": "mono",
    "color_counter": "colour",
    "duplex_unit_pages_counter": "duplex",
}
BRAND_WORDS = re.compile(
    r"\b(hp|hewlett[- ]packard|brother|konica minolta|konica|minolta|ricoh|sharp|canon|xerox|"
    r"samsung|kyocera|epson|oki|dell|fujifilm|fuji xerox|utax|develop|series|printer|mfp)\b"
)
HEX_TAIL = re.compile(r"^(.{16})\n((?:[0-9A-Fa-f]{2}\s+)*[0-9A-Fa-f]{2})\s*$", re.S)


def _case_id(path: Path) -> str:
    return path.name.removesuffix(".expected.json")


def _model_key(text: str | None) -> str:
    text = re.sub(r"\[.*?\]", "", (text or "").lower())
    return re.sub(r"[^a-z0-9]", "", BRAND_WORDS.sub("", text))


def _words(text: str | None) -> str:
    return " ".join((text or "").replace("\x00", " ").split())


def _descriptions(raw: str) -> set[str]:
    """A raw description, and its text when it is a net-snmp hex dump left in the capture."""
    found = {_words(raw)}
    tail = HEX_TAIL.match(raw)
    if tail:
        found.add(_words(tail.group(1) + bytes.fromhex("".join(tail.group(2).split())).decode()))
    return found


def expectations(case: dict) -> dict:
    """What a correct reading of this capture must contain."""
    upstream, raw = case["asserted_by_upstream"], case["raw_from_walk"]
    device = upstream.get("device", {})
    expected: dict = {}
    serial = (raw.get("prtGeneralSerialNumber") or {}).get("1") or device.get("serial")
    if serial and serial.strip() not in PLACEHOLDERS:
        expected["serial"] = serial.strip()
    models = {device.get("hardware"), device.get("model")} - {None}
    hr_first = (raw.get("hrDeviceDescr") or {}).get("1")
    if models and hr_first and not hr_first.lower().startswith("generic"):
        models.add(hr_first)
    if keys := {_model_key(model) for model in models} - {""}:
        expected["model"] = keys
    macs = {
        mac.lower()
        for mac in (raw.get("ifPhysAddress") or {}).values()
        if mac and mac.replace(":", "").strip("0") and mac.lower() not in PLACEHOLDERS
    }
    if macs:
        expected["mac"] = macs
    expected["counters"] = _counter_expectations(upstream, raw)
    expected["supplies"] = _supply_expectations(upstream, raw)
    return expected


def _counter_expectations(upstream: dict, raw: dict) -> dict[str, set[int]]:
    counters: dict[str, set[int]] = {}
    markers = list((raw.get("prtMarker") or {}).values())
    if markers and markers[0].get("prtMarkerLifeCount") is not None:
        counters["total"] = {markers[0]["prtMarkerLifeCount"]}
    for sensor in upstream.get("count_sensors") or []:
        key = SENSOR_DESCRIPTIONS.get(sensor["descr"].lower())
        if key == "total":
            counters.setdefault("total", set()).add(sensor["value"])
        elif key:
            counters[key] = {sensor["value"]}
    sensors = upstream.get("sensors") or {}
    for name, key in BROTHER_SENSORS.items():
        if sensors.get(name) is not None:
            counters[key] = {sensors[name]}
    if "total" in counters:  # Brother's own total and prtMarkerLifeCount may differ: both fine
        for name, value in raw.items():
            if name.startswith("prtMarkerLifeCount") and str(value).isdigit():
                counters["total"].add(int(value))
    return counters


def _supply_expectations(upstream: dict, raw: dict) -> list[tuple]:
    supplies = []
    for entry in (raw.get("prtMarkerSupplies") or {}).values():
        level, maximum = entry.get("level"), entry.get("maxCapacity")
        if level is None:
            continue
        if level >= 0 and maximum and maximum > 0:
            want = max(0, min(100, round(100 * level / maximum)))
        elif level == -3:
            want = "some_remaining"
        else:
            continue
        supplies.append(("description", _descriptions(entry.get("description", "")), want))
    for name, value in (upstream.get("sensors") or {}).items():
        match = re.fullmatch(r"(black|cyan|magenta|yellow)_(toner|ink)_remaining", name)
        if match:
            supplies.append(("kind", (match.group(2), match.group(1)), value))
    return supplies


def _supply_matches(supply: dict, how: str, key, want) -> bool:
    if how == "description":
        found = _words(supply.get("description")) in key
    else:
        found = (supply.get("kind"), supply.get("colour")) == key
    if not found:
        return False
    if want == "some_remaining":
        return supply.get("state") == "some_remaining"
    return supply.get("percent") is not None and abs(supply["percent"] - want) <= 1


def _run_read(endpoint: str, community: str) -> subprocess.CompletedProcess[str]:
    command = [str(SCM_AGENT), "read", endpoint, "--community", community, "--json"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def cli_results(snmpsim) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every capture read once by the real command, several at a time."""
    ids = [_case_id(path) for path in CASES]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = pool.map(lambda case_id: _run_read(snmpsim.endpoint, case_id), ids)
        return dict(zip(ids, results, strict=True))


@pytest.mark.parametrize("path", CASES, ids=_case_id)
def test_reading_matches_capture(path: Path, cli_results) -> None:
    case_id = _case_id(path)
    result = cli_results[case_id]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    got = json.loads(result.stdout)
    Reading.from_dict(got)  # the output keeps to the contract
    expected = expectations(json.loads(path.read_text(encoding="utf-8")))
    device, counters = got["device"], got["counters"]

    if "serial" in expected:
        assert device["serial"] == expected["serial"]
    if "model" in expected:
        assert _model_key(device["model"]) in expected["model"], device["model"]
    if "mac" in expected:
        assert device["mac"] in expected["mac"]
    for key, accepted in expected["counters"].items():
        assert counters[key] in accepted, f"counter {key}: {counters[key]} not in {accepted}"
    remaining = list(got["supplies"])
    for how, key, want in expected["supplies"]:
        match = next((s for s in remaining if _supply_matches(s, how, key, want)), None)
        assert match is not None, f"no supply {key} at {want}: {remaining}"
        remaining.remove(match)


def test_every_capture_is_covered() -> None:
    assert len(CASES) >= 27
    assert all(path.with_name(_case_id(path) + ".snmprec").exists() for path in CASES)
