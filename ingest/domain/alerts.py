"""Alerts over the database: gather the facts, run the rules, keep the alerts table in step.

``evaluate_alerts`` is the scheduled job. It is idempotent: run it twice at the same ``now`` and
nothing changes the second time. A finding with no open alert opens one; a finding with an open
alert refreshes ``last_seen_at``; an open alert with no finding clears. Opening and clearing write
an outbox event in the same transaction, so notifications are never lost nor sent for a change
that was rolled back. A customer may ask for a service ticket per alert kind: it is opened once,
linked to the alert, and noted when the alert clears.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain import alert_rules
from ingest.domain.agents import current_config
from ingest.domain.alert_rules import (
    AgentFact,
    DeviceFact,
    Finding,
    FlaggedReadFact,
    FleetFacts,
    PrinterAlert,
    SupplyFact,
)
from ingest.domain.outbox import emit, queue_mail, staff_reading
from ingest.domain.supplies import slot_forecasts
from ingest.domain.tickets import TicketRequest, open_ticket
from ingest.i18n import N_, recipient_language, wording
from ingest.models import (
    Agent,
    Alert,
    AlertSettings,
    Contract,
    Customer,
    Device,
    DeviceReading,
    Machine,
    MeterRead,
    NotificationPreference,
    Ticket,
    TicketEvent,
    User,
)
from ingest.models.agents import AgentStatus
from ingest.stored_texts import TICKET_ALERT_CLEARED, TICKET_OPENED, worded

DIGEST_EVERY = timedelta(days=1)


@dataclass(slots=True)
class AlertChanges:
    """What one evaluation changed."""

    opened: list[Alert] = field(default_factory=list)
    refreshed: int = 0
    cleared: list[Alert] = field(default_factory=list)


def evaluate_alerts(session: Session, now: datetime) -> AlertChanges:
    """The job: facts → rules → alerts table (+ outbox events, automatic tickets). Commits."""
    changes = sync_alerts(session, alert_rules.evaluate(gather_facts(session, now), now), now)
    session.commit()
    return changes


def sync_alerts(session: Session, findings: list[Finding], now: datetime) -> AlertChanges:
    """Open, refresh and clear alerts so the open ones are exactly ``findings``."""
    changes = AlertChanges()
    still_open = {a.key: a for a in open_alerts(session)}
    for finding in findings:
        alert = still_open.pop(finding.key, None)
        if alert is None:
            changes.opened.append(_open(session, finding, now))
        else:
            alert.last_seen_at = now
            alert.message, alert.severity, alert.details = (
                finding.message,
                finding.severity,
                finding.details,
            )
            changes.refreshed += 1
    for alert in still_open.values():
        _clear(session, alert, now)
        changes.cleared.append(alert)
    session.flush()
    return changes


def _open(session: Session, finding: Finding, now: datetime) -> Alert:
    alert = Alert(
        kind=finding.kind,
        key=finding.key,
        open_key=finding.key,
        customer_id=finding.customer_id,
        machine_id=finding.machine_id,
        device_id=finding.device_id,
        agent_id=finding.agent_id,
        severity=finding.severity,
        message=finding.message[:500],
        details=finding.details,
        opened_at=now,
        last_seen_at=now,
        cleared_at=None,
    )
    session.add(alert)
    session.flush()
    if finding.kind in settings_for(session, finding.customer_id).auto_ticket_kinds:
        _open_ticket(session, alert, now)
    emit(session, "alert.opened", alert_payload(alert), now, alert_mail)
    return alert


def _clear(session: Session, alert: Alert, now: datetime) -> None:
    alert.cleared_at, alert.open_key = now, None
    if alert.ticket_id is not None:
        ticket = session.get(Ticket, alert.ticket_id)
        if ticket is not None:
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=now,
                    status=ticket.status,
                    note=(TICKET_ALERT_CLEARED % {"message": alert.message})[:1000],
                )
            )
    emit(session, "alert.cleared", alert_payload(alert), now, alert_mail)


def _open_ticket(session: Session, alert: Alert, now: datetime) -> None:
    """A service ticket for an alert about a machine (agents have no machine to send a man to)."""
    if alert.machine_id is None:
        return
    request = TicketRequest(
        machine_id=alert.machine_id,
        subject=f"[{alert.kind}] {alert.message}"[:200],
        description=f"Opened automatically by alert #{alert.id}: {alert.message}",
        contact_name="SCM monitoring",
        priority="high" if alert.severity == "critical" else "normal",
        team="printing",
    )
    ticket = open_ticket(session, alert.customer_id, None, request, [], now)
    alert.ticket_id = ticket.id


def alert_mail(event: str, payload: dict[str, Any], reader: User) -> tuple[str, str]:
    """Subject and text of the immediate alert e-mail to one staff member, in their language."""
    words = wording(recipient_language(reader, None))
    state = N_("cleared") if event == "alert.cleared" else TICKET_OPENED
    values = {
        "id": payload["id"],
        "kind": words.label("alert", payload["kind"]),
        "severity": words.label("severity", payload["severity"]),
        "state": words.gettext(state),
        "message": worded(payload["message"], words),
        "customer": payload["customer"] or "—",
        "opened": words.moment(datetime.fromisoformat(payload["opened_at"])),
    }
    subject = words.gettext("[SCM %(severity)s] %(kind)s %(state)s: %(message)s", **values)
    text = words.gettext(
        "Alert #%(id)s (%(kind)s) %(state)s.\n\nCustomer: %(customer)s\n%(message)s\n"
        "Opened: %(opened)s\n",
        **values,
    )
    return subject, text


def send_digests(session: Session, now: datetime) -> int:
    """Queue the daily digest for staff who read alerts once a day; how many were queued.

    A digest lists the alerts open now and those opened since the reader's previous digest; a
    reader whose previous digest is less than a day old gets nothing yet. Commits.
    """
    queued = 0
    for user in staff_reading(session, "digest"):
        pref = session.get(NotificationPreference, user.id) or NotificationPreference(
            user_id=user.id, mode="digest"
        )
        if pref.last_digest_at is not None and now - pref.last_digest_at < DIGEST_EVERY:
            continue
        since = pref.last_digest_at or now - DIGEST_EVERY
        alerts = open_alerts(session) + [
            a
            for a in session.scalars(select(Alert).where(Alert.cleared_at >= since))
            if a.opened_at >= since
        ]
        pref.last_digest_at = now
        session.add(pref)
        if not alerts:
            continue
        message = emit(session, "alert.digest", {"alerts": [a.id for a in alerts]}, now)
        words = wording(recipient_language(user, None))
        lines = [
            f"- [{words.label('severity', a.severity)}] {words.label('alert', a.kind)}: "
            f"{worded(a.message, words)}"
            for a in alerts
        ]
        count, since_text = len(alerts), words.moment(since)
        text = words.ngettext(
            "%(num)d alert since %(since)s:",
            "%(num)d alerts since %(since)s:",
            count,
            since=since_text,
        )
        subject = words.ngettext("SCM: %(num)d alert", "SCM: %(num)d alerts", count)
        queue_mail(session, message, user.email, subject, text + "\n\n" + "\n".join(lines), now)
        queued += 1
    session.commit()
    return queued


def alert_payload(alert: Alert) -> dict[str, Any]:
    """An alert as the API and webhooks show it."""
    return {
        "id": alert.id,
        "kind": alert.kind,
        "customer": alert.customer.name if alert.customer else None,
        "customer_id": alert.customer_id,
        "machine_id": alert.machine_id,
        "device_id": alert.device_id,
        "agent_id": alert.agent_id,
        "severity": alert.severity,
        "message": alert.message,
        "opened_at": alert.opened_at.isoformat(),
        "last_seen_at": alert.last_seen_at.isoformat(),
        "cleared_at": alert.cleared_at.isoformat() if alert.cleared_at else None,
        "ticket_id": alert.ticket_id,
    }


def settings_for(session: Session, customer_id: int) -> AlertSettings:
    """The customer's alert settings, or the defaults (not stored) when staff set none."""
    found = session.get(AlertSettings, customer_id)
    return found or AlertSettings(
        customer_id=customer_id,
        agent_silent_minutes=None,
        device_silent_hours=alert_rules.DEFAULT_DEVICE_SILENT_HOURS,
        auto_ticket_kinds=[],
    )


