"""The upload batch: a versioned envelope of readings, as gzip-compressed JSON.

Limits live here, beside the format, so the agent never builds a batch the server would refuse
with 413: compressed body size, decompressed size (a gzip bomb stops at the limit, it is never
inflated whole) and readings per batch.
"""

from __future__ import annotations

import gzip
import json
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal

import msgspec

from shared.reading import (
    Reading,
    ReadingError,
    decode_plain,
    decoded_as_checked,
    decoded_moment_as_checked,
    format_timestamp,
    parse_timestamp,
)
from shared.reading import parse_json as parse_reading_json

SCHEMA: Final = "scm.batch.v1"
CONTENT_TYPE: Final = "application/json"
CONTENT_ENCODING: Final = "gzip"
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
MAX_DECOMPRESSED_BYTES: Final = 16 * 1024 * 1024
MAX_READINGS: Final = 1000
_MAX_SEQ: Final = 2**63 - 1


class BatchError(ValueError):
    """A batch body that cannot be accepted as it is; ``reason`` is machine-readable."""

    reason = "malformed_batch"


class BatchTooLarge(BatchError):  # noqa: N818 - reads as the HTTP status it maps to
    """Over a size limit: the sender must split, not retry (HTTP 413)."""

    reason = "too_large"


@dataclass(frozen=True, slots=True)
class Batch:
    """One upload: ``seq`` grows by one per batch of an agent so the server can see gaps."""

    agent_id: str
    batch_id: str
    seq: int
    created_at: datetime
    readings: tuple[Reading, ...]

    def to_dict(self) -> dict[str, Any]:
        """The envelope as JSON-ready data."""
        return {
            "schema": SCHEMA,
            "agent_id": self.agent_id,
            "batch_id": self.batch_id,
            "seq": self.seq,
            "created_at": format_timestamp(self.created_at),
            "readings": [reading.to_dict() for reading in self.readings],
        }


def encode_batch(batch: Batch) -> bytes:
    """Compact JSON, gzip with a fixed mtime so the same batch always gives the same bytes."""
    if len(batch.readings) > MAX_READINGS:
        raise BatchTooLarge(f"a batch holds at most {MAX_READINGS} readings")
    raw = json.dumps(batch.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    body = gzip.compress(raw, compresslevel=6, mtime=0)
    if len(body) > MAX_BODY_BYTES:
        raise BatchTooLarge(f"compressed batch is over {MAX_BODY_BYTES} bytes")
    return body


def gunzip_bounded(body: bytes, limit: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """Inflate at most ``limit`` bytes; more is a ``BatchTooLarge``, never a memory spike."""
    if len(body) > MAX_BODY_BYTES:
        raise BatchTooLarge(f"body is over {MAX_BODY_BYTES} bytes")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as err:
        raise BatchError(f"body is not valid gzip: {err}") from err
    if len(data) > limit or inflater.unconsumed_tail:
        raise BatchTooLarge(f"decompressed batch is over {limit} bytes")
    if not inflater.eof:
        raise BatchError("body is truncated gzip")
    return data


def decode_batch(body: bytes) -> Batch:
    """Check an untrusted body end to end and return the batch; raises ``BatchError``.

    Nearly every body is a well-formed batch: msgspec decodes it straight into the contract's
    structs, checking types, lengths and ranges in C (a tenth of the time of parsing, then
    checking in Python).  Whatever it refuses or cannot vouch for is read again by
    ``_checked_batch``, which accepts exactly what the fast path accepts, builds the same
    objects, and names the field at fault in its refusal.
    """
    raw = gunzip_bounded(body)
    return _decoded_batch(raw) or _checked_batch(raw)


class _Envelope(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The batch as the fast path decodes it: the envelope's checks as types."""

    schema: Literal[SCHEMA]  # type: ignore[valid-type]
    agent_id: Annotated[str, msgspec.Meta(min_length=1)]
    batch_id: str
    seq: Annotated[int, msgspec.Meta(gt=0, le=_MAX_SEQ)]
    created_at: datetime
    readings: Annotated[tuple[Reading, ...], msgspec.Meta(max_length=MAX_READINGS)]


_ENVELOPE: Final = msgspec.json.Decoder(_Envelope)


def _decoded_batch(raw: bytes) -> Batch | None:
    """The batch decoded by msgspec, or None for anything ``_checked_batch`` must judge."""
    envelope = decode_plain(_ENVELOPE, raw)
    if envelope is None or not (
        decoded_moment_as_checked(envelope.created_at)
        and _is_uuid(envelope.batch_id)
        and all(map(decoded_as_checked, envelope.readings))
    ):
        return None
    return Batch(
        envelope.agent_id, envelope.batch_id, envelope.seq, envelope.created_at, envelope.readings
    )


def _checked_batch(raw: bytes) -> Batch:
    """The batch checked field by field in Python, each refusal naming its field."""
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise BatchError("batch: expected a JSON object")
    if data.get("schema") != SCHEMA:
        raise BatchError(f"batch.schema: expected {SCHEMA!r}")
    agent_id, batch_id = data.get("agent_id"), data.get("batch_id")
    if not isinstance(agent_id, str) or not agent_id:
        raise BatchError("batch.agent_id: expected a string")
    if not isinstance(batch_id, str) or not _is_uuid(batch_id):
        raise BatchError("batch.batch_id: expected a UUID")
    seq = data.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq <= _MAX_SEQ:
        raise BatchError("batch.seq: expected a positive integer")
    readings = data.get("readings")
    if not isinstance(readings, list):
        raise BatchError("batch.readings: expected an array")
    if len(readings) > MAX_READINGS:
        raise BatchTooLarge(f"a batch holds at most {MAX_READINGS} readings")
    try:
        created_at = parse_timestamp(data.get("created_at"), "batch.created_at")
        parsed = tuple(_reading(item, i) for i, item in enumerate(readings))
    except ReadingError as err:
        raise BatchError(str(err)) from err
    return Batch(agent_id, batch_id, seq, created_at, parsed)


def parse_json(raw: bytes) -> Any:
    """The body's JSON, strictly (``shared.reading.parse_json``); a ``BatchError`` if not."""
    try:
        return parse_reading_json(raw, "body")
    except ReadingError as err:
        raise BatchError(str(err)) from err


def new_batch_id() -> str:
    """A random batch id: the idempotency key of one upload."""
    return str(uuid.uuid4())


def _reading(item: Any, index: int) -> Reading:
    try:
        return Reading.from_dict(item)
    except ReadingError as err:
        raise ReadingError(f"readings[{index}].{err}") from err


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False
