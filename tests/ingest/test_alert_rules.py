"""The alert rules on plain facts and a clock: no database, no Flask."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingest.domain.alert_rules import (
    AgentFact,
    DeviceFact,
    FlaggedReadFact,
    FleetFacts,
    PrinterAlert,
    SupplyFact,
    agent_silence_limit,
    agent_silent,
    device_errors,
    device_silent,
    evaluate,
    supply_low,
)

T0 = datetime(2026, 9, 1, 8, tzinfo=UTC)


def agent(last: datetime | None = T0, interval_s: int = 900, minutes: int | None = None):
    return AgentFact(1, 7, "pc-ufficio", last, T0 - timedelta(days=30), interval_s, minutes)


def device(last: datetime = T0, **kw):
    values = {"device_id": 3, "customer_id": 7, "name": "SCM-1 Laser", "last_read_at": last}
    return DeviceFact(**{**values, "agent_id": 1, **kw})


@pytest.mark.parametrize(
    ("interval_s", "minutes", "limit"),
    [
        (900, None, timedelta(minutes=45)),  # three missed 15-minute heartbeats
        (60, None, timedelta(minutes=30)),  # never less than half an hour
        (900, 240, timedelta(hours=4)),  # the customer's own threshold wins
    ],
)
def test_agent_silence_limit(interval_s, minutes, limit):
    assert agent_silence_limit(agent(interval_s=interval_s, minutes=minutes)) == limit


def test_an_agent_is_silent_only_after_its_limit():
    assert agent_silent(agent(), T0 + timedelta(minutes=45)) is None
    finding = agent_silent(agent(), T0 + timedelta(minutes=46))
    assert finding is not None
    assert (finding.kind, finding.agent_id, finding.customer_id) == ("agent_silent", 1, 7)


def test_a_never_heard_agent_counts_from_enrolment():
    assert agent_silent(agent(last=None), T0) is not None


@pytest.mark.parametrize(
    ("kw", "agent_alive", "hours", "silent"),
    [
        ({"under_contract": True}, True, 25, True),
        ({"under_contract": True}, True, 23, False),
        ({"readings_seen": 5}, True, 25, True),  # reported before, now gone
        ({"readings_seen": 1}, True, 25, False),  # seen once by a scan: not expected
        ({"under_contract": True}, False, 25, False),  # the agent is silent: one alert there
        ({"under_contract": True, "silent_after_hours": 2}, True, 3, True),
    ],
)
def test_device_silence(kw, agent_alive, hours, silent):
    finding = device_silent(device(**kw), agent_alive, T0 + timedelta(hours=hours))
    assert (finding is not None) == silent


def test_printer_faults_open_one_alert_each_and_routine_or_low_codes_none():
    alerts = (
        PrinterAlert("critical", "jammed", "Paper jam"),
        PrinterAlert("warning", "doorOpen", "Cover open"),
        PrinterAlert("critical", "doorOpen", "Interlock open"),
        PrinterAlert("warning", "tonerLow", "Toner low (Yellow)"),
        PrinterAlert("critical", "warmingUp", "Warming up"),
        PrinterAlert("critical", "alert4711", "Vendor failure"),
    )
    found = {f.details["code"]: f for f in device_errors(device(printer_alerts=alerts))}
    assert set(found) == {"jammed", "doorOpen", "alert4711"}
    assert found["jammed"].key == "device_error:device:3:jammed"
    assert found["jammed"].severity == "critical"


@pytest.mark.parametrize(
    ("days", "lead", "reordered", "alert"),
    [(3.0, 7, False, True), (8.0, 7, False, False), (3.0, 7, True, False), (None, 7, False, False)],
)
def test_supply_low(days, lead, reordered, alert):
    fact = SupplyFact(7, 2, 3, "toner:black", "Toner nero", days, lead, reordered)
    assert (supply_low(fact) is not None) == alert


def test_evaluate_gives_one_finding_per_key_and_skips_printers_of_silent_agents():
    now = T0 + timedelta(days=2)
    facts = FleetFacts(
        agents=[agent(last=T0)],
        devices=[device(under_contract=True), device(under_contract=True)],
        supplies=[],
        flagged_reads=[FlaggedReadFact(9, 7, 2, "SCM-1", "backwards", T0)],
    )
    kinds = sorted(f.kind for f in evaluate(facts, now))
    assert kinds == ["agent_silent", "counter_anomaly"]
    alive = FleetFacts(agents=[agent(last=now)], devices=facts.devices)
    assert [f.kind for f in evaluate(alive, now)] == ["device_silent"]
