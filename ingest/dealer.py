"""The dealer's own identity, printed on every document and signed under every e-mail.

Configuration, not code: one deployment serves SCM srl, another a Spanish peer.  Settings:
``SCM_DEALER_NAME``, ``SCM_DEALER_ADDRESS`` (lines separated by ``;``), ``SCM_DEALER_VAT``,
``SCM_DEALER_PHONE``, ``SCM_DEALER_EMAIL``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_NAME = "SCM srl"


@dataclass(frozen=True, slots=True)
class Dealer:
    """Who sends the documents ("cedente" on a DDT)."""

    name: str = DEFAULT_NAME
    address: tuple[str, ...] = ()
    vat_number: str | None = None
    phone: str | None = None
    email: str | None = None

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
    address = tuple(p.strip() for p in env.get("SCM_DEALER_ADDRESS", "").split(";") if p.strip())
    return Dealer(
        name=env.get("SCM_DEALER_NAME") or DEFAULT_NAME,
        address=address,
        vat_number=env.get("SCM_DEALER_VAT") or None,
        phone=env.get("SCM_DEALER_PHONE") or None,
        email=env.get("SCM_DEALER_EMAIL") or None,
    )
