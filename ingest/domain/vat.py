"""Which VAT an invoice carries, from the customer and the dealer: a plain rule, no database.

Domestic customers pay the dealer's country's standard rate (Italy 22 %, Spain 21 %). A customer
in another EU country with a VAT number, one under domestic reverse charge, or one exempt, is
invoiced without VAT and the invoice must say why, in the words the law asks for; the same
reason goes to the electronic invoice as its "Natura" code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

#: The standard VAT rate of the dealer's country.
STANDARD_RATES: Final = {"IT": Decimal("0.22"), "ES": Decimal("0.21")}
DEFAULT_RATE: Final = Decimal("0.22")
#: How a customer is taxed (set by staff; "standard" unless they say otherwise).
REGIMES: Final = ("standard", "reverse_charge", "exempt")
#: The legal wording on the invoice, by the dealer's country and the reason for no VAT.
LEGAL_NOTES: Final = {
    ("IT", "intra_eu"): (
        "Operazione non imponibile art. 7-ter DPR 633/72 - inversione contabile "
        "art. 196 Direttiva 2006/112/CE"
    ),
    ("IT", "reverse_charge"): "Inversione contabile art. 17 c. 6 DPR 633/72",
    ("IT", "exempt"): "Operazione esente art. 10 DPR 633/72",
    ("ES", "intra_eu"): (
        "Operación exenta art. 25 Ley 37/1992 - inversión del sujeto pasivo "
        "art. 196 Directiva 2006/112/CE"
    ),
    ("ES", "reverse_charge"): "Inversión del sujeto pasivo art. 84.Uno.2º Ley 37/1992",
    ("ES", "exempt"): "Operación exenta art. 20 Ley 37/1992",
}
#: FatturaPA "Natura" of a line without VAT.
NATURES: Final = {"intra_eu": "N3.2", "reverse_charge": "N6.9", "exempt": "N4"}
EU: Final = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class VatTreatment:
    """The rate, and when it is zero, the reason as a FatturaPA nature and the legal note."""

    rate: Decimal
    nature: str | None = None
    note: str | None = None


def vat_for(
    dealer_country: str, customer_country: str, regime: str, vat_number: str | None
) -> VatTreatment:
    """The VAT of an invoice from a dealer in ``dealer_country`` to this customer."""
    dealer = dealer_country.upper()
    reason = None
    if regime in ("exempt", "reverse_charge"):
        reason = regime
    elif customer_country.upper() != dealer and customer_country.upper() in EU and vat_number:
        reason = "intra_eu"
    if reason is None:
        return VatTreatment(STANDARD_RATES.get(dealer, DEFAULT_RATE))
    note = LEGAL_NOTES.get((dealer, reason)) or LEGAL_NOTES[("IT", reason)]
    return VatTreatment(Decimal(0), NATURES[reason], note)
