"""When something in the fleet is wrong: the alert rules, as plain functions over plain facts.

Each rule looks at one kind of fact (an agent's last heartbeat, a device's last reading, a
supply's forecast, a flagged meter read) and says whether it is a problem *now*. They know nothing
of the database: ``ingest.domain.alerts`` gathers the facts, runs the rules and keeps the alerts
table in step (open once, seen again, cleared), so these rules are tested with a clock and values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from ingest.stored_texts import (
    ALERT_AGENT_SILENT,
    ALERT_DEVICE_SILENT,
    ALERT_READ_FLAGGED,
    ALERT_SUPPLY_EMPTY,
)

#: The alert kinds, in the order the dashboard lists them; webhooks use the same names.
KINDS: Final = ("agent_silent", "device_silent", "device_error", "supply_low", "counter_anomaly")

#: An agent is silent after this many heartbeat intervals without one (one lost beat is noise).
MISSED_HEARTBEATS: Final = 3
#: ... and never before this, however often it is told to beat.
MIN_AGENT_SILENCE: Final = timedelta(minutes=30)
DEFAULT_DEVICE_SILENT_HOURS: Final = 24

#: Printer alert codes that are a fault a person must fix (Printer-MIB codes, as the agent
#: names them). Anything ``critical`` is a fault too; low-supply warnings are left to
#: ``supply_low``, which knows the forecast and the reorders.
FAULT_CODES: Final = frozenset(
    {
        "doorOpen",
        "jammed",
        "paperEmpty",
        "offline",
        "serviceRequested",
        "deviceDown",
        "tonerEmpty",
        "inkEmpty",
        "supplyEmpty",
        "supplyMissing",
        "developerEmpty",
        "drumLifeOver",
        "wasteTonerFull",
        "wasteInkFull",
        "outputFull",
        "inputTrayMissing",
        "subunitLifeOver",
        "subunitUnrecoverableFailure",
        "subunitMotorFailure",
        "fuserUnderTemperature",
        "fuserOverTemperature",
        "fuserTimingFailure",
        "fuserThermistorFailure",
    }
)
#: Codes that are never faults even when a printer calls them critical.
ROUTINE_CODES: Final = frozenset(
    {"warmingUp", "configurationChange", "poweredDown", "adjustingPrintQuality", "subunitAdded"}
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem that holds now; ``key`` names the thing it is about, once per problem."""

    kind: str
    key: str
    customer_id: int
    severity: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    machine_id: int | None = None
    device_id: int | None = None
    agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgentFact:
    """What the server knows about an agent's liveness."""

    agent_id: int
    customer_id: int
    name: str
    last_heartbeat_at: datetime | None
    enrolled_at: datetime
    heartbeat_interval_s: int
    silent_after_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class PrinterAlert:
    """One row of a printer's own alert table, as the agent reported it."""

    severity: str
    code: str
    description: str


@dataclass(frozen=True, slots=True)
class DeviceFact:
    """A device's latest reading, whether it is expected to report, and its agent's state."""

    device_id: int
    customer_id: int
    name: str
    last_read_at: datetime
    agent_id: int | None
    machine_id: int | None = None
    under_contract: bool = False
    readings_seen: int = 0
    silent_after_hours: int = DEFAULT_DEVICE_SILENT_HOURS
    printer_alerts: tuple[PrinterAlert, ...] = ()


@dataclass(frozen=True, slots=True)
class SupplyFact:
    """A consumable slot of a machine with its pessimistic forecast."""

    customer_id: int
    machine_id: int
    device_id: int
    slot: str
    description: str
    earliest_days: float | None
    lead_days: int
    has_open_reorder: bool


@dataclass(frozen=True, slots=True)
class FlaggedReadFact:
    """A meter read held for a staff decision."""

    read_id: int
    customer_id: int
    machine_id: int
    machine_name: str
    flag: str
    taken_at: datetime


#: Readings older than this make a machine "stale" (amber) before it is "silent" (red).
STALE_AFTER: Final = timedelta(hours=6)


def freshness(last_read_at: datetime | None, now: datetime, silent_after: timedelta) -> str:
    """``ok``, ``stale`` (older than a few hours), ``silent`` (past the customer's silence
    threshold) or ``never`` (no reading at all): a silent machine never looks healthy."""
    if last_read_at is None:
        return "never"
    age = now - last_read_at
    if age > silent_after:
        return "silent"
    return "stale" if age > STALE_AFTER else "ok"


def agent_silence_limit(fact: AgentFact) -> timedelta:
    """How long an agent may stay quiet: the customer's setting, else three heartbeats."""
    if fact.silent_after_minutes is not None:
        return timedelta(minutes=fact.silent_after_minutes)
    return max(MIN_AGENT_SILENCE, timedelta(seconds=fact.heartbeat_interval_s * MISSED_HEARTBEATS))


def agent_is_alive(fact: AgentFact, now: datetime) -> bool:
    """Heard from within its silence limit (a freshly enrolled agent counts from enrolment)."""
    last = fact.last_heartbeat_at or fact.enrolled_at
    return now - last <= agent_silence_limit(fact)


