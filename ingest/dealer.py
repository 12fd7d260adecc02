"""The dealer's own identity as documents print it and e-mails sign it.

Configuration, not code, and the same variables the electronic invoice reads
(``ingest.domain.einvoice.DEALER_ENV``: ``SCM_DEALER_NAME``, ``SCM_DEALER_VAT_NUMBER``,
``SCM_DEALER_STREET``, ``SCM_DEALER_POSTCODE``, ``SCM_DEALER_CITY``, ``SCM_DEALER_PROVINCE``),
plus ``SCM_DEALER_PHONE`` and ``SCM_DEALER_EMAIL`` for the documents' header,
``SCM_DEALER_COUNTRY`` (IT; the VAT at home) and ``SCM_DEALER_IBAN`` (printed on invoices).
Unlike the e-invoice, a document is printed with whatever is set (the name defaults to SCM srl).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ingest.domain.einvoice import DEALER_ENV

DEFAULT_NAME = "SCM srl"


@dataclass(frozen=True, slots=True)
class Dealer:
    """Who sends the documents ("cedente" on a DDT)."""

    name: str = DEFAULT_NAME
    address: tuple[str, ...] = ()
    vat_number: str | None = None
    phone: str | None = None
    email: str | None = None
    #: Two letters: decides the VAT at home (``ingest.domain.vat``).
    country: str = "IT"
    #: Where customers pay (printed on invoices with the payment terms).
    iban: str | None = None

    @property
    def lines(self) -> list[str]:
        """Address, VAT number and contacts, one per line, for document headers."""
        contacts = " · ".join(c for c in (self.phone, self.email) if c)
        return [
            *self.address,
            *([f"P.IVA / VAT {self.vat_number}"] if self.vat_number else []),
            *([contacts] if contacts else []),
        ]


def dealer(env: Mapping[str, str] | None = None) -> Dealer:
    """The dealer the environment describes (SCM srl with no details when nothing is set)."""
    env = os.environ if env is None else env

    def get(field: str) -> str:
        return env.get(DEALER_ENV[field], "").strip()

    province = f"({get('province')})" if get("province") else ""
    town = " ".join(p for p in (get("postcode"), get("city"), province) if p)
    return Dealer(
        name=get("name") or DEFAULT_NAME,
        address=tuple(p for p in (get("street"), town) if p),
        vat_number=get("vat_number") or None,
        phone=env.get("SCM_DEALER_PHONE") or None,
        email=env.get("SCM_DEALER_EMAIL") or None,
        country=(get("country") or "IT").upper()[:2],
        iban=" ".join(get("iban").split()) or None,
    )
