"""Languages: the gettext catalogs, the words for enum values, and locale-aware formatting.

Plain Babel, no Flask: documents, e-mails and CLI commands word themselves for a customer or a
recipient who is not the person behind the current request, so they take a ``Wording`` for a
language instead of asking the request for one.  ``ingest/languages.py`` picks the language of a
page and hands the same ``Wording`` to the templates.

The catalogs live in ``ingest/translations/<lang>/LC_MESSAGES/messages.po`` (compiled ``.mo``
committed beside them); English is the source language, so its catalog is the identity.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Final, Protocol

from babel import Locale
from babel.dates import (
    format_date,
    format_datetime,
    get_date_format,
    get_timezone,
    parse_date,
)
from babel.numbers import format_currency, format_decimal
from babel.support import Translations
from babel.units import format_unit

#: Languages the portal speaks, with their own names (for the switch in the navigation bar).
LANGUAGES: Final = {"it": "Italiano", "es": "Español", "en": "English"}
DEFAULT_LANGUAGE: Final = "it"
#: The language of the msgids (the code's own texts).
SOURCE_LANGUAGE: Final = "en"
DEFAULT_TIMEZONE: Final = "Europe/Rome"
TRANSLATIONS_DIR: Final = Path(__file__).resolve().parent / "translations"
DOMAIN: Final = "messages"
CURRENCY: Final = "EUR"
#: Per-page rates carry four decimals (0,0090 €): rounding them to cents would show 0,01 €.
RATE_MIN_DECIMALS: Final = 4
#: Where a country's customers read their documents (ISO 3166 alpha-2 -> language).
COUNTRY_LANGUAGES: Final = {"IT": "it", "SM": "it", "VA": "it", "ES": "es", "AD": "es"}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


#: The words for stored codes: nothing a person reads shows a raw enum value.
LABELS: Final[dict[str, dict[str, str]]] = {
    "payment": {
        "bank_transfer": N_("Bank transfer"),
        "direct_debit": N_("Direct debit"),
        "on_invoice": N_("On the next invoice"),
    },
    "order_status": {"open": N_("Open"), "closed": N_("Closed")},
    "note_status": {
        "preparing": N_("Being prepared"),
        "shipped": N_("Shipped"),
        "delivered": N_("Delivered"),
    },
    "order_source": {"auto": N_("Automatic reorder"), "customer": N_("Placed by the customer")},
    "invoice_status": {
        "open": N_("Open invoice"),
        "paid": N_("Paid invoice"),
        "credited": N_("Credited invoice"),
    },
    "priority": {
        "low": N_("Low"),
        "normal": N_("Normal"),
        "high": N_("High"),
        "urgent": N_("Urgent"),
    },
    "period": {"monthly": N_("Monthly"), "quarterly": N_("Quarterly")},
    "read_source": {"agent": N_("Agent"), "manual": N_("Typed in"), "ticket": N_("Ticket")},
    "flag": {
        "counter_backwards": N_("Counter went backwards"),
        "implausible_jump": N_("Implausible jump"),
        "serial_swap": N_("Different serial number"),
        "out_of_sequence": N_("Out of sequence"),
    },
    "supply": {
        "toner": N_("Toner"),
        "ink": N_("Ink"),
        "drum": N_("Drum"),
        "developer": N_("Developer"),
        "waste_toner": N_("Waste toner box"),
        "waste_ink": N_("Waste ink box"),
        "fuser": N_("Fuser"),
        "transfer": N_("Transfer unit"),
        "maintenance": N_("Maintenance kit"),
        "staples": N_("Staples"),
        "other": N_("Other supply"),
    },
    "supply_state": {
        "ok": N_("OK"),
        "low": N_("Running low"),
        "empty": N_("Empty"),
        "some_remaining": N_("Some remaining"),
        "unknown": N_("Unknown"),
    },
    "colour": {
        "black": N_("black"),
        "cyan": N_("cyan"),
        "magenta": N_("magenta"),
        "yellow": N_("yellow"),
    },
    "transport_reason": {
        "sale": N_("Sale"),
        "contract_supply": N_("Supply under service contract"),
        "replacement": N_("Replacement"),
    },
    "carried_by": {
        "sender": N_("Sender"),
        "carrier": N_("Carrier"),
        "recipient": N_("Recipient"),
    },
    "goods_appearance": {"boxes": N_("Boxes"), "envelope": N_("Envelope"), "pallet": N_("Pallet")},
    "alert": {
        "agent_silent": N_("Agent silent"),
        "device_silent": N_("Printer silent"),
        "device_error": N_("Printer error"),
        "supply_low": N_("Supply low"),
        "counter_anomaly": N_("Counter anomaly"),
    },
    "payment_source": {"manual": N_("typed in"), "bank_csv": N_("bank statement")},
    "bank_row": {
        "matched": N_("Matched"),
        "skipped": N_("Skipped"),
        "unreadable": N_("Unreadable"),
    },
    "read_status": {"ok": N_("Valid"), "flagged": N_("To check"), "rejected": N_("Rejected")},
    "severity": {"critical": N_("critical"), "warning": N_("warning"), "info": N_("info")},
    "freight": {"paid": N_("Carriage paid"), "forward": N_("Carriage forward")},
}


class _HasLanguage(Protocol):
    language: str | None


class _Customer(Protocol):
    language: str | None
    country: str


def language_for_country(country: str | None) -> str | None:
    """The language a country's customers read, if the portal speaks it."""
    return COUNTRY_LANGUAGES.get((country or "").strip().upper()[:2])


