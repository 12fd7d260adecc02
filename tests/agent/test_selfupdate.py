"""The update state machine on real files: which offers are taken, confirmation, rollback.

The whole path (download, signature, swap, restart, rollback) runs end to end on two frozen
builds in ``tests/e2e/test_frozen_update.py``; these pin the rules quickly in the suite.
"""

from __future__ import annotations

import json
import time

import pytest

from agent import __version__
from agent.selfupdate import MAX_STARTS, Updater
from shared.agent_release import Release


def offer(version: str) -> Release:
    return Release(version, "0" * 64, 10, "c2ln")


@pytest.fixture
def updater(tmp_path):
    binary = tmp_path / "opt" / "scm-agent"
    binary.parent.mkdir()
    binary.write_text("new build")
    (tmp_path / "home").mkdir()
    return Updater(tmp_path / "home", binary=binary)


def newer() -> str:
    parts = __version__.split(".")
    return ".".join([*parts[:-1], str(int(parts[-1]) + 1)])


def test_only_a_newer_release_not_seen_failing_is_wanted(updater, tmp_path):
    assert updater.wants(offer(newer()))
    assert not updater.wants(offer(__version__)), "the running version"
    assert not updater.wants(offer("0.0.1")), "older"
    assert not updater.wants(None)
    (updater.home / "update-failed.json").write_text(json.dumps([newer()]))
    assert not updater.wants(offer(newer())), "rolled back once: never again"
    assert not Updater(tmp_path / "home", binary=None).binary


def pending(updater, **values):
    data = {"from": "0.0.9", "to": __version__, "deadline": time.time() + 600, **values}
    updater.pending_path.write_text(json.dumps(data))
    updater.previous.write_text("old build")


def test_a_heartbeat_confirms_the_new_version(updater):
    pending(updater)
    updater.on_start()
    assert not updater.overdue(time.time())
    updater.confirmed()
    assert not updater.pending_path.exists() and not updater.previous.exists()
    assert updater.binary.read_text() == "new build"


def test_no_heartbeat_by_the_deadline_puts_the_previous_binary_back(updater):
    pending(updater, deadline=time.time() - 1)
    updater.on_start()
    assert updater.overdue(time.time())
    updater.roll_back("no heartbeat got through in time")
    assert updater.binary.read_text() == "old build"
    assert updater.restart_requested
    assert json.loads(updater.failed_path.read_text()) == [__version__]
    assert not updater.pending_path.exists()


def test_a_version_that_keeps_failing_to_start_is_rolled_back(updater):
    pending(updater)
    for _ in range(MAX_STARTS):
        updater.on_start()
        assert not updater.restart_requested
    updater.on_start()
    assert updater.restart_requested and updater.binary.read_text() == "old build"


def test_the_old_version_running_again_forgets_the_attempt(updater):
    pending(updater, to="9.9.9")
    updater.on_start()
    assert not updater.pending_path.exists()
