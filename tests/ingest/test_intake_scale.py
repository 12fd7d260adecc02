"""Set-based intake under concurrency, the time rule, and the follow-up jobs' durability."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from support.fleet import add_consumable, add_machine
from support.ingest import TestAgent, enroll_agent, issue_token, reading

from ingest.app import create_app
from ingest.config import Settings
from ingest.db import database
from ingest.domain.intake import store_batch
from ingest.jobs import all_jobs, followup
from ingest.jobs import queue as queue_module
from ingest.jobs.followup import batch_followup
from ingest.jobs.maintenance import PARTITIONS_JOB
from ingest.jobs.outbox import LEASE, enqueue, run_job
from ingest.jobs.queue import INLINE_GRACE, QUEUE_NAME, JobQueue, job_queue, utc_now
from ingest.models import (
    Agent,
    Device,
    DeviceReading,
    Job,
    MeterRead,
    Order,
    Reorder,
    SupplyLevel,
    SupplyState,
    UploadBatch,
)
from shared.batch import decode_batch
from shared.reading import Supply

AGENTS = 8
#: A Redis database of the tests' own (CI starts Redis like PostgreSQL).
REDIS_URL = "redis://127.0.0.1:6379/13"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def agents_of_one_customer(app, client) -> list[TestAgent]:
    return [enroll_agent(client, issue_token(app)) for _ in range(AGENTS)]


def post_all(app, jobs: list[tuple[TestAgent, str, bytes]]) -> list[int]:
    """Post every (agent, batch id, body) from AGENTS threads at once; the status codes."""

    def post(job: tuple[TestAgent, str, bytes]) -> int:
        agent, batch_id, body = job
        return agent.post(app.test_client(), batch_id, body).status_code

    with ThreadPoolExecutor(AGENTS) as pool:
        return list(pool.map(post, jobs))


def test_eight_agents_sharing_devices_store_every_reading_once(app, client, session):
    agents = agents_of_one_customer(app, client)
    serials = [f"SH-{i:02d}" for i in range(AGENTS - 1 + 15)]  # neighbours share 14 of 15
    start = now() - timedelta(hours=2)
    jobs = []
    for round_ in range(4):
        for n, agent in enumerate(agents):
            rows = [
                reading(s, total=1000 + round_ * 10 + n, observed_at=start + timedelta(
                    minutes=round_ * 10 + n), black=90 - round_)
                for s in serials[n : n + 15]
            ]  # fmt: skip
            jobs.append((agent, *agent.batch(*rows)))
    statuses = post_all(app, jobs)
    assert statuses == [200] * len(jobs)
    assert count(session, DeviceReading) == 4 * AGENTS * 15
    assert count(session, UploadBatch) == len(jobs)
    assert count(session, Device) == len(serials)
    assert count(session, SupplyState) == len(serials)
    assert {a.last_seq for a in session.scalars(select(Agent))} == {4}
    for batch in session.scalars(select(UploadBatch)):
        assert count(session, DeviceReading, DeviceReading.batch_id == batch.id) == 15
    # Re-sending every batch stores nothing twice.
    assert post_all(app, jobs) == [200] * len(jobs)
    assert count(session, DeviceReading) == 4 * AGENTS * 15


def test_cold_start_every_device_new_and_the_years_first_order_number(app, client, session):
    agents = agents_of_one_customer(app, client)
    serials = [f"CS-{i:02d}" for i in range(24)]
    for i, serial in enumerate(serials[:8]):
        add_machine(app, scm_id=f"SCM-C{i}", serial=serial)
    add_consumable(app, "TN-COLD")
    at = now() - timedelta(minutes=30)
    jobs = []
    for n, agent in enumerate(agents):  # every batch names every device: all new at once
        rows = [reading(s, total=500 + n, observed_at=at + timedelta(seconds=n), black=5)
                for s in serials]  # fmt: skip
        jobs.append((agent, *agent.batch(*rows)))
    assert post_all(app, jobs) == [200] * AGENTS
    assert count(session, Device) == len(serials)
    assert count(session, DeviceReading) == AGENTS * len(serials)
    assert count(session, MeterRead) == AGENTS * 8
    assert count(session, Reorder) == 8  # one per machine's toner slot, never two
    assert count(session, Order) >= 1
    assert count(session, Job, Job.done_at.is_(None)) == 0


def test_a_reading_dated_in_the_future_is_refused_and_moves_nothing(app, client, agent, session):
    add_machine(app)
    good, late = now() - timedelta(minutes=1), now() + timedelta(minutes=30)
    batch_id, body = agent.batch(
        reading(total=1000, observed_at=good), reading(total=1100, observed_at=late)
    )
    answer = agent.post(client, batch_id, body).get_json()
    assert answer["accepted"] == 1
    assert answer["flagged"] == [{"index": 1, "reason": "in_future"}]
    device = session.scalar(select(Device))
    assert device.last_seen_at == good
    flagged = session.scalar(select(DeviceReading).where(DeviceReading.flag.is_not(None)))
    assert flagged.flag == "in_future"  # kept for audit
    assert [r.total for r in session.scalars(select(MeterRead))] == [1000]  # never billed


def test_a_reading_older_than_any_spool_is_flagged(app, client, agent, session):
    batch_id, body = agent.batch(reading(observed_at=now() - timedelta(days=400)))
    answer = agent.post(client, batch_id, body).get_json()
    assert (answer["accepted"], answer["flagged"]) == (0, [{"index": 0, "reason": "too_old"}])
    assert session.scalar(select(Device)).last_seen_at.year == 2000  # never seen validly
    assert count(session, SupplyState) == 0


def test_clock_and_derived_are_stored(app, client, agent, session):
    from msgspec.structs import replace

    row = replace(reading(), clock="server", derived=("mono", "colour"))
    batch_id, body = agent.batch(row)
    assert agent.post(client, batch_id, body).status_code == 200
    stored = session.scalar(select(DeviceReading))
    assert (stored.clock, stored.derived) == ("server", "mono,colour")
    assert stored.payload["derived"] == ["mono", "colour"]
    assert stored.payload == row.to_dict()  # the contract's object, as the agent sent it


def test_the_stored_payload_is_the_contract_object_without_unset_optional_keys(
    app, client, agent, session
):
    sent = reading()
    batch_id, body = agent.batch(sent)
    assert agent.post(client, batch_id, body).status_code == 200
    stored = session.scalar(select(DeviceReading))
    assert stored.payload == sent.to_dict()
    assert "clock" not in stored.payload and "derived" not in stored.payload


def test_a_follow_up_never_run_is_run_by_the_sweeper(app, client, agent, session):
    """The batch and its job commit together: a web process that dies after the commit (here:
    no dispatch at all) leaves a pending job that the worker's sweep runs."""
    add_machine(app)
    _, body = agent.batch(reading(total=4321, observed_at=now() - timedelta(minutes=5)))
    with database(app).session() as db:
        owner = db.scalar(select(Agent))
        store_batch(db, owner, decode_batch(body), digest="sha-256=:x:", signature="s",
                    received_at=now())  # fmt: skip
    assert count(session, Job, Job.done_at.is_(None)) == 1
    assert count(session, MeterRead) == 0
    # Sweeps inside one minute (so inside every schedule's period): the first runs the
    # follow-up and enqueues the period's scheduled jobs, which run once INLINE_GRACE is over
    # (without a broker); later sweeps of the period enqueue and run nothing more.
    later = (now() + timedelta(minutes=1)).replace(second=10)
    assert job_queue(app).sweep(later) == 1  # the follow-up
    session.expire_all()
    assert [r.total for r in session.scalars(select(MeterRead))] == [4321]
    jobs = count(session, Job)
    assert job_queue(app).sweep(later + INLINE_GRACE) == jobs - 1  # the scheduled ones
    assert count(session, Job, Job.done_at.is_(None)) == 0
    assert job_queue(app).sweep(later + INLINE_GRACE + timedelta(seconds=1)) == 0
    assert count(session, Job) == jobs  # each period's run once


