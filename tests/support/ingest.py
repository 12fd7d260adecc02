"""Helpers for talking to the ingest API as an agent would: signed requests from real keys."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ingest.db import database
from ingest.domain.accounts import get_or_create_customer
from ingest.domain.enrollment import create_token
from shared.batch import Batch, encode_batch, new_batch_id
from shared.reading import Counters, Device, Reading, Supply
from shared.signing import generate_private_key, public_key_text, sign_request

ENROLL_PATH = "/api/v1/agents/enroll"
BATCHES_PATH = "/api/v1/batches"


def enroll_body(token: str, key: Ed25519PrivateKey, **extra: Any) -> bytes:
    """The JSON body ``scm-agent enroll`` sends."""
    data = {
        "token": token,
        "public_key": public_key_text(key),
        "hostname": "test-host",
        "agent_version": "test",
        **extra,
    }
    return json.dumps(data).encode()


def signed_headers(
    key: Ed25519PrivateKey,
    path: str,
    body: bytes,
    *,
    agent_id: str,
    request_id: str,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The signature headers for one request."""
    return sign_request(
        key,
        method="POST",
        path=path,
        body=body,
        agent_id=agent_id,
        request_id=request_id,
        timestamp=int(time.time()) if timestamp is None else timestamp,
    )


def post_enroll(client: FlaskClient, token: str, key: Ed25519PrivateKey) -> TestResponse:
    """Enroll ``key`` with ``token``."""
    body = enroll_body(token, key)
    headers = signed_headers(key, ENROLL_PATH, body, agent_id="enroll", request_id=new_batch_id())
    return client.post(ENROLL_PATH, data=body, headers=headers, content_type="application/json")


def reading(
    serial: str | None = "SN-0001",
    *,
    total: int = 1000,
    address: str = "10.0.0.5:161",
    mac: str | None = "00:11:22:33:44:55",
    black: int = 80,
    observed_at: datetime | None = None,
    manufacturer: str = "Acme",
    colour: int = 0,
    extra_supplies: tuple[Supply, ...] = (),
) -> Reading:
    """A plausible reading of one printer."""
    return Reading(
        address=address,
        observed_at=observed_at or datetime.now(UTC).replace(microsecond=0),
        device=Device(manufacturer=manufacturer, model="Laser 1", serial=serial, mac=mac),
        counters=Counters(total=total, mono=total - colour, colour=colour),
        supplies=(Supply.from_raw("toner", "black", "Black Toner", black, 100), *extra_supplies),
        alerts=(),
    )


@dataclass
class TestAgent:
    """An enrolled agent: its key, its server-side id and its next sequence number."""

    __test__ = False
    key: Ed25519PrivateKey
    agent_id: str
    seq: int = 0

    def batch(self, *readings: Reading, batch_id: str | None = None) -> tuple[str, bytes]:
        """A new encoded batch (id, gzip bytes)."""
        self.seq += 1
        batch = Batch(
            self.agent_id,
            batch_id or new_batch_id(),
            self.seq,
            datetime.now(UTC).replace(microsecond=0),
            tuple(readings),
        )
        return batch.batch_id, encode_batch(batch)

    def post(
        self,
        client: FlaskClient,
        batch_id: str,
        body: bytes,
        *,
        key: Ed25519PrivateKey | None = None,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        """Upload ``body`` signed by this agent (or by ``key``, to forge)."""
        signed = signed_headers(
            key or self.key,
            BATCHES_PATH,
            body,
            agent_id=self.agent_id,
            request_id=batch_id,
            timestamp=timestamp,
        )
        return client.post(
            BATCHES_PATH,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                **signed,
                **(headers or {}),
            },
        )


def enroll_agent(client: FlaskClient, token: str) -> TestAgent:
    """Enroll a fresh key and return it as a ``TestAgent``."""
    key = generate_private_key()
    response = post_enroll(client, token, key)
    assert response.status_code == 201, response.get_json()
    return TestAgent(key=key, agent_id=response.get_json()["agent_id"])


def gzip_json(data: Any) -> bytes:
    """Arbitrary JSON, gzip-compressed (for malformed batches)."""
    return gzip.compress(json.dumps(data).encode(), mtime=0)


def issue_token(app: Flask, customer: str = "Rossi srl") -> str:
    """A one-time enrollment token for ``customer`` (created if new)."""
    with database(app).session() as db:
        value = create_token(db, get_or_create_customer(db, customer))
        db.commit()
    return value


def agent_request_headers(
    agent: TestAgent,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    key: Ed25519PrivateKey | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Signature headers of ``agent`` (or another ``key``) for one request."""
    return sign_request(
        key or agent.key,
        method=method,
        path=path,
        body=body,
        agent_id=agent.agent_id,
        request_id=str(uuid.uuid4()),
        timestamp=int(time.time()) if timestamp is None else timestamp,
    )
