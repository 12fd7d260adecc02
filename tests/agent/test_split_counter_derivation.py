"""Black and colour totals derived from split counters through vendor data, never guessed.

A colour MFP that reports only print/copy/fax counters per colour mode (Kyocera's private
table) is read over real UDP from snmpsim; the table-driven cases pin the rule itself.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.vendors.engine import derive_counters
from agent.vendors.kyocera import PROFILE as KYOCERA
from agent.vendors.profile import PRINT_COPY_TOTALS, Sum
from shared.reading import Reading

SCM_AGENT = Path(sys.executable).with_name("scm-agent")


def _read(snmpsim, community: str) -> dict:
    done = subprocess.run(
        [str(SCM_AGENT), "read", snmpsim.endpoint, "--community", community, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_kyocera_with_split_counters_only_gets_derived_mono_and_colour(snmpsim):
    data = _read(snmpsim, "sim__kyocera_split_counters")
    counters = data["counters"]
    assert data["device"]["manufacturer"] == "Kyocera"
    parts = ("print_mono", "copy_mono", "fax", "print_colour", "copy_colour")
    assert all(counters[key] is not None for key in parts)
    assert counters["mono"] == counters["print_mono"] + counters["copy_mono"] + counters["fax"]
    assert counters["colour"] == counters["print_colour"] + counters["copy_colour"]
    assert counters["mono"] + counters["colour"] == counters["total"]
    assert data["derived"] == ["mono", "colour"]
    assert Reading.from_dict(data).derived == ("mono", "colour")


def test_a_device_that_reports_its_totals_marks_nothing_derived(snmpsim):
    data = _read(snmpsim, "librenms__sharp")
    assert data["counters"]["mono"] is not None
    assert "derived" not in data


SPLIT = {"print_mono": 100, "copy_mono": 50, "print_colour": 30, "copy_colour": 20}
KYOCERA_RULES = KYOCERA.derived


@pytest.mark.parametrize(
    ("counters", "rules", "want", "derived"),
    [
        # every part read: both sums made and marked
        (SPLIT, PRINT_COPY_TOTALS, {"mono": 150, "colour": 50}, ("mono", "colour")),
        # an optional part (fax) counts where the device reports it
        ({**SPLIT, "fax": 7}, KYOCERA_RULES, {"mono": 157, "colour": 50}, ("mono", "colour")),
        # a required part missing: that sum is not made (no guessed zero)
        (
            {k: v for k, v in SPLIT.items() if k != "copy_colour"},
            PRINT_COPY_TOTALS,
            {"mono": 150, "colour": None},
            ("mono",),
        ),
        # what the device reports itself wins and is not marked
        ({**SPLIT, "mono": 151}, PRINT_COPY_TOTALS, {"mono": 151, "colour": 50}, ("colour",)),
        # sums beyond the device's own total: inconsistent, nothing derived
        ({**SPLIT, "total": 180}, PRINT_COPY_TOTALS, {"mono": None, "colour": None}, ()),
        # within the total (other pages, e.g. reports, make up the rest)
        (
            {**SPLIT, "total": 210},
            PRINT_COPY_TOTALS,
            {"mono": 150, "colour": 50},
            ("mono", "colour"),
        ),
        # no vendor rule: nothing derived
        (SPLIT, {}, {"mono": None, "colour": None}, ()),
        # an empty-parts rule would sum nothing: the data tables never declare one
        (SPLIT, {"mono": Sum(("fax",))}, {"mono": None}, ()),
    ],
)
def test_derivation_rule(counters, rules, want, derived):
    result, marked = derive_counters(counters, rules)
    assert {key: result.get(key) for key in want} == want
    assert marked == derived


def test_vendor_rules_only_sum_counters_the_vendor_reads():
    from agent.vendors import PROFILES
    from shared.reading import DERIVABLE_COUNTERS

    for profile in PROFILES:
        for key, rule in profile.derived.items():
            assert key in DERIVABLE_COUNTERS, profile.key
            assert rule.parts and rule.keys() <= profile.counter_keys(), profile.key