def test_the_relay_drains_a_backlog_page_by_page_and_leases_what_it_sent(app, session, monkeypatch):
    """After an outage the relay sends every due job, a page at a time (here pages of 2), and
    leases each so a second relay inside the lease sends none of them again."""
    moment = now()
    with database(app).session() as db:
        ids = [enqueue(db, PARTITIONS_JOB, {}, now=moment) for _ in range(5)]
        db.commit()
    sent: list[int] = []
    queue = JobQueue(database(app), None)
    monkeypatch.setattr(queue_module, "DUE_PAGE", 2)
    monkeypatch.setattr(queue, "dispatch", sent.extend)  # sent, not run
    # Without a broker the web process runs a job at its commit: a worker waits INLINE_GRACE.
    assert queue.relay(moment) == 0
    assert queue.relay(moment + INLINE_GRACE) == 5
    assert sorted(sent) == sorted(ids)
    late = moment + INLINE_GRACE + LEASE
    assert queue.relay(late - timedelta(seconds=1)) == 0
    assert queue.relay(late + timedelta(seconds=1)) == 5  # their messages were lost


def test_a_known_devices_latest_state_is_merged_by_the_follow_up_not_the_upload(
    app, agent, session
):
    """A new device is written with its state at once; a batch of devices already stored
    writes no device row (the request stays short), and its follow-up merges their latest
    state: the newest sighting wins, whatever order follow-ups run in, and again changes
    nothing."""
    first, later = now() - timedelta(minutes=10), now() - timedelta(minutes=2)

    def store(*readings):
        _, body = agent.batch(*readings)
        with database(app).session() as db:
            owner = db.scalar(select(Agent))
            return store_batch(db, owner, decode_batch(body), digest=f"sha-256=:{body.hex()[:8]}:",
                               signature="s", received_at=now())  # fmt: skip

    def follow_up(result):
        [job_id] = result.jobs
        with database(app).session() as db:
            batch_followup(db, dict(db.get(Job, job_id).args), now())
            db.commit()

    def state():
        session.expire_all()
        device = session.scalar(select(Device))
        return device.last_seen_at, device.last_address, device.latest_reading_id, device.model

    store(reading(total=10, observed_at=first, mac="00:11:22:33:44:55"))
    assert state()[:2] == (first, "10.0.0.5:161")
    moved = store(reading(total=20, observed_at=later, address="10.0.0.9:161", mac=None))
    older = store(
        reading(total=15, observed_at=first + timedelta(minutes=1), mac="00:00:00:00:00:01")
    )
    assert state()[:2] == (first, "10.0.0.5:161")  # not written by either upload
    newest = session.scalar(select(DeviceReading.id).where(DeviceReading.total == 20))
    for result in (moved, older, moved):
        follow_up(result)
        assert state() == (later, "10.0.0.9:161", newest, "Laser 1")
        # The newest sighting said no MAC: the stored one stays; the older batch's never wins.
        assert session.scalar(select(Device.mac)) == "00:11:22:33:44:55"


