"""The spool: durable before upload, frozen batches, acknowledgement, cap and crash safety."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from agent.spool import Spool
from shared.batch import decode_batch
from shared.reading import Counters, Device, Reading


def _reading(i: int) -> Reading:
    return Reading(
        address=f"127.0.0.1:{1000 + i}",
        observed_at=datetime(2026, 11, 22, 10, 0, i % 60, tzinfo=UTC),
        device=Device(manufacturer="HP", serial=f"SER{i:05d}"),
        counters=Counters(total=1000 + i),
        supplies=(),
        alerts=(),
    )


def test_batches_are_cut_in_order_and_frozen_until_acknowledged(tmp_path):
    with Spool(tmp_path / "spool.sqlite") as spool:
        spool.add(_reading(i) for i in range(5))
        first = spool.next_batch("agent-1", max_readings=3)
        again = spool.next_batch("agent-1", max_readings=3)
        assert again == first, "an unacknowledged batch is re-sent with the same id and bytes"
        decoded = decode_batch(first.body)
        assert [r.device.serial for r in decoded.readings] == ["SER00000", "SER00001", "SER00002"]
        assert (decoded.seq, decoded.agent_id, decoded.batch_id) == (1, "agent-1", first.batch_id)

        spool.acknowledge(first.batch_id)
        second = spool.next_batch("agent-1", max_readings=3)
        assert second.seq == 2
        assert [r.device.serial for r in decode_batch(second.body).readings] == [
            "SER00003",
            "SER00004",
        ]
        spool.acknowledge(second.batch_id)
        assert spool.next_batch("agent-1") is None
        assert spool.backlog().readings == 0


def test_a_frozen_batch_survives_reopening(tmp_path):
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.add([_reading(1)])
        cut = spool.next_batch("agent-1")
    with Spool(path) as spool:
        assert spool.next_batch("agent-1") == cut


def test_rejected_batch_goes_to_dead_letters_and_is_not_resent(tmp_path):
    with Spool(tmp_path / "spool.sqlite") as spool:
        spool.add([_reading(1), _reading(2)])
        cut = spool.next_batch("agent-1")
        spool.reject(cut.batch_id, 400, "HTTP 400 malformed_batch: x")
        assert spool.next_batch("agent-1") is None
        backlog = spool.backlog()
        assert (backlog.readings, backlog.batches, backlog.dead_letters) == (0, 0, 1)


def test_cap_drops_oldest_loose_readings_and_counts_them(tmp_path):
    one = len(json.dumps(_reading(0).to_dict(), separators=(",", ":")))
    with Spool(tmp_path / "spool.sqlite", max_bytes=one * 10 + one // 2) as spool:
        spool.add(_reading(i) for i in range(25))
        backlog = spool.backlog()
        assert backlog.readings == 10
        assert backlog.dropped == 15
        kept = decode_batch(spool.next_batch("agent-1").body).readings
        assert kept[0].device.serial == "SER00015", "the oldest are dropped, the newest kept"


def test_a_corrupt_spool_is_moved_aside_and_a_new_one_started(tmp_path):
    path = tmp_path / "spool.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with Spool(path) as spool:
        spool.add([_reading(1)])
        assert spool.backlog().readings == 1
    assert list(tmp_path.glob("spool.sqlite.corrupt-*"))


def test_quarantine_names_are_never_reused(tmp_path):
    path = tmp_path / "spool.sqlite"
    for _ in range(3):  # three damaged spools within the same second
        path.write_bytes(b"this is not a database" * 100)
        Spool(path).close()
    assert len(list(tmp_path.glob("spool.sqlite.corrupt-*"))) == 3


def test_every_readable_row_of_a_damaged_spool_is_salvaged(tmp_path):
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.add(_reading(i) for i in range(400))
        cut = spool.next_batch("agent-1", max_readings=50)
        spool._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = 4096
    data = bytearray(path.read_bytes())
    pages = len(data) // page
    assert pages > 10
    victim = pages // 2  # one page in the middle: garbage over its cell area
    data[victim * page + 100 : (victim + 1) * page] = b"\xff" * (page - 100)
    path.write_bytes(bytes(data))
    with Spool(path) as spool:
        assert spool.quarantined is not None and spool.quarantined.exists()
        backlog = spool.backlog()
        assert 300 <= backlog.readings < 400, "a damaged page costs its rows, not the rest"
        again = spool.next_batch("agent-1", max_readings=50)
        if backlog.batches:  # the frozen batch survived: same id, same bytes
            assert again == cut


def test_the_cap_counts_cut_batches_and_dead_letters_too(tmp_path):
    one = len(json.dumps(_reading(0).to_dict(), separators=(",", ":")))
    with Spool(tmp_path / "spool.sqlite", max_bytes=one * 40) as spool:
        spool.add(_reading(i) for i in range(30))
        spool.next_batch("agent-1", max_readings=30)  # all cut: readings + frozen gzip bytes
        assert spool.stored_bytes() > one * 30
        spool.add(_reading(i) for i in range(100, 140))
        assert spool.stored_bytes() <= one * 40
        backlog = spool.backlog()
        assert backlog.dropped > 0
        kept = decode_batch(spool.next_batch("agent-1", max_readings=500).body).readings
        assert kept[-1].device.serial == "SER00139", "the newest survive"


def test_dead_letters_have_their_own_cap_and_drops_are_counted(tmp_path):
    one = len(json.dumps(_reading(0).to_dict(), separators=(",", ":")))
    with Spool(tmp_path / "spool.sqlite", max_bytes=one * 60) as spool:
        for i in range(20):
            spool.add([_reading(i)])
            cut = spool.next_batch("agent-1")
            spool.reject(cut.batch_id, 400, "bad")
        backlog = spool.backlog()
        assert (
            backlog.dead_letters < 20 and backlog.dead_letters_dropped == 20 - backlog.dead_letters
        )
        (dead_bytes,) = spool._db.execute("SELECT SUM(LENGTH(body)) FROM dead_letters").fetchone()
        assert dead_bytes <= one * 6


def test_the_file_shrinks_after_draining(tmp_path):
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.add(_reading(i) for i in range(3000))
        full = path.stat().st_size + path.with_name("spool.sqlite-wal").stat().st_size
        while (batch := spool.next_batch("agent-1", max_readings=500)) is not None:
            spool.acknowledge(batch.batch_id)
        assert spool.backlog().readings == 0
    wal = path.with_name("spool.sqlite-wal")
    drained = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    assert drained < full / 5, (full, drained)


def test_requeue_brings_dead_letters_back_with_their_ids_and_bytes(tmp_path):
    with Spool(tmp_path / "spool.sqlite") as spool:
        spool.add([_reading(1)])
        cut = spool.next_batch("agent-1")
        spool.reject(cut.batch_id, 401, "HTTP 401 unknown_agent")
        assert spool.next_batch("agent-1") is None
        assert spool.requeue() == 1
        again = spool.next_batch("agent-1")
        assert (again.batch_id, again.body) == (cut.batch_id, cut.body)
        assert spool.backlog().dead_letters == 0


WRITER = """
import sys, itertools
from datetime import UTC, datetime
from pathlib import Path
from agent.spool import Spool
from shared.reading import Counters, Device, Reading
spool = Spool(Path(sys.argv[1]))
for i in itertools.count():
    device = Device(serial=str(i))
    one = Reading("a", datetime.now(UTC), device, Counters(), supplies=(), alerts=())
    spool.add([one] * 20)
    print(i, flush=True)
"""


def test_kill_9_mid_write_leaves_a_consistent_spool_with_every_committed_reading(tmp_path):
    path = tmp_path / "spool.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    committed = -1
    deadline = time.monotonic() + 20
    while committed < 30 and time.monotonic() < deadline:
        committed = int(proc.stdout.readline() or committed)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    assert committed >= 30, "the writer never got going"
    with Spool(path) as spool:
        readings = spool.backlog().readings
    # Every transaction reported as done is there; at most the one in flight may be too.
    assert readings in {(committed + 1) * 20, (committed + 2) * 20}
    assert not list(tmp_path.glob("*.corrupt-*"))


@pytest.mark.parametrize("size", [1, 3])
def test_batch_size_is_respected(tmp_path, size):
    with Spool(tmp_path / "s.sqlite") as spool:
        spool.add(_reading(i) for i in range(4))
        assert spool.next_batch("a", max_readings=size).reading_count == size
