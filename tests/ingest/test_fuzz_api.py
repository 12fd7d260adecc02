"""A seeded fuzz of every API route: hostile bodies and headers, most of them correctly signed
so they reach the decoders.  Every answer is below 500 and is the documented JSON; afterwards
every stored batch holds exactly its readings and no stored JSON holds a NUL."""

from __future__ import annotations

import copy
import gzip
import json
import logging
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from support.ingest import BATCHES_PATH, ENROLL_PATH, reading

from ingest.models import DeviceReading, UploadBatch
from shared.signing import generate_private_key, public_key_text, sign_request

REQUESTS = 10_000
SEED = 20261128
HEARTBEAT_PATH = "/api/v1/agents/heartbeat"
CONFIG_PATH = "/api/v1/agents/config"
HOSTILE: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    1e300,
    -(2**70),
    2**70,
    "",
    "\x00",
    "a\x00b",
    "x" * 5000,
    "\ud800",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+14:00",
    "2026-13-45T99:00:00Z",
    [],
    {},
    [1, [2, [3]]],
    {"kind": ["toner"]},
]


def deep(levels: int) -> str:
    """A marker that ``encode`` turns into ``levels`` nested arrays (no recursion here)."""
    return f"__deep_{levels}__"


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``value`` (objects and arrays), the root included."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += leaves(child, (*path, index))
    return found


def mutate(rng: random.Random, document: Any) -> Any:
    """One to three random edits: a hostile value, a deleted key, an extra key, deep nesting."""
    document = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(leaves(document)[1:] or [()])
        if not path:
            return copy.deepcopy(rng.choice(HOSTILE))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = rng.random()
        if action < 0.7:
            parent[path[-1]] = copy.deepcopy(rng.choice(HOSTILE))
        elif action < 0.8 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action < 0.9 and isinstance(parent, dict):
            parent[rng.choice(["extra", "\x00", "clock", "derived"])] = copy.deepcopy(
                rng.choice(HOSTILE)
            )
        else:
            parent[path[-1]] = deep(rng.choice([50, 2000, 100_000]))
    return document


def encode(rng: random.Random, document: Any, *, gzipped: bool) -> bytes:
    """JSON bytes (sometimes with NaN, sometimes broken), gzip-compressed for batches."""
    text_ = json.dumps(document, allow_nan=True)
    for levels in (50, 2000, 100_000):
        text_ = text_.replace(f'"{deep(levels)}"', "[" * levels + "0" + "]" * levels)
    raw = text_.encode()
    roll = rng.random()
    if roll < 0.03:
        raw = raw[: rng.randint(0, len(raw))]
    elif roll < 0.05:
        raw = b"\xff\xfe" + raw
    if not gzipped:
        return raw
    body = gzip.compress(raw, mtime=0)
    if rng.random() < 0.03:
        body = body[: rng.randint(0, len(body))]
    return body


def headers_for(rng: random.Random, key, method, path, body, agent_id, request_id) -> dict:
    headers = sign_request(
        key,
        method=method,
        path=path,
        body=body,
        agent_id=agent_id,
        request_id=request_id,
        timestamp=int(time.time()),
    )
    roll = rng.random()
    if roll < 0.1:  # unsigned, or a header gone or replaced
        headers.pop(rng.choice(list(headers)))
    elif roll < 0.2:
        headers[rng.choice(list(headers))] = rng.choice(["", "x" * 300, "\u00e9", "1e999", "-1"])
    return headers


def check(response) -> None:
    assert response.status_code < 500, (response.status_code, response.get_data()[:300])
    data = response.get_json(silent=True)
    assert isinstance(data, dict), response.get_data()[:300]
    assert "server_time" in data
    if response.status_code >= 400:
        assert isinstance(data.get("error"), str) and isinstance(data.get("message"), str)


def test_ten_thousand_hostile_requests_get_clean_answers(client, agent, session, caplog):
    caplog.set_level(logging.ERROR)  # ten thousand refusals are expected: keep only errors
    rng = random.Random(SEED)
    now = datetime.now(UTC).replace(microsecond=0)
    base_reading = reading(observed_at=now - timedelta(minutes=5)).to_dict()
    base_beat = {"agent_version": "1.0", "started_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "uptime_s": 5, "backlog_readings": 0, "backlog_batches": 0, "backlog_bytes": 0,
                 "dropped_total": 0, "dead_letters": 0, "devices_known": 1, "devices_read": 1,
                 "config_version": 0}  # fmt: skip
    enroll_key = generate_private_key()
    base_enroll = {"token": "scm-enroll-nope", "public_key": public_key_text(enroll_key),
                   "hostname": "h", "agent_version": "1"}  # fmt: skip
    seq = 0
    for _ in range(REQUESTS):
        route = rng.random()
        request_id = str(uuid.uuid4())
        if route < 0.55:
            seq += 1
            batch = {"schema": "scm.batch.v1", "agent_id": agent.agent_id, "batch_id": request_id,
                     "seq": seq, "created_at": base_beat["started_at"],
                     "readings": [copy.deepcopy(base_reading)]}  # fmt: skip
            body = encode(rng, mutate(rng, batch) if rng.random() < 0.97 else batch, gzipped=True)
            headers = headers_for(
                rng, agent.key, "POST", BATCHES_PATH, body, agent.agent_id, request_id
            )
            headers |= {"Content-Type": "application/json", "Content-Encoding": "gzip"}
            check(client.post(BATCHES_PATH, data=body, headers=headers))
        elif route < 0.7:
            body = encode(rng, mutate(rng, base_enroll), gzipped=False)
            headers = headers_for(rng, enroll_key, "POST", ENROLL_PATH, body, "enroll", request_id)
            check(client.post(ENROLL_PATH, data=body, headers=headers,
                              content_type="application/json"))  # fmt: skip
        elif route < 0.9:
            body = encode(rng, mutate(rng, base_beat), gzipped=False)
            headers = headers_for(
                rng, agent.key, "POST", HEARTBEAT_PATH, body, agent.agent_id, request_id
            )
            check(client.post(HEARTBEAT_PATH, data=body, headers=headers,
                              content_type="application/json"))  # fmt: skip
        else:
            headers = headers_for(
                rng, agent.key, "GET", CONFIG_PATH, b"", agent.agent_id, request_id
            )
            check(client.get(CONFIG_PATH, headers=headers))
    session.expire_all()
    stored = session.scalar(select(func.count()).select_from(UploadBatch))
    assert stored > 100  # harmless mutations (an extra key, another valid value) are stored
    for batch in session.scalars(select(UploadBatch)):
        readings = select(func.count()).where(DeviceReading.batch_id == batch.id)
        assert session.scalar(readings) == batch.reading_count
    nul = session.scalar(
        select(func.count())
        .select_from(DeviceReading)
        .where(text("CAST(payload AS TEXT) LIKE '%\\u0000%'"))
    )
    assert nul == 0
