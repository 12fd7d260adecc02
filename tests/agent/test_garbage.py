"""Hostile devices: wrong types, absurd sizes, sentinels, non-UTF-8 bytes, missing columns.

Every file in ``tests/fixtures/garbage`` is read by the real command over snmpsim.  The only
acceptable outcomes are a reading that keeps to the contract or a one-line error, and never a
traceback.  The same files are also fed straight to ``build_reading`` to pin down what the
reader makes of each kind of garbage.
"""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.snmpsim import parse_snmprec

from agent.reader import build_reading
from shared.reading import Reading

GARBAGE = Path(__file__).parents[1] / "fixtures" / "garbage"
FILES = sorted(GARBAGE.glob("*.snmprec"))
SCM_AGENT = Path(sys.executable).with_name("scm-agent")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def _community(path: Path) -> str:
    return path.name.removesuffix(".snmprec")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(SCM_AGENT), "read", *args, "--timeout", "1", "--retries", "1"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _run_both(*args: str) -> list[tuple[subprocess.CompletedProcess[str], bool]]:
    """The JSON and the human output of one read, run side by side."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [(pool.submit(_run, *args, *flag), bool(flag)) for flag in (["--json"], [])]
        return [(future.result(), json_output) for future, json_output in futures]


def _assert_clean(result: subprocess.CompletedProcess[str], *, json_output: bool) -> None:
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        assert result.stderr == ""
        if json_output:
            Reading.from_dict(json.loads(result.stdout))
        else:
            assert result.stdout.strip()
    else:
        assert result.stdout == ""
        assert result.stderr.startswith("scm-agent: error: ")
        assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("version", ["2c", "1"])
@pytest.mark.parametrize("path", FILES, ids=_community)
def test_garbage_gives_a_clean_reading_or_one_line(snmpsim, path, version):
    args = (snmpsim.endpoint, "--community", _community(path), "--snmp-version", version)
    for result, json_output in _run_both(*args):
        _assert_clean(result, json_output=json_output)


def _read(name: str) -> Reading:
    return build_reading("192.0.2.9:161", NOW, parse_snmprec(GARBAGE / f"{name}.snmprec"))


def test_wrong_types_become_nulls():
    reading = _read("garbage__wrong_types")
    device = reading.device
    assert (device.manufacturer, device.model, device.serial, device.mac) == (None,) * 4
    assert (device.sys_descr, device.sys_object_id) == (None, None)
    assert reading.counters.total is None
    assert all(s.level is None and s.percent is None for s in reading.supplies)
    assert all(s.description is None for s in reading.supplies)


def test_sentinels_keep_raw_levels_and_never_invent_percentages():
    reading = _read("garbage__sentinels")
    by_description = {s.description: s for s in reading.supplies}
    assert (by_description["Toner 3"].state, by_description["Toner 3"].percent) == (
        "some_remaining",
        None,
    )
    assert by_description["Toner 4"].level == -100
    assert by_description["Toner 4"].percent is None
    assert by_description["Toner 5"].percent is None  # max 0
    assert by_description["Toner 7"].percent == 100  # level above max is clamped
    assert by_description["Toner 10"].state == "empty"
    assert reading.counters.total is None  # prtMarkerLifeCount -5
    assert reading.counters.duplex is None  # vendor counter -7357
    assert reading.counters.copy_mono is None
    assert reading.counters.mono is None  # no sum from a missing part


def test_sizes_are_bounded():
    reading = _read("garbage__huge")
    assert len(reading.supplies) == 64
    assert len(reading.supplies[0].description) <= 256
    assert len(reading.device.sys_descr) <= 256
    assert len(reading.device.serial) <= 64
    assert Reading.from_dict(reading.to_dict()) == reading


def test_binary_text_is_decoded_never_a_repr():
    reading = _read("garbage__binary")
    text = json.dumps(reading.to_dict(), ensure_ascii=False)
    assert "b'" not in text
    assert "\\x" not in text
    assert reading.supplies[0].description == "Schwarz Tönerkartusche"
    assert reading.supplies[0].colour == "black"
    assert reading.device.mac is None  # 5 zero bytes, 6 zero bytes, 7 bytes
    assert reading.device.serial == "ÿþý"  # Latin-1 fallback of the vendor serial
    assert reading.counters.total is None  # malformed Brother counter blob


def test_missing_columns_give_partial_rows():
    reading = _read("garbage__missing_columns")
    assert len(reading.supplies) == 5
    assert reading.supplies[0].description == "Toner only a description"
    assert reading.supplies[0].colour is None  # colorant index 9 does not exist
    assert reading.counters.total == 1000
    assert reading.counters.mono is None  # -40 is not a count
    assert [alert.code for alert in reading.alerts] == ["other", "other", "tonerLow"]


def test_an_empty_device_is_an_empty_reading():
    reading = _read("garbage__empty")
    assert reading.device.model is None
    assert reading.supplies == ()
    assert reading.alerts == ()
