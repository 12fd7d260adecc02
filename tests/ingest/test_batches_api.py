"""POST /api/v1/batches: accepted once, and every forged, tampered or replayed upload refused.

Each refusal test also checks that nothing was stored: a refused batch leaves no trace.
"""

from __future__ import annotations

import gzip
import os
import time
import zlib

import pytest
from sqlalchemy import func, select, text
from support.ingest import (
    BATCHES_PATH,
    enroll_agent,
    gzip_json,
    issue_token,
    reading,
    signed_headers,
)

from ingest.domain import bulk
from ingest.models import Agent, Device, DeviceReading, Job, SupplyLevel, UploadBatch
from shared.batch import MAX_BODY_BYTES, SCHEMA, new_batch_id
from shared.signing import generate_private_key, public_key_text


def stored(session) -> tuple[int, int, int, int]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (UploadBatch, Device, DeviceReading, SupplyLevel)
    )


NOTHING = (0, 0, 0, 0)


def test_batch_is_stored_with_device_reading_and_supplies(client, agent, session):
    batch_id, body = agent.batch(
        reading("SN-1", total=1234), reading("SN-2", mac="00:11:22:33:44:66")
    )
    response = agent.post(client, batch_id, body)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["batch_id"] == batch_id
    assert answer["accepted"] == 2
    assert answer["duplicate"] is False
    assert answer["seq"] == 1
    assert "server_time" in answer
    assert "Set-Cookie" not in response.headers  # agents sign; no session is opened for them
    assert stored(session) == (1, 2, 2, 2)
    row = session.scalar(select(DeviceReading).join(Device).where(Device.serial == "SN-1"))
    assert row.total == 1234
    assert row.supplies[0].percent == 80
    assert row.payload["device"]["serial"] == "SN-1"


def test_resent_batch_gets_the_original_answer_and_stores_nothing_twice(client, agent, session):
    batch_id, body = agent.batch(reading())
    first = agent.post(client, batch_id, body).get_json()
    again = agent.post(client, batch_id, body)
    assert again.status_code == 200
    answer = again.get_json()
    assert answer["duplicate"] is True
    assert answer["received_at"] == first["received_at"]
    assert answer["accepted"] == first["accepted"]
    assert stored(session) == (1, 1, 1, 1)


def test_a_resent_batch_moves_no_agent_progress_and_queues_no_job(client, agent, session):
    """The batch's claim also moves the agent's progress and queues the follow-up (one
    statement on PostgreSQL): a batch id seen before must do neither."""
    first_id, first = agent.batch(reading(total=10))
    assert agent.post(client, first_id, first).status_code == 200
    later_id, later = agent.batch(reading(total=20))
    assert agent.post(client, later_id, later).status_code == 200
    session.expire_all()
    row = session.scalar(select(Agent).where(Agent.public_id == agent.agent_id))
    before = (row.last_seq, row.last_seen_at, session.scalar(select(func.count(Job.id))))
    assert before[0] == 2
    assert before[2] == 2
    time.sleep(0.01)  # a later clock, which an update would write
    again = agent.post(client, first_id, first)
    assert again.get_json()["duplicate"] is True
    session.expire_all()
    row = session.scalar(select(Agent).where(Agent.public_id == agent.agent_id))
    assert (row.last_seq, row.last_seen_at, session.scalar(select(func.count(Job.id)))) == before
    assert stored(session) == (2, 1, 2, 2)


def test_same_batch_id_with_another_body_is_a_conflict(client, agent, session):
    batch_id, body = agent.batch(reading(total=10))
    agent.post(client, batch_id, body)
    agent.seq -= 1
    _, other = agent.batch(reading(total=99), batch_id=batch_id)
    response = agent.post(client, batch_id, other)
    assert response.status_code == 409
    assert response.get_json()["error"] == "batch_id_reused"
    assert stored(session) == (1, 1, 1, 1)


def test_forged_signature_is_refused(client, agent, session):
    batch_id, body = agent.batch(reading())
    response = agent.post(client, batch_id, body, key=generate_private_key())
    assert response.status_code == 401
    assert response.get_json()["error"] == "bad_signature"
    assert stored(session) == NOTHING