def test_a_devices_state_is_merged_even_when_the_rest_of_its_follow_up_fails(
    app, agent, session, monkeypatch
):
    """A device's liveness never waits for its batch's supply levels, meter reads or reorders:
    the merge is committed first, and the failing job is retried later."""
    first, later = now() - timedelta(minutes=10), now() - timedelta(minutes=2)
    for moment in (first, later):
        _, body = agent.batch(reading(total=10, observed_at=moment))
        with database(app).session() as db:
            owner = db.scalar(select(Agent))
            result = store_batch(db, owner, decode_batch(body), digest=f"sha-256=:{moment}:",
                                 signature="s", received_at=now())  # fmt: skip

    def broken(*_args):
        raise RuntimeError("supply levels unavailable")

    monkeypatch.setattr(followup, "store_supply_levels", broken)
    [job_id] = result.jobs
    with pytest.raises(RuntimeError):
        run_job(database(app).sessions, job_id, all_jobs(), now())
    session.expire_all()
    assert session.scalar(select(Device.last_seen_at)) == later
    assert session.get(Job, job_id).done_at is None  # retried later


def test_supply_levels_come_with_the_follow_up_from_the_stored_json_once(app, agent, session):
    """The upload stores the readings with their JSON; the follow-up writes their supply levels
    (every field as sent, numbered in the reading's order) with the slots' latest state, and a
    follow-up run again writes no level twice.  A flagged reading gets none."""
    cyan = Supply.from_raw("toner", "cyan", "Cyan Toner ®", 300, 1000)
    counted = reading(total=10, black=40, extra_supplies=(cyan,))
    flagged = reading("SN-OLD", total=20, observed_at=now() - timedelta(days=400))
    _, body = agent.batch(counted, flagged)
    with database(app).session() as db:
        owner = db.scalar(select(Agent))
        result = store_batch(db, owner, decode_batch(body), digest="sha-256=:s:", signature="s",
                             received_at=now())  # fmt: skip
    assert count(session, SupplyLevel) == count(session, SupplyState) == 0
    [job_id] = result.jobs
    args = session.get(Job, job_id).args
    for _ in range(2):
        with database(app).session() as db:
            batch_followup(db, dict(args), now())
            db.commit()
    session.expire_all()
    levels = session.scalars(select(SupplyLevel).order_by(SupplyLevel.slot)).all()
    assert [
        (lv.slot, lv.kind, lv.colour, lv.description, lv.level, lv.max_capacity, lv.percent)
        for lv in levels
    ] == [
        (0, "toner", "black", "Black Toner", 40, 100, 40),
        (1, "toner", "cyan", "Cyan Toner ®", 300, 1000, 30),
    ]
    assert {lv.observed_at for lv in levels} == {counted.observed_at}
    assert count(session, SupplyState) == 2


def test_an_upload_leaves_its_follow_up_to_the_relay_of_a_dramatiq_worker(
    app, agent, session, database_url, tmp_path
):
    """Production's path: the web worker only writes the batch and its job (nothing goes to
    Redis on the upload's path); a worker's relay sends the job id through Redis to
    ``scm-ingest worker``'s code, which runs it."""
    add_machine(app)
    settings = Settings(database_url, tmp_path / "web", "test-" * 8, job_broker=REDIS_URL)
    web = create_app(settings, {"TESTING": True})
    redis = job_queue(web).broker.client
    job_queue(web).broker.flush_all()
    batch_id, body = agent.batch(reading(total=777, observed_at=now() - timedelta(minutes=5)))
    assert agent.post(web.test_client(), batch_id, body).status_code == 200
    [job_id] = session.scalars(select(Job.id).where(Job.done_at.is_(None))).all()
    assert redis.keys(f"dramatiq:{QUEUE_NAME}*") == []  # no message, no acknowledgement
    queue = JobQueue(database(app), REDIS_URL)
    stop = threading.Event()
    worker = threading.Thread(target=queue.run_worker, args=(2, stop, utc_now))
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not count(session, MeterRead):
            time.sleep(0.1)
            session.expire_all()
    finally:
        stop.set()
        worker.join(timeout=30)
        database(web).dispose()
    assert [r.total for r in session.scalars(select(MeterRead))] == [777]
    assert session.get(Job, job_id).done_at is not None