def agent_silent(fact: AgentFact, now: datetime) -> Finding | None:
    """An agent with no heartbeat for longer than its intervals allow."""
    if agent_is_alive(fact, now):
        return None
    last = fact.last_heartbeat_at or fact.enrolled_at
    return Finding(
        kind="agent_silent",
        key=f"agent_silent:agent:{fact.agent_id}",
        customer_id=fact.customer_id,
        severity="critical",
        message=ALERT_AGENT_SILENT % {"name": fact.name, "since": f"{last:%Y-%m-%d %H:%M}"},
        details={"agent": fact.name, "since": last.isoformat()},
        agent_id=fact.agent_id,
    )


def device_silent(fact: DeviceFact, agent_alive: bool, now: datetime) -> Finding | None:
    """A printer that should report, not read for hours while its agent is alive.

    Expected means under contract, or seen more than once (a one-off laptop printer found by a
    scan is not missed). When the agent itself is silent, ``agent_silent`` says it once instead of
    one alert per printer.
    """
    expected = fact.under_contract or fact.readings_seen > 1
    if not expected or not agent_alive:
        return None
    if now - fact.last_read_at <= timedelta(hours=fact.silent_after_hours):
        return None
    return Finding(
        kind="device_silent",
        key=f"device_silent:device:{fact.device_id}",
        customer_id=fact.customer_id,
        severity="warning",
        message=ALERT_DEVICE_SILENT
        % {"name": fact.name, "since": f"{fact.last_read_at:%Y-%m-%d %H:%M}"},
        details={"device": fact.name, "since": fact.last_read_at.isoformat()},
        machine_id=fact.machine_id,
        device_id=fact.device_id,
        agent_id=fact.agent_id,
    )


def is_fault(alert: PrinterAlert) -> bool:
    """A printer alert a person must act on (jam, door open, out of paper, service...)."""
    if alert.code in ROUTINE_CODES:
        return False
    return alert.code in FAULT_CODES or alert.severity == "critical"


def device_errors(fact: DeviceFact) -> Iterator[Finding]:
    """One alert per fault the printer reports in its latest reading, cleared when it stops."""
    for code in sorted({a.code for a in fact.printer_alerts if is_fault(a)}):
        first = next(a for a in fact.printer_alerts if a.code == code)
        yield Finding(
            kind="device_error",
            key=f"device_error:device:{fact.device_id}:{code}",
            customer_id=fact.customer_id,
            severity="critical" if first.severity == "critical" else "warning",
            message=f"{fact.name}: {first.description or code}",
            details={"device": fact.name, "code": code, "description": first.description},
            machine_id=fact.machine_id,
            device_id=fact.device_id,
            agent_id=fact.agent_id,
        )


def supply_low(fact: SupplyFact) -> Finding | None:
    """A supply that runs out within the customer's lead time and has no reorder open."""
    if fact.has_open_reorder or fact.earliest_days is None or fact.earliest_days > fact.lead_days:
        return None
    days = max(0.0, fact.earliest_days)
    return Finding(
        kind="supply_low",
        key=f"supply_low:machine:{fact.machine_id}:{fact.slot}",
        customer_id=fact.customer_id,
        severity="critical" if days < 1 else "warning",
        message=ALERT_SUPPLY_EMPTY % {"name": fact.description, "days": f"{days:.0f}"},
        details={"supply": fact.description, "days": round(days, 1), "slot": fact.slot},
        machine_id=fact.machine_id,
        device_id=fact.device_id,
    )


def counter_anomaly(fact: FlaggedReadFact) -> Finding:
    """A flagged meter read waiting for staff: billing skips it until someone decides."""
    return Finding(
        kind="counter_anomaly",
        key=f"counter_anomaly:read:{fact.read_id}",
        customer_id=fact.customer_id,
        severity="warning",
        message=ALERT_READ_FLAGGED % {"name": fact.machine_name, "flag": fact.flag},
        details={"machine": fact.machine_name, "flag": fact.flag, "read_id": fact.read_id},
        machine_id=fact.machine_id,
    )


@dataclass(frozen=True, slots=True)
class FleetFacts:
    """Everything the rules look at, gathered once per evaluation."""

    agents: list[AgentFact] = field(default_factory=list)
    devices: list[DeviceFact] = field(default_factory=list)
    supplies: list[SupplyFact] = field(default_factory=list)
    flagged_reads: list[FlaggedReadFact] = field(default_factory=list)


def evaluate(facts: FleetFacts, now: datetime) -> list[Finding]:
    """Every problem that holds at ``now``; one finding per key."""
    alive = {a.agent_id: agent_is_alive(a, now) for a in facts.agents}
    findings: list[Finding | None] = [agent_silent(a, now) for a in facts.agents]
    for device in facts.devices:
        agent_alive = device.agent_id is not None and alive.get(device.agent_id, False)
        findings.append(device_silent(device, agent_alive, now))
        findings.extend(device_errors(device))
    findings.extend(supply_low(s) for s in facts.supplies)
    findings.extend(counter_anomaly(r) for r in facts.flagged_reads)
    return _unique(f for f in findings if f is not None)


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    by_key: dict[str, Finding] = {}
    for finding in findings:
        by_key.setdefault(finding.key, finding)
    return list(by_key.values())
