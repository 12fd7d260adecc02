"""The unattended agent: discovery, reading, upload, heartbeat and remote configuration as jobs.

Each job is a plain method that takes the time from an injected clock, so tests drive days of
simulated time through the real spool, the real HTTP client and a real server in seconds; the
scheduler (``agent.scheduler``) is only the thin layer that calls these methods on time.

Promises kept here:

* a reading is committed to the spool before any upload is tried (``read`` then ``upload``);
* uploads never hammer the server: ``Uploader`` backs off with full jitter and honours
  ``Retry-After``;
* the heartbeat reports version, uptime, backlog, the running drop total, devices and the last
  error, and its answer tells when the remote configuration changed;
* a new remote configuration is stored (0600) before it is applied, and applied without restart:
  listeners (the scheduler) reschedule jobs whose interval changed;
* no job ever raises into the scheduler, and no secret reaches a log line.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final, ParamSpec, TypeVar

from agent import __version__, discovery
from agent.backoff import Backoff
from agent.collect import Collected, collect
from agent.config import Effective, LocalSettings, RemoteConfigStore, merge
from agent.ingest_client import IngestClient, Outcome
from agent.inventory import Inventory
from agent.selfupdate import Updater
from agent.server_clock import ServerClock
from agent.snmp import SnmpError, Target
from agent.spool import Spool
from agent.state import AgentHome
from agent.status import StatusFile
from agent.uploader import Uploader
from shared.agent_config import ConfigError, Credential, RemoteConfig, parse_remote_config
from shared.heartbeat import Heartbeat
from shared.reading import format_timestamp, utc_now

MB: Final = 1024 * 1024

Clock = Callable[[], datetime]
#: Sweep ``ranges`` with ``credentials``; returns (address, credential that answered) pairs.
Discoverer = Callable[[Effective], Sequence[tuple[str, Credential]]]
ConfigListener = Callable[[Effective, Effective], None]

log = logging.getLogger(__name__)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _job(name: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R | None]]:
    """Run a job so that a failure is recorded and logged, never raised into the scheduler."""

    def wrap(method: Callable[_P, _R]) -> Callable[_P, _R | None]:
        @functools.wraps(method)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> _R | None:
            service: Service = args[0]  # type: ignore[assignment]
            service.job_started()
            try:
                return method(*args, **kwargs)
            except Exception as err:
                log.exception("%s job failed", name)
                service.record(name, ok=False, detail=f"{type(err).__name__}: {err}")
                return None
            finally:
                service.job_ended()

        return run

    return wrap


class Service:
    """One agent's state and jobs; safe to call from the scheduler's threads."""

    def __init__(
        self,
        home: AgentHome,
        local: LocalSettings,
        *,
        clock: Clock = utc_now,
        client: IngestClient | None = None,
        discoverer: Discoverer | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        identity = home.load_identity()
        self.home = home
        self.agent_id = identity.agent_id
        self.server = local.server_url or identity.server
        self.key = home.load_key()
        self.clock = clock
        self.client = client or IngestClient(
            self.server,
            verify=local.verify,
            proxy=local.proxy,
            server_clock=ServerClock.in_home(home.path),
        )
        self.spool = Spool(home.spool_path, max_bytes=int(local.spool_max_mb * MB))
        self.inventory = Inventory(home.path)
        self.remote_store = RemoteConfigStore(home.path)
        version, remote = self.remote_store.load()  # works while the server is down
        self.config = merge(local, remote, version)
        self.uploader = Uploader(
            self.spool,
            self.client,
            self.key,
            self.agent_id,
            batch_size=local.batch_size,
            backoff=backoff,
        )
        self.discoverer = discoverer or discover_with_engine
        self.updater = Updater(home.path)
        self.updater.on_start()
        self.status_file = StatusFile(home.path)
        self.lock = threading.RLock()
        #: Set when the service is asked to stop: long jobs end between batches.
        self.stopping = threading.Event()
        #: Set while no job runs (a stop waits for it, briefly).
        self.idle = threading.Event()
        self.idle.set()
        self._running_jobs = 0
        self._jobs_lock = threading.Lock()
        self.listeners: list[ConfigListener] = []
        self.started_at = clock()
        self._started_monotonic = time.monotonic()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.next_runs: dict[str, datetime] = {}
        self.devices_known = 0
        self.devices_read = 0
        self.last_error: str | None = None
        #: Why and since when the server refuses this agent (None while it accepts it).
        self.refused: dict[str, Any] | None = None
        self.state = "running"
        if not local.tls_verify:
            log.warning("TLS certificate verification is OFF (tls_verify = false): lab use only")

    # -- jobs --------------------------------------------------------------------------------

    @_job("discovery")
    def discover(self) -> int:
        """Sweep the configured ranges; remember every printer that answered, and with what."""
        config = self.config
        if not config.ranges:
            self.record("discovery", ok=True, detail="no ranges configured")
            return 0
        found = self.discoverer(config)
        with self.lock:
            now = self.clock()
            for address, credential in found:
                self.inventory.found(_normal(address), credential.fingerprint, now)
            self.inventory.save()
        self.record("discovery", ok=True, detail=f"{len(found)} devices answered")
        return len(found)

    @_job("read")
    def read(self, only: Sequence[str] | None = None) -> int:
        """Read every known device (or ``only`` these), spool the readings, then try an upload.

        Readings are stamped with the server-corrected clock once the server's time is known,
        and say so (``clock: server``).
        """
        config = self.config
        with self.lock:
            targets = _normal_all(config.targets if only is None else only)
            addresses = (
                targets if only is not None else self.inventory.addresses(targets, self.clock())
            )
        local = config.local
        stamp, clock_kind = self.client.server_clock.stamping(self.clock)
        collected = asyncio.run(
            collect(
                addresses,
                config.credentials,
                self.inventory.credential_of,
                timeout=local.snmp_timeout_s,
                retries=local.snmp_retries,
                concurrency=local.concurrency,
                clock=stamp,
            )
        )
        collected.readings = self.client.server_clock.label(collected.readings, clock_kind)
        self._keep(collected, len(addresses))
        for failure in collected.failures:
            log.warning("read failed: %s", failure)
        detail = f"{len(collected.readings)}/{len(addresses)} devices read"
        self.record("read", ok=not collected.failures, detail=detail, error=_first(collected))
        self.upload()
        return len(collected.readings)

    def _keep(self, collected: Collected, asked: int) -> None:
        """Commit a cycle's readings (durably, before any upload) and what it learnt."""
        with self.lock:
            dropped_before = self.spool.backlog().dropped
            self.spool.add(collected.readings)
            dropped = self.spool.backlog().dropped - dropped_before
            log.info("spooled %s readings", len(collected.readings))
            if dropped:
                log.warning("spool full: dropped the %s oldest unsent readings", dropped)
            now = self.clock()
            for address, fingerprint in collected.answered.items():
                self.inventory.answered(address, fingerprint, now)
            self.inventory.save()
            self.devices_known, self.devices_read = asked, len(collected.readings)

    @_job("upload")
    def upload(self) -> bool:
        """Flush the spool unless backing off; True when nothing is left waiting on the server."""
        with self.lock:
            report = self.uploader.upload(self.clock(), stop=self.stopping.is_set)
        if report is None:
            self.record("upload", ok=False, detail="backing off", keep_time=True)
            return False
        self._note_refusal(report.refused)
        detail = f"{report.sent_readings} readings in {report.sent_batches} batches"
        if report.rejected_batches:
            detail += f", {report.rejected_batches} batches rejected (kept as dead letters)"
        error = report.errors[-1] if report.errors else None
        self.record("upload", ok=report.complete, detail=detail, error=error)
        return report.complete

    @_job("heartbeat")
    def heartbeat(self) -> bool:
        """Tell the server how the agent is; fetch the configuration if its version moved."""
        with self.lock:
            beat = self.make_heartbeat()
        outcome = self.client.post_heartbeat(self.key, self.agent_id, beat.to_dict())
        if outcome.verdict != "accepted":
            self._note_refusal(outcome if outcome.verdict == "refused" else None)
            self.record("heartbeat", ok=False, error=f"heartbeat: {outcome.error}")
            return False
        self._note_refusal(None)
        self.updater.confirmed()
        self.record("heartbeat", ok=True)
        version = outcome.body.get("config_version")
        if isinstance(version, int) and version != self.config.remote_version:
            self.refresh_config()
        self._resume_uploads()
        return True

    def _resume_uploads(self) -> None:
        """The server answers again: end any upload backoff and send what waits right away."""
        with self.lock:
            backoff = self.uploader.backoff
            waiting = backoff.failures > 0 and self.spool.backlog().readings > 0
            backoff.succeeded()
        if waiting:
            log.info("server reachable again: uploading the backlog now")
            self.upload()

    def _note_refusal(self, outcome: Outcome | None) -> None:
        """Remember (and log once) that the server refuses this agent, or that it no longer does."""
        with self.lock:
            if outcome is None:
                if self.refused is not None:
                    log.warning("the server accepts this agent again: uploads resume")
                self.refused = None
                return
            if self.refused is None:
                log.error(
                    "the server refuses this agent (%s): nothing is discarded; uploads retry "
                    "in hours, or once a heartbeat gets through (the dealer can re-enable it)",
                    outcome.error,
                )
                self.refused = {"since": self.clock(), "reason": outcome.error}

    @_job("config")
    def refresh_config(self) -> bool:
        """Fetch, check, store (0600) and apply the remote configuration."""
        outcome = self.client.get_config(self.key, self.agent_id)
        if outcome.verdict != "accepted":
            self.record("config", ok=False, error=f"config: {outcome.error}")
            return False
        try:
            version = int(outcome.body["version"])
            remote = parse_remote_config(outcome.body.get("config", {}))
        except (KeyError, TypeError, ValueError, ConfigError) as err:
            log.error("remote configuration refused, keeping the current one: %s", err)
            self.record("config", ok=False, error=f"config refused: {err}")
            return False
        self.remote_store.save(version, remote)
        added = self.apply(remote, version)
        self.record("config", ok=True, detail=f"version {version}")
        if self.updater.wants(remote.release):
            assert remote.release is not None
            with self.lock:
                self.updater.install(remote.release, self.client, self.key, self.agent_id)
        if added:
            log.info("reading %s new target(s) now", len(added))
            self.read(only=added)
        return True

    # -- configuration, heartbeat and status -------------------------------------------------

    def apply(self, remote: RemoteConfig, version: int) -> tuple[str, ...]:
        """Switch to a new remote configuration, tell the listeners (no restart); returns the
        targets it added, which the caller reads at once rather than a read interval later."""
        with self.lock:
            old, self.config = self.config, merge(self.config.local, remote, version)
        log.info("applied remote configuration version %s: %s", version, remote.redacted())
        for listener in self.listeners:
            listener(old, self.config)
        known = set(_normal_all(old.targets))
        return tuple(t for t in _normal_all(self.config.targets) if t not in known)

    def make_heartbeat(self) -> Heartbeat:
        """The heartbeat as of now (spool counts read under the lock)."""
        backlog = self.spool.backlog()
        return Heartbeat(
            agent_version=__version__,
            started_at=self.started_at,
            uptime_s=int(time.monotonic() - self._started_monotonic),
            backlog_readings=backlog.readings,
            backlog_batches=backlog.batches,
            backlog_bytes=backlog.bytes,
            dropped_total=backlog.dropped,
            dead_letters=backlog.dead_letters,
            devices_known=self.devices_known,
            devices_read=self.devices_read,
            config_version=self.config.remote_version,
            last_read_at=self._job_time("read"),
            last_upload_at=self._job_time("upload"),
            last_error=self.last_error,
        )

    def record(
        self,
        job: str,
        *,
        ok: bool,
        detail: str = "",
        error: str | None = None,
        keep_time: bool = False,
    ) -> None:
        """Note a job's outcome (and the last error) and rewrite the status file."""
        with self.lock:
            now = self.clock()
            entry = self.jobs.setdefault(job, {})
            if not (keep_time and entry.get("at")):
                entry["at"] = now
            entry.update(ok=ok, detail=detail)
            if ok:
                entry["last_ok_at"] = now
            if error or (not ok and detail):
                text = " ".join(f"{job}: {error or detail}".split())
                self.last_error = f"{format_timestamp(now)} {text}"[:500]
            self.write_status()

    def write_status(self) -> None:
        """Rewrite ``status.json``; a full disk or a broken spool must not stop the jobs."""
        with self.lock:
            try:
                self._write_status()
            except (OSError, sqlite3.Error) as err:
                log.warning("could not write %s: %s", self.status_file.path, err)

    def _write_status(self) -> None:
        backlog = self.spool.backlog()
        retry_at = self.uploader.backoff.not_before
        data = {
            "pid": os.getpid(),
            "state": self.state,
            "agent_id": self.agent_id,
            "server": self.server,
            "version": __version__,
            "started_at": self.started_at,
            "updated_at": self.clock(),
            "backlog": {
                "readings": backlog.readings,
                "batches": backlog.batches,
                "bytes": backlog.bytes,
                "dropped": backlog.dropped,
                "dead_letters": backlog.dead_letters,
            },
            "devices_known": self.devices_known,
            "devices_read": self.devices_read,
            "config_version": self.config.remote_version,
            "last_error": self.last_error,
            "refused": self.refused,
            "retry_at": retry_at,
            "next_runs": dict(self.next_runs),
            **self.jobs,
        }
        self.status_file.write(data)

    def job_started(self) -> None:
        """A job (or a job inside a job) began."""
        with self._jobs_lock:
            self._running_jobs += 1
            self.idle.clear()

    def job_ended(self) -> None:
        """A job ended; the service is idle when none runs."""
        with self._jobs_lock:
            self._running_jobs -= 1
            if self._running_jobs == 0:
                self.idle.set()

    def abandon(self) -> None:
        """Record the stop without waiting for a job that still holds the service's lock."""
        if self.lock.acquire(timeout=0.5):
            try:
                self.state = "stopped"
                self.next_runs = {}
                self.write_status()
            finally:
                self.lock.release()

    def close(self) -> None:
        """Record the stop and release the spool and connections (every reading is committed)."""
        with self.lock:
            self.state = "stopped"
            self.next_runs = {}
            self.write_status()
            self.spool.close()
            self.client.close()

    def _job_time(self, job: str) -> datetime | None:
        """When ``job`` last succeeded."""
        when: datetime | None = self.jobs.get(job, {}).get("last_ok_at")
        return when


def discover_with_engine(config: Effective) -> list[tuple[str, Credential]]:
    """Sweep ``config.ranges`` with the discovery engine (SNMP v1/v2c/v3 and mDNS)."""
    return discovery.sweep_for_service(config)


def _normal(address: str) -> str:
    """``host:port`` as readings spell it, so inventory keys and reading addresses agree."""
    try:
        return Target.parse(address).address
    except SnmpError:
        return address


def _normal_all(addresses: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_normal(a) for a in addresses))


def _first(collected: Collected) -> str | None:
    """The first failure of a cycle, and how many more there were."""
    failures = collected.failures
    if not failures:
        return None
    more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
    return failures[0] + more
