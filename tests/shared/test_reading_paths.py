"""A reading's JSON text has a fast path (msgspec decodes it into the contract's structs, in C)
and a careful one (``checked_reading``, which names the field at fault).  Whatever the fast path
accepts, the careful one must accept too and build the very same reading; everything else falls
to the careful path, so both refuse alike.  Hypothesis mixes valid values with every kind of
wrong one, written as JSON both ASCII-escaped and as raw UTF-8."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.reading import (
    COUNTER_KEYS,
    SUPPLY_KINDS,
    SUPPLY_STATES,
    Reading,
    ReadingError,
    checked_reading,
    decoded_reading,
    parse_json,
    reading_from_json,
)

_ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
#: Lengths on either side of every text limit of the contract.
_EDGE_LENGTHS = (17, 18, 64, 65, 128, 129, 200, 201, 300, 301, 512, 513)
_TEXT = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(max_codepoint=127), max_size=20),
    st.text(max_size=20),  # non-ASCII, NUL, surrogates
    st.sampled_from(["a\x00b", "\ud800", "caf\u00e9", "\u00e9" * 200, ""]),
    st.sampled_from(_EDGE_LENGTHS).map(lambda n: "x" * n),
    _ODD,
)
_NUMBER = st.one_of(
    st.integers(min_value=-5, max_value=200),
    st.sampled_from([-1, 0, 100, 101, 2**63 - 1, 2**63, -(2**63 - 1), -(2**63)]),
    st.sampled_from([0.0, 5.0, 100.0, 101.0, -1.0, 0.5, float(2**63), float("inf")]),
    _ODD,
)
_WORD = st.one_of(st.sampled_from(sorted(SUPPLY_KINDS | SUPPLY_STATES)), st.text(max_size=8), _ODD)
_TIMESTAMP = st.one_of(
    st.just("2026-11-20T10:00:00Z"),
    st.just("2026-11-20T10:00:00.123+01:00"),
    st.just("2026-11-20T10:00:00"),  # no zone
    st.just("9999-01-01T00:00:00Z"),
    _TEXT,
)


_VALID_TEXT = st.one_of(st.none(), st.text(alphabet="ABCxyz09-. ", max_size=12))
_VALID_SUPPLY = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(sorted(SUPPLY_KINDS)),
        "colour": _VALID_TEXT,
        "description": _VALID_TEXT,
        "level": st.one_of(st.none(), st.integers(-3, 500)),
        "max": st.one_of(st.none(), st.integers(-2, 500)),
        "percent": st.one_of(st.none(), st.integers(0, 100)),
        "state": st.sampled_from(sorted(SUPPLY_STATES)),
    }
)
_VALID = st.fixed_dictionaries(
    {
        "address": st.text(alphabet="0123456789.:", min_size=1, max_size=20),
        "observed_at": st.just("2026-11-20T10:00:00Z"),
        "device": st.fixed_dictionaries(
            dict.fromkeys(("manufacturer", "model", "serial", "firmware"), _VALID_TEXT)
        ),
        "counters": st.fixed_dictionaries(
            {name: st.one_of(st.none(), st.integers(0, 10**9)) for name in COUNTER_KEYS}
        ),
        "supplies": st.lists(_VALID_SUPPLY, min_size=1, max_size=4),
        "alerts": st.just([]),
    }
)
#: Where a wrong value goes, and the values to try there.
_BAD: dict[tuple[Any, ...], st.SearchStrategy[Any]] = {
    ("address",): _TEXT,
    ("observed_at",): _TIMESTAMP,
    ("device", "serial"): _TEXT,
    ("device", "mac"): st.one_of(st.just("00:20:6b:01:02:03"), st.just("00:20:6B:01:02:03"), _TEXT),
    ("device", "sys_descr"): _TEXT,
    ("counters", "total"): _NUMBER,
    ("counters", "colour"): _NUMBER,
    ("supplies", 0, "kind"): _WORD,
    ("supplies", 0, "state"): _WORD,
    ("supplies", 0, "percent"): _NUMBER,
    ("supplies", 0, "level"): _NUMBER,
    ("supplies", 0, "max"): _NUMBER,
    ("supplies", 0, "colour"): _TEXT,
    ("supplies", 0, "description"): _TEXT,
    ("supplies", 0): _ODD,
    ("supplies",): _ODD,
    ("device",): _ODD,
    ("counters",): _ODD,
    ("alerts",): _ODD,
    ("clock",): st.sampled_from(["server", "local", "sundial"]),
}


@st.composite
def _readings(draw: st.DrawFn) -> Any:
    """A valid reading with up to two of its values (or the whole reading) made odd or wrong."""
    if draw(st.integers(0, 30)) == 0:
        return draw(_ODD)
    data = draw(_VALID)
    for path in draw(st.lists(st.sampled_from(sorted(_BAD, key=str)), max_size=2)):
        parent: Any = data
        for step in path[:-1]:
            fits = isinstance(parent, dict) and step in parent
            fits = fits or (isinstance(parent, list) and isinstance(step, int) and parent)
            parent = parent[step] if fits else None
        if isinstance(parent, dict) or (isinstance(parent, list) and parent and path[-1] == 0):
            parent[path[-1]] = draw(_BAD[path])
    return data


def _outcome(parse: Any, raw: bytes) -> Any:
    try:
        return parse(raw)
    except ReadingError as err:
        return f"refused: {err}"


def _careful(raw: bytes) -> Reading:
    return checked_reading(parse_json(raw, "reading"))


def _texts(data: Any) -> list[bytes]:
    """The reading as JSON, ASCII-escaped and as raw UTF-8 (lone surrogates as CESU bytes)."""
    return [
        json.dumps(data).encode(),
        json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass"),
    ]


def _same_answer(data: Any) -> int:
    """How many of the reading's texts the fast path took (each checked against the careful
    path's answer)."""
    taken = 0
    for raw in _texts(data):
        fast = decoded_reading(raw)
        if fast is not None:
            assert fast == _careful(raw), raw
            taken += 1
        assert _outcome(reading_from_json, raw) == _outcome(_careful, raw), raw
    return taken


