"""A full or read-only disk is an error to report and retry, never a lost or corrupt spool.

The agent's home is a 2 MB tmpfs (so this needs root).  ``scm-agent push`` runs as a real
process against snmpsim and a real ingest server; during each push the disk is filled to a
random degree at a random moment (while it reads, spools or uploads), the server is up or down
at random, and once the disk is freed every reading committed before it filled arrives exactly
once.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from support.processes import run_agent

from ingest.models import DeviceReading, UploadBatch

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.agent_side,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root"),
]
CASE = "bieniu-brother__hl-2270dw"
ROUNDS = 12


def count(url: str, model) -> int:
    engine = create_engine(url)
    try:
        with Session(engine) as db:
            return db.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


@pytest.fixture
def small_home(agent_home: Path, tmp_path: Path) -> Iterator[Path]:
    """The enrolled agent's home moved onto a 2 MB tmpfs (unmounted afterwards)."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        home = mount / "agent"
        shutil.copytree(agent_home, home)
        yield home
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(home: Path, leave: int) -> Path:
    """Fill the file system holding ``home`` until only about ``leave`` bytes are free."""
    filler = home.parent / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                free = shutil.disk_usage(home).free
                if free <= leave:
                    break
                out.write(b"\0" * min(64 * 1024, max(1, free - leave)))
                out.flush()
        except OSError:
            pass
    return filler


def test_disk_full_at_random_moments_loses_and_duplicates_nothing(
    snmpsim, ingest_server, small_home
):
    rng = random.Random(int(os.environ.get("SCM_FULL_DISK_SEED", "14")))
    target = f"{snmpsim.endpoint}/{CASE}"
    committed = 0
    ingest_server.stop()
    for _ in range(3):  # three readings wait for the server, as in the issue
        result = run_agent(small_home, "push", "--target", target)
        assert result.returncode == 3, result.stderr
        committed += 1
    server_up, refused_pushes = False, 0
    for _ in range(ROUNDS):
        leave, delay = rng.choice([0, 512, 4096, 16384, 65536]), rng.choice([0, 0.2, 0.5, 0.9])
        filling = threading.Timer(delay, fill, (small_home, leave))  # mid-read or mid-upload
        if rng.random() < 0.5 and not server_up:
            ingest_server.start()
            server_up = True
        elif server_up and rng.random() < 0.3:
            ingest_server.stop()
            server_up = False
        filling.start()
        result = run_agent(small_home, "push", "--target", target)
        filling.join()
        assert result.returncode in (0, 1, 3), result.stderr
        if result.returncode == 1:  # could not spool this reading: said so, in one line
            assert "spool" in result.stderr and "Traceback" not in result.stderr
            refused_pushes += 1
        else:
            committed += 1
        (small_home.parent / "filler").unlink()
        assert not list(small_home.glob("*corrupt*")), "a full disk is never corruption"

    assert refused_pushes and committed > 3, "the rounds hit both a full and a roomy disk"

    # a read-only file system is reported the same way
    subprocess.run(["mount", "-o", "remount,ro", str(small_home.parent)], check=True)
    try:
        result = run_agent(small_home, "push", "--target", target)
        assert result.returncode == 1 and "spool" in result.stderr, result.stderr
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_home.parent)], check=True)

    if not server_up:
        ingest_server.start()
    final = run_agent(small_home, "push")
    assert final.returncode == 0, final.stderr
    assert "0 readings waiting" in final.stdout
    assert count(ingest_server.database_url, DeviceReading) == committed
    assert not list(small_home.glob("*corrupt*"))
    assert count(ingest_server.database_url, UploadBatch) <= committed