def test_tampered_body_is_refused(client, agent, session):
    batch_id, body = agent.batch(reading(total=100))
    _, tampered = agent.batch(reading(total=1), batch_id=batch_id)
    headers = signed_headers(
        agent.key, BATCHES_PATH, body, agent_id=agent.agent_id, request_id=batch_id
    )  # signed for the original bytes...
    response = client.post(
        BATCHES_PATH,
        data=tampered,  # ...sent with others
        headers={**headers, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "digest_mismatch"
    assert stored(session) == NOTHING


def test_stale_timestamp_is_refused(client, agent, session):
    batch_id, body = agent.batch(reading())
    response = agent.post(client, batch_id, body, timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    answer = response.get_json()
    assert answer["error"] == "stale_timestamp"
    assert "server_time" in answer
    assert stored(session) == NOTHING


def test_future_timestamp_is_refused(client, agent, session):
    batch_id, body = agent.batch(reading())
    response = agent.post(client, batch_id, body, timestamp=int(time.time()) + 301)
    assert response.status_code == 401
    assert stored(session) == NOTHING


def test_replay_of_a_captured_request_after_the_window_is_refused(client, agent, session):
    batch_id, body = agent.batch(reading())
    assert agent.post(client, batch_id, body).status_code == 200
    response = agent.post(client, batch_id, body, timestamp=int(time.time()) - 600)
    assert response.status_code == 401
    assert stored(session) == (1, 1, 1, 1)


def test_unknown_agent_is_refused(client, agent, session):
    agent.agent_id = "agt_doesnotexist"
    batch_id, body = agent.batch(reading())
    response = agent.post(client, batch_id, body)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unknown_agent"
    assert stored(session) == NOTHING


def test_an_agent_disabled_after_uploading_is_refused_at_its_next_batch(client, agent, session):
    """The upload route remembers an agent's key after its first batch; whether the agent is
    still active is asked by the statement that claims each batch, so disabling still bites at
    once, for new batches and for re-sends alike."""
    first_id, first = agent.batch(reading(total=100))
    assert agent.post(client, first_id, first).status_code == 200
    row = session.scalar(select(Agent))
    row.active = False
    session.commit()
    for batch_id, body in (agent.batch(reading(total=200)), (first_id, first)):
        response = agent.post(client, batch_id, body)
        assert response.status_code == 401
        assert response.get_json()["error"] == "unknown_agent"
    assert stored(session) == (1, 1, 1, 1)
    row.active = True
    session.commit()
    batch_id, body = agent.batch(reading(total=300))
    assert agent.post(client, batch_id, body).status_code == 200
    assert stored(session) == (2, 1, 2, 2)


def test_a_remembered_agent_whose_row_now_holds_another_key_is_refused(client, agent, session):
    """What the upload route remembers is checked by the claim against the agent's row, key
    included: were the row ever to hold another agent (an id reused after a restore), the
    remembered one could not store a batch under it."""
    batch_id, body = agent.batch(reading(total=100))
    assert agent.post(client, batch_id, body).status_code == 200
    row = session.scalar(select(Agent))
    row.public_key = public_key_text(generate_private_key())
    session.commit()
    for _ in range(2):  # remembered, then looked up again
        batch_id, body = agent.batch(reading(total=200))
        assert agent.post(client, batch_id, body).status_code == 401
    assert stored(session) == (1, 1, 1, 1)


def test_other_agents_key_cannot_upload_as_this_agent(app, client, agent, session):
    intruder = enroll_agent(client, issue_token(app, "Bianchi spa"))
    batch_id, body = agent.batch(reading())
    response = agent.post(client, batch_id, body, key=intruder.key)
    assert response.status_code == 401
    assert stored(session) == NOTHING


def test_gzip_bomb_is_refused_without_inflating_it(client, agent, session):
    bomb = gzip.compress(b"[" + b" " * (17 * 1024 * 1024) + b"]", mtime=0)
    assert len(bomb) < MAX_BODY_BYTES
    batch_id = new_batch_id()
    response = agent.post(client, batch_id, bomb)
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    assert stored(session) == NOTHING


def test_body_over_the_size_limit_is_refused(client, agent, session):
    body = os.urandom(MAX_BODY_BYTES + 1)
    response = agent.post(client, new_batch_id(), body)
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    assert stored(session) == NOTHING


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(gzip.compress(b"{not json", mtime=0), id="malformed-json"),
        pytest.param(b"plain text, not gzip", id="not-gzip"),
        pytest.param(gzip.compress(b'{"a":1}', mtime=0)[:-6], id="truncated-gzip"),
        pytest.param(gzip.compress('"é"'.encode("latin-1"), mtime=0), id="not-utf8"),
        pytest.param(gzip_json([1, 2]), id="not-an-object"),
    ],
)
def test_malformed_body_is_a_400(client, agent, session, body):
    response = agent.post(client, new_batch_id(), body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_batch"
    assert stored(session) == NOTHING


def test_malformed_reading_names_the_field(client, agent, session):
    batch_id = new_batch_id()
    good = reading().to_dict()
    bad = {**good, "counters": {**good["counters"], "total": -5}}
    body = gzip_json(
        {
            "schema": SCHEMA,
            "agent_id": agent.agent_id,
            "batch_id": batch_id,
            "seq": 1,
            "created_at": good["observed_at"],
            "readings": [good, bad],
        }
    )
    response = agent.post(client, batch_id, body)
    assert response.status_code == 400
    assert "readings[1].counters.total" in response.get_json()["message"]
    assert stored(session) == NOTHING


def test_body_batch_id_must_match_the_signed_header(client, agent, session):
    _, body = agent.batch(reading())
    response = agent.post(client, new_batch_id(), body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "header_mismatch"
    assert stored(session) == NOTHING


def test_unsigned_upload_is_refused(client, agent, session):
    _, body = agent.batch(reading())
    response = client.post(BATCHES_PATH, data=body, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_header"
    assert stored(session) == NOTHING


def test_a_device_that_moved_ip_stays_one_device(client, agent, session):
    for address in ("10.0.0.5:161", "10.0.0.77:161"):
        batch_id, body = agent.batch(reading("SN-9", address=address))
        assert agent.post(client, batch_id, body).status_code == 200
    assert stored(session)[1:3] == (1, 2)
    assert session.scalar(select(Device)).last_address == "10.0.0.77:161"


def test_deflate_bomb_in_raw_zlib_is_not_accepted_as_gzip(client, agent, session):
    body = zlib.compress(b"{}" * 1000)
    response = agent.post(client, new_batch_id(), body)
    assert response.status_code == 400
    assert stored(session) == NOTHING


def test_a_value_refused_while_readings_are_copied_is_a_400_and_nothing_stays(
    client, agent, session
):
    """PostgreSQL takes readings by ``COPY``, beside SQLAlchemy's statements: a value it refuses
    there is still the documented JSON, the batch leaves nothing behind, and the next is stored."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("readings are copied on PostgreSQL only")
    session.execute(
        text(
            "CREATE FUNCTION refuse_big_total() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.total > 1000000 THEN RAISE 'total too big' USING ERRCODE = '22003'; END IF; "
            "RETURN NEW; END $$"
        )
    )
    session.execute(
        text(
            "CREATE TRIGGER refuse_big_total BEFORE INSERT ON device_readings "
            "FOR EACH ROW EXECUTE FUNCTION refuse_big_total()"
        )
    )
    session.commit()
    try:
        batch_id, body = agent.batch(reading("SN-1", total=5), reading("SN-2", total=2_000_000))
        response = agent.post(client, batch_id, body)
        assert response.status_code == 400, response.get_json()
        assert response.get_json()["error"] == "invalid_value"
        assert stored(session) == NOTHING
        batch_id, body = agent.batch(reading("SN-1", total=5))
        assert agent.post(client, batch_id, body).status_code == 200
        assert stored(session) == (1, 1, 1, 1)
    finally:
        session.rollback()
        session.execute(text("DROP TRIGGER refuse_big_total ON device_readings"))
        session.execute(text("DROP FUNCTION refuse_big_total"))
        session.commit()


def test_a_connection_lost_just_before_the_readings_are_copied_is_retried(
    client, agent, session, monkeypatch
):
    """The server drops the upload's connection after its first statements, before the readings'
    ``COPY``: that connection is thrown away and the next attempt stores the batch, once."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("readings are copied on PostgreSQL only")
    copy_rows, dropped = bulk.copy_rows, []

    def drop_the_first(upload, *args):
        if not dropped:
            pid = bulk.core(upload).exec_driver_sql("SELECT pg_backend_pid()").scalar()
            dropped.append(pid)
            with session.get_bind().connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
                for _ in range(100):  # the backend ends within milliseconds
                    gone = "SELECT count(*) FROM pg_stat_activity WHERE pid = %(pid)s"
                    if not other.exec_driver_sql(gone, {"pid": pid}).scalar():
                        break
                    time.sleep(0.02)
        return copy_rows(upload, *args)

    monkeypatch.setattr(bulk, "copy_rows", drop_the_first)
    batch_id, body = agent.batch(reading("SN-1", total=5), reading("SN-2", total=7))
    response = agent.post(client, batch_id, body)
    assert response.status_code == 200, response.get_json()
    assert dropped
    assert stored(session) == (1, 2, 2, 2)