@settings(max_examples=1500, deadline=None)  # each written two ways: 3,000 texts
@given(_readings())
def test_both_paths_accept_build_and_refuse_alike(data: Any) -> None:
    _same_answer(data)


def test_a_plain_reading_takes_the_fast_path_and_equals_the_careful_one() -> None:
    data = {
        "address": "10.0.0.5:161",
        "observed_at": "2026-11-20T10:00:00Z",
        "device": {"manufacturer": "Kyocera", "serial": "ABC123", "mac": "00:20:6b:01:02:03"},
        "counters": {"total": 1200, "mono": 900, "colour": 300},
        "supplies": [
            {"kind": "toner", "colour": "black", "description": None, "level": 40, "max": 100,
             "percent": 40, "state": "ok"}
        ],
        "alerts": [],
    }  # fmt: skip
    raw = orjson.dumps(data)
    reading = decoded_reading(raw)
    assert reading is not None
    assert reading == checked_reading(data) == Reading.from_dict(data)
    assert decoded_reading(reading.to_json()) == reading
    assert orjson.loads(reading.to_json()) == reading.to_dict()
    assert reading.counters.colour == 300 and reading.supplies[0].percent == 40


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"observed_at": "2026-11-20T11:00:00+01:00"}, "another zone: converted"),
        ({"observed_at": "1999-12-31T23:59:59Z"}, "year out of range"),
        ({"derived": ["mono", "mono"]}, "derived repeats"),
        ({"address": "a\x00b"}, "NUL"),
        ({"counters": {"total": 5.0}}, "integral float: the careful path takes it"),
        ({"alerts": None}, "missing array"),
        ({"vendor_note": "x"}, "a field the contract does not name"),
    ],
)
def test_what_the_fast_path_cannot_vouch_for_goes_the_careful_way(change, why) -> None:
    data = {
        "address": "10.0.0.5:161",
        "observed_at": "2026-11-20T10:00:00Z",
        "device": {},
        "counters": {},
        "supplies": [],
        "alerts": [],
        **change,
    }
    raw = orjson.dumps(data)
    assert decoded_reading(raw) is None, why
    assert _outcome(reading_from_json, raw) == _outcome(_careful, raw)


def test_a_number_beyond_a_double_in_an_unknown_field_is_refused_as_the_careful_path_does():
    raw = (
        orjson.dumps(
            {
                "address": "a",
                "observed_at": "2026-11-20T10:00:00Z",
                "device": {},
                "counters": {},
                "supplies": [],
                "alerts": [],
            }
        )[:-1]
        + b', "x": 1e400}'
    )
    assert decoded_reading(raw) is None
    assert _outcome(reading_from_json, raw).startswith("refused: reading is not valid JSON")


_EDGE_VALUES: list[Any] = [
    None, True, -1, 0, 5, 100, 101, 2**63 - 1, 2**63, -(2**63 - 1), -(2**63),
    0.0, 5.0, 101.0, 0.5, float("inf"), float("nan"), "", "ok", "toner", "nonsense",
    "a\x00b", "\ud800", "caf\u00e9", "00:20:6b:01:02:03", "00:20:6B:01:02:03",
    "00:20:6b:01:02:03\n",
    "2026-11-20T10:00:00Z", "2026-11-20T10:00:00", [], {}, [1], {"a": 1},
    *("x" * n for n in _EDGE_LENGTHS),
]  # fmt: skip


def test_every_edge_value_in_every_place_gets_the_same_answer_from_both_paths() -> None:
    base = {
        "address": "10.0.0.5:161",
        "observed_at": "2026-11-20T10:00:00Z",
        "device": {"manufacturer": "Kyocera", "serial": "ABC123", "mac": "00:20:6b:01:02:03"},
        "counters": {"total": 1200, "mono": 900, "colour": 300},
        "supplies": [{"kind": "toner", "colour": "black", "description": None, "level": 40,
                      "max": 100, "percent": 40, "state": "ok"}],
        "alerts": [],
    }  # fmt: skip
    compared = taken = 0
    for path in _BAD:
        for value in _EDGE_VALUES:
            data = copy.deepcopy(base)
            parent: Any = data
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = value
            taken += _same_answer(data)
            compared += 1
    assert compared == len(_BAD) * len(_EDGE_VALUES)
    assert 0 < taken < 2 * compared  # both paths were exercised
