"""The upload policy against a real HTTP server on loopback, stepped by a simulated clock.

The server answers 500, 429/503 with ``Retry-After``, 4xx...; the agent's real client, spool
and backoff talk to it.  The clock moves one simulated second per step, so the tests see exactly
when each retry reaches the server without waiting for it.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta
from itertools import pairwise

import pytest
from support.agent_service import FakeClock, scripted_server, self_signed_tls

from agent.backoff import Backoff
from agent.ingest_client import IngestClient
from agent.spool import Spool
from agent.uploader import MAX_CONFLICTS, Uploader
from shared.reading import Counters, Device, Reading
from shared.signing import generate_private_key

AGENT = "agt_test"


def readings(count: int, clock: FakeClock) -> list[Reading]:
    return [
        Reading(
            address=f"192.0.2.{i}:161",
            observed_at=clock(),
            device=Device(serial=f"S{i}"),
            counters=Counters(),
            supplies=(),
            alerts=(),
        )
        for i in range(count)
    ]


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def spool(tmp_path):
    with Spool(tmp_path / "spool.sqlite") as outbox:
        yield outbox


def uploader(spool, server_url, *, seed=1, batch_size=500, **client_options):
    client = IngestClient(server_url, timeout_s=5, **client_options)
    backoff = Backoff(base_s=10, cap_s=600, rng=random.Random(seed))
    return Uploader(
        spool, client, generate_private_key(), AGENT, batch_size=batch_size, backoff=backoff
    )


def step_until(job, clock, server, requests, *, limit_s):
    """Call the upload job every simulated second until ``requests`` reached the server."""
    for _ in range(limit_s):
        if len(server.uploads()) >= requests:
            return
        job.upload(clock())
        clock.advance(1)
    raise AssertionError(f"only {len(server.uploads())} of {requests} requests in {limit_s} s")


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_respected(spool, clock, status):
    with scripted_server(clock) as server:
        server.script = [(status, {"Retry-After": "120"})]
        spool.add(readings(2, clock))
        job = uploader(spool, server.url)
        step_until(job, clock, server, 2, limit_s=600)
        first, second = server.uploads()
        assert second.at - first.at == timedelta(seconds=120), "not a second before Retry-After"
        assert second.batch_id == first.batch_id, "the same frozen batch is re-sent"
        assert second.body == first.body
        assert server.accepted == {first.batch_id: 2}
        assert spool.backlog().readings == 0


def test_server_errors_back_off_with_full_jitter(spool, clock):
    with scripted_server(clock) as server:
        server.script = [(500, {})] * 6
        spool.add(readings(1, clock))
        job = uploader(spool, server.url, seed=42)
        step_until(job, clock, server, 7, limit_s=4 * 3600)
        times = [seen.at for seen in server.uploads()]
        gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(times)]
    twin = random.Random(42)  # the same draws the agent made
    expected = [twin.uniform(0, min(600, 10 * 2**n)) for n in range(1, 7)]
    assert gaps == [max(1, math.ceil(wait)) for wait in expected]
    assert spool.backlog().readings == 0


def test_a_rejected_batch_is_dead_lettered_and_the_next_one_still_goes(spool, clock, caplog):
    with scripted_server(clock) as server:
        server.script = [(400, {})]
        spool.add(readings(2, clock))
        job = uploader(spool, server.url, batch_size=1)
        report = job.upload(clock())
        assert (report.rejected_batches, report.sent_batches) == (1, 1)
        assert report.complete
        assert len(server.uploads()) == 2
        clock.advance(3600)
        job.upload(clock())
        assert len(server.uploads()) == 2, "a rejected batch is never re-sent"
    backlog = spool.backlog()
    assert (backlog.readings, backlog.dead_letters) == (0, 1)
    assert "rejected: HTTP 400" in caplog.text


@pytest.mark.parametrize("status", [408, 409])
def test_408_and_409_are_retried(spool, clock, status):
    with scripted_server(clock) as server:
        server.script = [(status, {})]
        spool.add(readings(1, clock))
        job = uploader(spool, server.url)
        assert not job.upload(clock()).complete
        step_until(job, clock, server, 2, limit_s=3600)
    backlog = spool.backlog()
    assert (backlog.readings, backlog.dead_letters) == (0, 0)


def test_a_persistent_conflict_is_dead_lettered_after_max_conflicts(spool, clock):
    with scripted_server(clock) as server:
        server.script = [(409, {})] * MAX_CONFLICTS
        spool.add(readings(1, clock))
        job = uploader(spool, server.url)
        step_until(job, clock, server, MAX_CONFLICTS, limit_s=3600)
        assert spool.backlog().dead_letters == 1
        clock.advance(3600)
        job.upload(clock())
        assert len(server.uploads()) == MAX_CONFLICTS


def test_a_configured_proxy_carries_the_upload(spool, clock, monkeypatch):
    """The proxy gets an absolute-form request for the real server; nothing else is contacted."""
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with scripted_server(clock) as proxy:
        spool.add(readings(1, clock))
        job = uploader(spool, "http://ingest.example.invalid", proxy=proxy.url)
        assert job.upload(clock()).complete
        assert proxy.seen[0].path == "http://ingest.example.invalid/api/v1/batches"


def test_the_standard_proxy_variables_are_honoured(spool, clock, monkeypatch):
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with scripted_server(clock) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        spool.add(readings(1, clock))
        assert uploader(spool, "http://ingest.example.invalid").upload(clock()).complete
        assert proxy.seen[0].path.startswith("http://ingest.example.invalid/")


def test_tls_is_verified_and_a_custom_ca_bundle_is_used(spool, clock, tmp_path):
    context, ca_pem = self_signed_tls(tmp_path)
    with scripted_server(clock, tls=context) as server:
        spool.add(readings(1, clock))
        refused = uploader(spool, server.url).upload(clock())
        assert refused.waiting is not None
        assert "SSLError" in refused.errors[0], "an unknown CA is refused, the batch kept"
        assert server.uploads() == []
        trusted = uploader(spool, server.url, verify=str(ca_pem)).upload(clock())
        assert trusted.complete
        assert trusted.sent_readings == 1
