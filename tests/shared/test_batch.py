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
