"""A customer's settings that staff change: contacts, reorder rule, alert thresholds, the
customer code (a sign-in name) and the language of its documents, e-mails and pages.

One function applies a whole settings request, so the web form and any command share the
checks (a lead time of 400 days or an alert kind that does not exist is refused here, not in a
view).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ingest.domain.accounts import checked_customer_code
from ingest.domain.alert_rules import DEFAULT_DEVICE_SILENT_HOURS, KINDS
from ingest.domain.errors import DomainError
from ingest.domain.vat import REGIMES
from ingest.i18n import LANGUAGES
from ingest.models import AlertSettings, Customer


@dataclass(frozen=True, slots=True)
class Contacts:
    """The customer's MFP referent and the dealer's salesperson for it."""

    referent_name: str | None = None
    referent_email: str | None = None
    referent_phone: str | None = None
    sales_rep_name: str | None = None
    sales_rep_email: str | None = None
    sales_rep_phone: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerSettings:
    """Everything on the staff settings page of one customer."""

    contacts: Contacts = field(default_factory=Contacts)
    reorder_lead_days: int = 7
    reorder_threshold_percent: int = 10
    #: False: the customer orders toner itself (staff get a supply_low alert instead).
    auto_reorder: bool = True
    #: ``standard``, ``reverse_charge`` or ``exempt`` (``ingest.domain.vat``).
    vat_regime: str = "standard"
    #: None: silent after three of the agent's own heartbeat intervals.
    agent_silent_minutes: int | None = None
    device_silent_hours: int = DEFAULT_DEVICE_SILENT_HOURS
    auto_ticket_kinds: tuple[str, ...] = ()
    #: None keeps the customer's code.
    code: str | None = None
    #: None: not set (the browser decides pages; Italian for documents and e-mails).
    language: str | None = None


def settings_of(session: Session, customer: Customer) -> CustomerSettings:
    """The customer's current settings (alert defaults where staff set none)."""
    alerts = session.get(AlertSettings, customer.id)
    return CustomerSettings(
        contacts=Contacts(
            customer.referent_name,
            customer.referent_email,
            customer.referent_phone,
            customer.sales_rep_name,
            customer.sales_rep_email,
            customer.sales_rep_phone,
        ),
        reorder_lead_days=customer.reorder_lead_days,
        reorder_threshold_percent=customer.reorder_threshold_percent,
        auto_reorder=customer.auto_reorder,
        vat_regime=customer.vat_regime,
        agent_silent_minutes=alerts.agent_silent_minutes if alerts else None,
        device_silent_hours=alerts.device_silent_hours if alerts else DEFAULT_DEVICE_SILENT_HOURS,
        auto_ticket_kinds=tuple(alerts.auto_ticket_kinds) if alerts else (),
        code=customer.code,
        language=customer.language,
    )


def update_settings(session: Session, customer: Customer, wanted: CustomerSettings) -> None:
    """Apply ``wanted`` after checking every value; nothing changes when one is refused."""
    _check(wanted)
    code = checked_customer_code(session, customer, wanted.code) if wanted.code else customer.code
    customer.code, customer.language = code, wanted.language
    c = wanted.contacts
    customer.referent_name, customer.referent_email, customer.referent_phone = (
        _clean(c.referent_name),
        _clean(c.referent_email),
        _clean(c.referent_phone),
    )
    customer.sales_rep_name, customer.sales_rep_email, customer.sales_rep_phone = (
        _clean(c.sales_rep_name),
        _clean(c.sales_rep_email),
        _clean(c.sales_rep_phone),
    )
    customer.reorder_lead_days = wanted.reorder_lead_days
    customer.reorder_threshold_percent = wanted.reorder_threshold_percent
    customer.auto_reorder = wanted.auto_reorder
    customer.vat_regime = wanted.vat_regime
    alerts = session.get(AlertSettings, customer.id) or AlertSettings(customer_id=customer.id)
    alerts.agent_silent_minutes = wanted.agent_silent_minutes
    alerts.device_silent_hours = wanted.device_silent_hours
    alerts.auto_ticket_kinds = list(wanted.auto_ticket_kinds)
    session.add(alerts)
    session.flush()


def _check(wanted: CustomerSettings) -> None:
    if not 0 <= wanted.reorder_lead_days <= 90:
        raise DomainError("bad_settings", "the reorder lead time is 0 to 90 days")
    if not 0 <= wanted.reorder_threshold_percent <= 100:
        raise DomainError("bad_settings", "the reorder threshold is 0 to 100 %")
    if wanted.agent_silent_minutes is not None and not 15 <= wanted.agent_silent_minutes <= 10080:
        raise DomainError("bad_settings", "an agent is silent after 15 minutes to 7 days")
    if not 1 <= wanted.device_silent_hours <= 720:
        raise DomainError("bad_settings", "a printer is silent after 1 to 720 hours")
    if wanted.language is not None and wanted.language not in LANGUAGES:
        raise DomainError("bad_language", f"unknown language {wanted.language!r}")
    if wanted.vat_regime not in REGIMES:
        raise DomainError("bad_settings", "unknown VAT regime")
    unknown = set(wanted.auto_ticket_kinds) - set(KINDS)
    if unknown:
        raise DomainError("bad_settings", f"unknown alert kinds: {', '.join(sorted(unknown))}")


def _clean(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    return text or None