def customer_language(customer: _HasLanguage | None) -> str | None:
    """The language staff set for a customer (its pages then speak it whatever the browser)."""
    return customer.language if customer is not None and customer.language in LANGUAGES else None


def recipient_language(user: _HasLanguage | None, customer: _Customer | None) -> str:
    """The language of a mail or document for a person: theirs, else the one staff set for
    their customer, else their customer's country's, else the default (no browser to ask)."""
    if user is not None and user.language in LANGUAGES:
        return str(user.language)
    country = language_for_country(customer.country) if customer is not None else None
    return customer_language(customer) or country or DEFAULT_LANGUAGE


def display_timezone() -> tzinfo:
    """Where people read times: ``SCM_TIMEZONE`` (default Europe/Rome; Madrid keeps the same
    clock). Stored times are UTC."""
    return get_timezone(os.environ.get("SCM_TIMEZONE") or DEFAULT_TIMEZONE)


@cache
def translations(language: str) -> Translations:
    """The compiled catalog of ``language`` (English, the source language, needs none)."""
    return Translations.load(str(TRANSLATIONS_DIR), [language], DOMAIN)


def is_msgid(text: str) -> bool:
    """Whether ``text`` is one of the catalog's messages (the source catalog lists them all)."""
    return text in translations(SOURCE_LANGUAGE)._catalog


@dataclass(frozen=True, slots=True)
class Wording:
    """Words, numbers, money and dates in one language."""

    language: str

    @property
    def locale(self) -> Locale:
        """The Babel locale."""
        return Locale.parse(self.language)

    def gettext(self, msgid: str, /, **values: object) -> str:
        """``msgid`` translated, then filled with ``values`` (``%(name)s`` placeholders)."""
        text = translations(self.language).gettext(msgid)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, count: int, /, **values: object) -> str:
        """The singular or plural form for ``count`` (available as ``%(num)d``)."""
        text = translations(self.language).ngettext(singular, plural, count)
        return text % {"num": count, **values}

    def label(self, kind: str, code: str | None) -> str:
        """The word for a stored code (``payment``, ``bank_transfer``); unknown codes as is."""
        if code is None or code == "":
            return "—"
        known = LABELS.get(kind, {}).get(code)
        return self.gettext(known) if known else code.replace("_", " ")

    def money(self, amount: Decimal | float | int) -> str:
        """``1.234,56 €`` (Italian), ``€1,234.56`` (English)."""
        return format_currency(amount, CURRENCY, locale=self.language)

    def rate(self, amount: Decimal | float | int) -> str:
        """A per-page rate with the precision it has, at least four decimals: ``0,0090 €``."""
        pattern = self.locale.currency_formats["standard"].pattern.split(";")[0]
        pattern = pattern.replace("0.00", "0." + "0" * RATE_MIN_DECIMALS + "###")
        return format_currency(
            amount, CURRENCY, format=pattern, locale=self.language, currency_digits=False
        )

    def number(self, value: int | float | Decimal | None) -> str:
        """``1.234.567``; a dash for nothing."""
        return "—" if value is None else format_decimal(value, locale=self.language)

    def percent(self, fraction: Decimal | float) -> str:
        """``0.22`` as ``22%`` (with the locale's spacing)."""
        return format_decimal(float(fraction) * 100, format="#,##0.##", locale=self.language) + "%"

    @property
    def date_pattern(self) -> str:
        """The locale's short date pattern with a four-digit year (``dd/MM/yyyy``)."""
        pattern = get_date_format("short", locale=self.language).pattern
        return pattern if "yyyy" in pattern else pattern.replace("yy", "yyyy")

    @property
    def date_placeholder(self) -> str:
        """The date pattern as people read it (``gg/mm/aaaa`` is not needed: digits suffice)."""
        return format_date(date(2026, 12, 31), self.date_pattern, locale=self.language)

    def day(self, value: date | datetime | None) -> str:
        """``28/11/2026`` (Italian), ``28/11/2026`` (Spanish), ``11/28/2026`` (English)."""
        if value is None:
            return "—"
        day = value.date() if isinstance(value, datetime) else value
        return format_date(day, self.date_pattern, locale=self.language)

    def moment(self, value: datetime | None) -> str:
        """A date and time on the dealer's clock (``28/11/2026 14:05``, Europe/Rome)."""
        if value is None:
            return "—"
        return format_datetime(
            value, self.date_pattern + " HH:mm", tzinfo=display_timezone(), locale=self.language
        )

    def age(self, count: int, unit: str) -> str:
        """A short age in the locale's words: ``3 giorni``, ``3 d``, ``3 days``."""
        return format_unit(count, f"duration-{unit}", length="short", locale=self.language)

    def month(self, value: date) -> str:
        """A month as ``11/2026``."""
        return format_date(value, "MM/yyyy", locale=self.language)

    def parse_day(self, text: str) -> date:
        """A date typed in this locale's order (or ISO ``2026-11-28``); ValueError otherwise."""
        clean = text.strip()
        if not clean:
            raise ValueError("empty date")
        try:
            return parse_date(clean, locale=self.language, format="short")
        except (IndexError, TypeError, ValueError) as err:
            raise ValueError(f"not a date: {text!r}") from err


@cache
def wording(language: str | None) -> Wording:
    """The ``Wording`` of ``language`` (the default language when unknown or missing)."""
    return Wording(language if language in LANGUAGES else DEFAULT_LANGUAGE)