def silence_threshold(session: Session, customer_id: int) -> timedelta:
    """How long one of the customer's printers may go unread before it counts as silent."""
    return timedelta(hours=settings_for(session, customer_id).device_silent_hours)


# -- gathering the facts --------------------------------------------------------------------


def gather_facts(session: Session, now: datetime) -> FleetFacts:
    """One snapshot of what the rules need, per agent, device, supply and flagged read."""
    settings = {s.customer_id: s for s in session.scalars(select(AlertSettings))}
    return FleetFacts(
        agents=_agent_facts(session, settings),
        devices=_device_facts(session, settings, now),
        supplies=_supply_facts(session),
        flagged_reads=_flagged_read_facts(session),
    )


def _agent_facts(session: Session, settings: dict[int, AlertSettings]) -> list[AgentFact]:
    beats = {s.agent_id: s.received_at for s in session.scalars(select(AgentStatus))}
    facts = []
    for agent in session.scalars(select(Agent).where(Agent.active.is_(True))):
        _, config = current_config(session, agent)
        contacts = [t for t in (beats.get(agent.id), agent.last_seen_at) if t is not None]
        custom = settings.get(agent.customer_id)
        facts.append(
            AgentFact(
                agent_id=agent.id,
                customer_id=agent.customer_id,
                name=agent.hostname or agent.public_id[:12],
                last_heartbeat_at=max(contacts) if contacts else None,
                enrolled_at=agent.enrolled_at,
                heartbeat_interval_s=config.intervals.value("heartbeat_s"),
                silent_after_minutes=custom.agent_silent_minutes if custom else None,
            )
        )
    return facts


