"""The batch wire format: round trip, limits, and refusal of bad bodies with a clear reason."""

import gzip
import json
from datetime import UTC, datetime

import pytest

from shared.batch import (
    MAX_DECOMPRESSED_BYTES,
    MAX_READINGS,
    Batch,
    BatchError,
    BatchTooLarge,
    decode_batch,
    encode_batch,
    new_batch_id,
)
from shared.reading import Counters, Device, Reading, Supply

MOMENT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def _reading(serial="S1"):
    return Reading(
        address="127.0.0.1:161",
        observed_at=MOMENT,
        device=Device(
            manufacturer="Ricoh", model="MP C3002", serial=serial, mac="00:26:73:aa:bb:cc"
        ),
        counters=Counters(total=1000, mono=600, colour=400),
        supplies=(Supply.from_raw("toner", "black", "Black Toner", 30, 100),),
        alerts=(),
    )


def _batch(readings=None):
    return Batch("agent-1", new_batch_id(), 7, MOMENT, tuple(readings or [_reading()]))


def _gz(obj):
    return gzip.compress(json.dumps(obj).encode())


def test_round_trip_is_lossless_and_deterministic():
    batch = _batch()
    body = encode_batch(batch)
    assert decode_batch(body) == batch
    assert encode_batch(batch) == body


def test_gzip_bomb_stops_at_the_limit_without_inflating_it_all():
    bomb = gzip.compress(b"[" + b" " * (MAX_DECOMPRESSED_BYTES + 1024))
    assert len(bomb) < 64 * 1024
    with pytest.raises(BatchTooLarge):
        decode_batch(bomb)


def test_too_many_readings_is_too_large_not_malformed():
    with pytest.raises(BatchTooLarge):
        encode_batch(_batch([_reading(str(i)) for i in range(MAX_READINGS + 1)]))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"not gzip at all", "gzip"),
        (gzip.compress(b"{not json"), "JSON"),
        (_gz([1, 2]), "object"),
        (_gz({"schema": "other"}), "schema"),
    ],
    # Named, not shown: a gzip header holds the second it was made, and pytest-xdist stops the
    # run when its workers, collecting a second apart, see different test ids.
    ids=("not-gzip", "not-json", "not-an-object", "other-schema"),
)
def test_malformed_bodies_say_what_is_wrong(body, words):
    with pytest.raises(BatchError) as err:
        decode_batch(body)
    assert words in str(err.value)
    assert not isinstance(err.value, BatchTooLarge)


def test_a_reading_breaking_the_contract_names_its_field():
    data = _batch().to_dict()
    data["readings"][0]["counters"]["total"] = -5
    with pytest.raises(BatchError) as err:
        decode_batch(_gz(data))
    assert "readings[0]" in str(err.value)
    assert "counters.total" in str(err.value)


@pytest.mark.parametrize(
    ("field", "value"), [("seq", 0), ("seq", "1"), ("batch_id", "x"), ("agent_id", None)]
)
def test_envelope_fields_are_checked(field, value):
    data = _batch().to_dict()
    data[field] = value
    with pytest.raises(BatchError):
        decode_batch(_gz(data))


def test_truncated_gzip_is_refused():
    body = encode_batch(_batch())
    with pytest.raises(BatchError):
        decode_batch(body[: len(body) // 2])


def _envelope(**change):
    data = {**_batch().to_dict(), **change}
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _answer(decode, raw):
    try:
        return decode(raw)
    except BatchError as err:
        return f"refused {type(err).__name__}: {err}"


@pytest.mark.parametrize(
    ("raw", "fast"),
    [
        (_envelope(), True),
        (_envelope(created_at="2026-11-22t10:00:00z"), True),  # RFC 3339 allows lower case
        (_envelope(created_at="2026-11-22T11:00:00+01:00"), False),
        (_envelope(created_at="2026-11-22T10:00:00"), False),
        (_envelope(created_at="2026-11-22T10:00:59.9999996Z"), True),  # one parser: same moment
        (_envelope(created_at="2026-11-22"), False),
        (_envelope(seq=0), False),
        (_envelope(seq=True), False),
        (_envelope(seq=7.0), False),
        (_envelope(seq=2**63), False),
        (_envelope(agent_id=""), False),
        (_envelope(batch_id="not-a-uuid"), False),
        (_envelope(batch_id="6F9619FF-8B86-D011-B42D-00C04FC964FF"), True),
        (_envelope(schema="scm.batch.v2"), False),
        (_envelope(readings={}), False),
        (_envelope(extra={"deep": [1, {"a": None}]}), False),  # unknown: the careful way
        (_envelope(extra="\x00"), False),
        (_envelope(extra="\ud800"), False),
        (_envelope(extra="caf\u00e9"), False),
        (_envelope()[:-1] + b', "extra": 1e400}', False),  # beyond a double: orjson refuses
        (_envelope()[:-1] + b', "extra": ' + b"9" * 400 + b"}", False),
        (_envelope()[:-1] + b', "extra": "\xff"}', False),  # invalid UTF-8, even where unread
        (_envelope()[:-1] + b', "extra": ' + b"[" * 5000 + b"]" * 5000 + b"}", False),
        (_envelope(readings=[_reading().to_dict()] * (MAX_READINGS + 1)), False),
        (b"[]", False),
        (b"", False),
    ],
)
def test_the_fast_decoder_takes_only_what_the_careful_one_builds_alike(raw, fast):
    from shared.batch import _checked_batch, _decoded_batch

    decoded = _decoded_batch(raw)
    assert (decoded is not None) == fast
    if decoded is not None:
        assert decoded == _checked_batch(raw)
    assert _answer(decode_batch, gzip.compress(raw)) == _answer(_checked_batch, raw)
