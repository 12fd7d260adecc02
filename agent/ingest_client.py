"""The HTTP sender: connect, write one signed request, classify the answer.  Nothing else.

Buffering and retry policy belong to the uploader (Telegraf's split between an output plugin and
its running wrapper); this module only knows the ingest API's URLs, headers and status codes.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Final

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent import __version__
from agent.server_clock import ServerClock
from shared.batch import CONTENT_ENCODING, CONTENT_TYPE
from shared.reading import ReadingError, parse_timestamp
from shared.signing import public_key_text, sign_request

ENROLL_PATH: Final = "/api/v1/agents/enroll"
BATCHES_PATH: Final = "/api/v1/batches"
ENROLL_AGENT_ID: Final = "enroll"
DEFAULT_TIMEOUT_S: Final = 30.0
CONFIG_PATH: Final = "/api/v1/agents/config"
HEARTBEAT_PATH: Final = "/api/v1/agents/heartbeat"
RELEASES_PATH: Final = "/api/v1/agents/releases"
#: The 4xx answers worth trying again later with the same bytes; every 5xx is too.  408 and 429
#: say "later"; 409 is in because the service issue asks for it (an idempotency conflict may be
#: a twin request still in flight), and the uploader dead-letters a batch whose 409 persists.
RETRYABLE_4XX: Final = frozenset({408, 409, 429})
#: 401 codes that refuse the agent itself, not a batch: revoked, unknown or re-keyed.
AGENT_REFUSALS: Final = frozenset({"unknown_agent", "bad_signature", "bad_key"})
REQUEST_ID_HEADER: Final = "X-Request-Id"


log = logging.getLogger(__name__)


class IngestError(Exception):
    """The ingest service could not be reached or refused a request."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one request ended: ``accepted``, ``retry`` (same bytes, later), ``rejected`` (this
    request, for good) or ``refused`` (the agent itself: everything waits)."""

    verdict: str
    status: int | None
    body: dict[str, Any]
    retry_after_s: float | None = None
    clock_offset_s: float | None = None
    #: The server's ``X-Request-Id`` for this answer (None when it sends none).
    request_id: str | None = None

    @property
    def error(self) -> str:
        """A one-line reason for logs and the dead-letter table."""
        code = self.body.get("error", "")
        message = self.body.get("message", "")
        return f"HTTP {self.status} {code}: {message}".strip() if self.status else message


class IngestClient:
    """One ingest server; a ``requests.Session`` keeps the TLS connection alive between calls."""

    def __init__(
        self,
        server: str,
        *,
        verify: bool | str = True,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        session: requests.Session | None = None,
        proxy: str | None = None,
        server_clock: ServerClock | None = None,
    ) -> None:
        """``verify``: True (system CAs), a CA bundle path, or False (a lab only).

        Without ``proxy`` the standard ``HTTPS_PROXY`` / ``NO_PROXY`` variables apply.
        ``server_clock`` learns the server's time from every answer (kept in the agent's home
        when the caller passes one that is).
        """
        self.server = server.rstrip("/")
        self.verify = verify
        self.timeout_s = timeout_s
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"scm-agent/{__version__}"
        #: Passed with every request so a configured proxy wins over the environment's.
        self.proxies = {"https": proxy, "http": proxy} if proxy else {}
        #: The server's time, learnt from every answer: signs requests and stamps readings.
        self.server_clock = server_clock or ServerClock()

    @property
    def clock_offset_s(self) -> float:
        """Seconds to add to the local clock (0 until the server's time is known)."""
        return self.server_clock.offset_s or 0.0

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def enroll(self, key: Ed25519PrivateKey, token: str) -> dict[str, Any]:
        """Register this agent's public key with a one-time token; returns the server's answer."""
        body = json.dumps(
            {
                "token": token,
                "public_key": public_key_text(key),
                "hostname": socket.gethostname(),
                "agent_version": __version__,
            }
        ).encode("utf-8")
        outcome = self._signed(
            key,
            "POST",
            ENROLL_PATH,
            body,
            agent_id=ENROLL_AGENT_ID,
            request_id=str(uuid.uuid4()),
            headers={"Content-Type": "application/json"},
        )
        if outcome.verdict != "accepted":
            raise IngestError(f"enrollment refused: {outcome.error}")
        return outcome.body

    def post_batch(
        self, key: Ed25519PrivateKey, agent_id: str, batch_id: str, body: bytes
    ) -> Outcome:
        """Send one batch's exact bytes; the batch id is the request id (the idempotency key)."""
        headers = {"Content-Type": CONTENT_TYPE, "Content-Encoding": CONTENT_ENCODING}
        return self._with_clock_retry(
            key, "POST", BATCHES_PATH, body, agent_id=agent_id, request_id=batch_id, headers=headers
        )

    def get_config(self, key: Ed25519PrivateKey, agent_id: str) -> Outcome:
        """Fetch this agent's remote configuration (a signed GET over an empty body)."""
        return self._with_clock_retry(
            key, "GET", CONFIG_PATH, b"", agent_id=agent_id, request_id=str(uuid.uuid4())
        )

    def post_heartbeat(
        self, key: Ed25519PrivateKey, agent_id: str, payload: dict[str, Any]
    ) -> Outcome:
        """Send one heartbeat; the answer carries the server's configuration version."""
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return self._with_clock_retry(
            key,
            "POST",
            HEARTBEAT_PATH,
            body,
            agent_id=agent_id,
            request_id=str(uuid.uuid4()),
            headers={"Content-Type": "application/json"},
        )

    def fetch_release(
        self, key: Ed25519PrivateKey, agent_id: str, version: str, dest: Path, size: int
    ) -> None:
        """Download the release offered to this agent into ``dest`` (at most ``size`` bytes).

        Raises IngestError when the server refuses or the transfer breaks off; the file's
        content is checked by the caller (digest and signature), not trusted here.
        """
        path = f"{RELEASES_PATH}/{version}"
        timestamp = int(time.time() + self.clock_offset_s)
        signed = sign_request(
            key,
            method="GET",
            path=path,
            body=b"",
            agent_id=agent_id,
            request_id=str(uuid.uuid4()),
            timestamp=timestamp,
        )
        try:
            with self.session.get(
                self.server + path,
                headers=signed,
                timeout=self.timeout_s,
                verify=self.verify,
                proxies=self.proxies,
                stream=True,
            ) as response:
                if response.status_code != 200:
                    raise IngestError(
                        f"release {version}: {_classify(response, time.time()).error}"
                    )
                written = 0
                with dest.open("wb") as out:
                    for chunk in response.iter_content(1024 * 1024):
                        written += len(chunk)
                        if written > size:
                            raise IngestError(f"release {version}: larger than announced")
                        out.write(chunk)
        except requests.RequestException as err:
            raise IngestError(f"release {version}: {type(err).__name__}: {_short(err)}") from err

    def _with_clock_retry(
        self,
        key: Ed25519PrivateKey,
        method: str,
        path: str,
        body: bytes,
        *,
        agent_id: str,
        request_id: str,
        headers: dict[str, str] | None = None,
    ) -> Outcome:
        """One request; a stale clock is corrected once and the request signed afresh.

        The timestamp is part of the signature, so the retry needs a new one.
        """
        args = (key, method, path, body)
        options = {"agent_id": agent_id, "request_id": request_id, "headers": headers or {}}
        outcome = self._signed(*args, **options)
        stale = outcome.status == 401 and outcome.body.get("error") == "stale_timestamp"
        if stale and outcome.verdict == "retry":  # the answer carried server_time: now learnt
            outcome = self._signed(*args, **options)
        return outcome

    def _signed(
        self,
        key: Ed25519PrivateKey,
        method: str,
        path: str,
        body: bytes,
        *,
        agent_id: str,
        request_id: str,
        headers: dict[str, str],
    ) -> Outcome:
        sent = time.time()
        timestamp = int(sent + self.clock_offset_s)
        signed = sign_request(
            key,
            method=method,
            path=path,
            body=body,
            agent_id=agent_id,
            request_id=request_id,
            timestamp=timestamp,
        )
        try:
            response = self.session.request(
                method,
                self.server + path,
                data=body or None,
                headers={**headers, **signed},
                timeout=self.timeout_s,
                verify=self.verify,
                proxies=self.proxies,
            )
        except requests.RequestException as err:
            return Outcome("retry", None, {"message": f"{type(err).__name__}: {_short(err)}"})
        outcome = _classify(response, (sent + time.time()) / 2)
        if outcome.clock_offset_s is not None:
            self.server_clock.learn(outcome.clock_offset_s)
        _log_outcome(method, path, response, outcome)
        return outcome


def _classify(response: requests.Response, local_time: float) -> Outcome:
    """Map an HTTP answer onto the retry policy of notes/ingest-protocol.md and the issue.

    2xx accepted; 5xx, 408, 409, 429 and a correctable clock retried later with the same bytes;
    an agent-level refusal (unknown, disabled or re-keyed agent) ``refused``: no batch is at
    fault, so every batch stays; any other 4xx rejected for good (the server will never take
    those bytes as they are).  Every answer's ``server_time`` gives the clock offset.
    """
    body = _json_body(response)
    status = response.status_code
    offset = _server_offset(body, local_time)
    request_id = response.headers.get(REQUEST_ID_HEADER)
    extra = {"clock_offset_s": offset, "request_id": request_id}
    if 200 <= status < 300:
        return Outcome("accepted", status, body, **extra)
    if status == 401 and body.get("error") == "stale_timestamp" and offset is not None:
        return Outcome("retry", status, body, **extra)
    if status == 401 and body.get("error") in AGENT_REFUSALS:
        return Outcome("refused", status, body, **extra)
    if status >= 500 or status in RETRYABLE_4XX:
        return Outcome("retry", status, body, retry_after_s=_retry_after(response), **extra)
    return Outcome("rejected", status, body, **extra)


def _server_offset(body: dict[str, Any], local_time: float) -> float | None:
    """How far the server clock is ahead of ours, from the ``server_time`` it sent back."""
    try:
        server_now = parse_timestamp(body.get("server_time"), "server_time").timestamp()
    except ReadingError:
        return None
    return server_now - local_time


def _log_outcome(method: str, path: str, response: requests.Response, outcome: Outcome) -> None:
    """One line per exchange with the server's request id, so support can find its side."""
    if outcome.request_id is None:
        return
    log.info(
        "%s %s: HTTP %s %s (request id %s)",
        method,
        path,
        response.status_code,
        outcome.verdict,
        _short(outcome.request_id, 80),
    )


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` as seconds, from either of its two forms."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - time.time())


def _json_body(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"message": _short(response.text)}
    return data if isinstance(data, dict) else {"message": _short(str(data))}


def _short(value: object, limit: int = 200) -> str:
    return " ".join(str(value).split())[:limit]