def _device_facts(
    session: Session, settings: dict[int, AlertSettings], now: datetime
) -> list[DeviceFact]:
    """Each device with its latest reading (the latest-state pointer: no history scan)."""
    rows = session.execute(
        select(Device, DeviceReading).join(
            DeviceReading, DeviceReading.id == Device.latest_reading_id
        )
    )
    linked = select(Machine).where(Machine.device_id.is_not(None))
    machines = {m.device_id: m for m in session.scalars(linked)}
    today = now.date()
    running = select(Contract.machine_id).where(
        Contract.start <= today, Contract.end.is_(None) | (Contract.end >= today)
    )
    under_contract = set(session.scalars(running))
    facts = []
    for device, reading in rows:
        machine = machines.get(device.id)
        custom = settings.get(device.customer_id)
        facts.append(
            DeviceFact(
                device_id=device.id,
                customer_id=device.customer_id,
                name=_device_name(device, machine),
                last_read_at=device.last_seen_at,
                agent_id=reading.agent_id,
                machine_id=machine.id if machine else None,
                under_contract=machine is not None and machine.id in under_contract,
                # reported at two different moments: a printer that is expected, not a one-off
                readings_seen=2 if device.first_seen_at < device.last_seen_at else 1,
                silent_after_hours=(
                    custom.device_silent_hours
                    if custom
                    else alert_rules.DEFAULT_DEVICE_SILENT_HOURS
                ),
                printer_alerts=_printer_alerts(reading.payload),
            )
        )
    return facts


def _device_name(device: Device, machine: Machine | None) -> str:
    label = " ".join(p for p in (device.manufacturer, device.model) if p) or "printer"
    ident = machine.scm_id if machine else f"s/n {device.serial or device.last_address}"
    return f"{ident} {label}"


def _printer_alerts(payload: dict[str, Any]) -> tuple[PrinterAlert, ...]:
    raw = payload.get("alerts") if isinstance(payload, dict) else None
    return tuple(
        PrinterAlert(
            str(a.get("severity") or "warning"),
            str(a.get("code") or "other"),
            str(a.get("description") or ""),
        )
        for a in raw or []
        if isinstance(a, dict)
    )


def _supply_facts(session: Session) -> list[SupplyFact]:
    """Toner and ink of monitored machines, forecast from their latest state."""
    monitored = select(Machine).where(Machine.device_id.is_not(None), Machine.monitored.is_(True))
    machines = {m.id: m for m in session.scalars(monitored)}
    facts = []
    for (machine_id, slot), forecast in slot_forecasts(session, list(machines.values())).items():
        if forecast.kind not in {"toner", "ink"}:
            continue
        machine = machines[machine_id]
        customer: Customer = machine.customer
        facts.append(
            SupplyFact(
                customer_id=machine.customer_id,
                machine_id=machine.id,
                device_id=machine.device_id or 0,
                slot=slot,
                description=f"{machine.scm_id} {forecast.description or slot}",
                earliest_days=forecast.forecast.earliest_days,
                lead_days=customer.reorder_lead_days,
                has_open_reorder=forecast.open_reorder,
            )
        )
    return facts


def _flagged_read_facts(session: Session) -> list[FlaggedReadFact]:
    rows = session.execute(
        select(MeterRead, Machine).join(Machine).where(MeterRead.status == "flagged")
    )
    return [
        FlaggedReadFact(
            read_id=read.id,
            customer_id=machine.customer_id,
            machine_id=machine.id,
            machine_name=machine.scm_id,
            flag=read.flags or "flagged",
            taken_at=read.taken_at,
        )
        for read, machine in rows
    ]


def open_alerts(
    session: Session, customer_id: int | None = None, kind: str | None = None
) -> list[Alert]:
    """Open alerts, oldest first (one customer's, one kind's, or all)."""
    query = select(Alert).where(Alert.open_key.is_not(None)).order_by(Alert.opened_at, Alert.id)
    if customer_id is not None:
        query = query.where(Alert.customer_id == customer_id)
    if kind is not None:
        query = query.where(Alert.kind == kind)
    return list(session.scalars(query))
