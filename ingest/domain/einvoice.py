"""The Italian electronic invoice: FatturaPA XML, format FPR12 (between businesses).

Built with ``a38``, which knows the schema and validates every field's format (lengths, codes,
decimals), so this module only maps our invoices and credit notes onto it.  The dealer's fiscal
identity is configuration (``SCM_DEALER_*``), the customer's comes from its record; whatever is
missing is named in the error, never guessed.  Sending to the SDI stays with the dealer's
intermediary: this module writes the file.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Final

from a38 import fattura as fpa
from a38.validation import Validation

from ingest.models import CreditNote, Customer, Invoice

#: The dealer's identity, one environment variable per field.
DEALER_ENV: Final = {
    "name": "SCM_DEALER_NAME",
    "vat_number": "SCM_DEALER_VAT_NUMBER",
    "tax_code": "SCM_DEALER_TAX_CODE",
    "street": "SCM_DEALER_STREET",
    "postcode": "SCM_DEALER_POSTCODE",
    "city": "SCM_DEALER_CITY",
    "province": "SCM_DEALER_PROVINCE",
    "country": "SCM_DEALER_COUNTRY",
    "tax_regime": "SCM_DEALER_TAX_REGIME",
    "iban": "SCM_DEALER_IBAN",
}
OPTIONAL_DEALER_FIELDS: Final = frozenset({"tax_code", "province", "iban", "country", "tax_regime"})
INVOICE: Final = "TD01"
CREDIT_NOTE: Final = "TD04"
#: Bank transfer ("bonifico"), payment in full.
PAYMENT_METHOD: Final = "MP05"
PAYMENT_TERMS: Final = "TP02"
MSG_DEALER_MISSING = "the dealer's fiscal identity is incomplete: set {names}"
MSG_CUSTOMER_MISSING = "{customer} lacks fiscal data for the electronic invoice: {fields}"
MSG_INVALID = "the electronic invoice does not validate: {errors}"
MSG_TO_DATE = "Fatturazione a data: periodo non concluso al momento dell'emissione"
MSG_CREDIT = "Nota di credito per la fattura {number} del {day}: {reason}"


class EInvoiceError(ValueError):
    """An electronic invoice that cannot be built as the data stands (the message says why)."""


@dataclass(frozen=True, slots=True)
class DealerIdentity:
    """Who issues the invoices ("cedente/prestatore")."""

    name: str
    vat_number: str
    street: str
    postcode: str
    city: str
    tax_code: str = ""
    province: str = ""
    country: str = "IT"
    tax_regime: str = "RF01"
    iban: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DealerIdentity:
        """The identity the environment configures; the missing variables are named."""
        env = os.environ if env is None else env
        values = {f.name: env.get(DEALER_ENV[f.name], "").strip() for f in fields(cls)}
        missing = [
            DEALER_ENV[name]
            for name, value in values.items()
            if not value and name not in OPTIONAL_DEALER_FIELDS
        ]
        if missing:
            raise EInvoiceError(MSG_DEALER_MISSING.format(names=", ".join(missing)))
        return cls(**{k: v for k, v in values.items() if v})


def _vat_id(number: str, default_country: str) -> fpa.IdFiscaleIVA:
    """``IT01234567890`` or ``01234567890``: country prefix and the code."""
    clean = re.sub(r"[^A-Za-z0-9]", "", number).upper()
    if re.match(r"^[A-Z]{2}", clean):
        return fpa.IdFiscaleIVA(id_paese=clean[:2], id_codice=clean[2:])
    return fpa.IdFiscaleIVA(id_paese=default_country, id_codice=clean)


def _customer_missing(customer: Customer) -> list[str]:
    needed = {
        "VAT number or tax code": customer.vat_number or customer.tax_code,
        "SDI code or PEC": customer.sdi_code or customer.pec,
        "street": customer.street,
        "postcode": customer.postcode,
        "city": customer.city,
    }
    return [name for name, value in needed.items() if not value]


def _header(
    dealer: DealerIdentity, customer: Customer, number: str
) -> fpa.FatturaElettronicaHeader:
    missing = _customer_missing(customer)
    if missing:
        raise EInvoiceError(
            MSG_CUSTOMER_MISSING.format(customer=customer.name, fields=", ".join(missing))
        )
    transmitter = dealer.tax_code or _vat_id(dealer.vat_number, dealer.country).id_codice
    country = customer.country or "IT"
    return fpa.FatturaElettronicaHeader(
        dati_trasmissione=fpa.DatiTrasmissione(
            id_trasmittente=fpa.IdTrasmittente(id_paese=dealer.country, id_codice=transmitter),
            progressivo_invio=re.sub(r"[^A-Z0-9]", "", number.upper())[-10:],
            codice_destinatario=(customer.sdi_code or "0000000").upper(),
            pec_destinatario=None if customer.sdi_code else customer.pec,
        ),
        cedente_prestatore=fpa.CedentePrestatore(
            dati_anagrafici=fpa.DatiAnagraficiCedentePrestatore(
                id_fiscale_iva=_vat_id(dealer.vat_number, dealer.country),
                codice_fiscale=dealer.tax_code or None,
                anagrafica=fpa.Anagrafica(denominazione=dealer.name[:80]),
                regime_fiscale=dealer.tax_regime,
            ),
            sede=fpa.Sede(
                indirizzo=dealer.street[:60],
                cap=dealer.postcode,
                comune=dealer.city[:60],
                provincia=dealer.province or None,
                nazione=dealer.country,
            ),
        ),
        cessionario_committente=fpa.CessionarioCommittente(
            dati_anagrafici=fpa.DatiAnagraficiCessionarioCommittente(
                id_fiscale_iva=_vat_id(customer.vat_number, country)
                if customer.vat_number
                else None,
                codice_fiscale=(customer.tax_code or "").upper() or None,
                anagrafica=fpa.Anagrafica(denominazione=customer.name[:80]),
            ),
            sede=fpa.Sede(
                indirizzo=(customer.street or "")[:60],
                cap=customer.postcode or "",
                comune=(customer.city or "")[:60],
                provincia=(customer.province or "").upper() or None,
                nazione=country,
            ),
        ),
    )


def _percent(rate: Decimal) -> Decimal:
    return (rate * 100).quantize(Decimal("0.01"))


def _summary(
    net: Decimal, vat: Decimal, rate: Decimal, nature: str | None = None, note: str | None = None
) -> fpa.DatiRiepilogo:
    """The VAT summary; without VAT, its "Natura" and the law it rests on."""
    if nature:
        return fpa.DatiRiepilogo(
            aliquota_iva=_percent(rate),
            natura=nature,
            imponibile_importo=net,
            imposta=vat,
            riferimento_normativo=(note or "")[:100] or None,
        )
    return fpa.DatiRiepilogo(
        aliquota_iva=_percent(rate), imponibile_importo=net, imposta=vat, esigibilita_iva="I"
    )


def _payment(dealer: DealerIdentity, gross: Decimal, due: object) -> fpa.DatiPagamento:
    return fpa.DatiPagamento(
        condizioni_pagamento=PAYMENT_TERMS,
        dettaglio_pagamento=[
            fpa.DettaglioPagamento(
                modalita_pagamento=PAYMENT_METHOD,
                data_scadenza_pagamento=due,
                importo_pagamento=gross,
                iban=dealer.iban or None,
            )
        ],
    )


def _body(
    kind: str, issued_on: date, number: str, gross: Decimal, causale: list[str] | None = None
) -> fpa.FatturaElettronicaBody:
    document = fpa.DatiGeneraliDocumento(
        tipo_documento=kind,
        divisa="EUR",
        data=issued_on,
        numero=number,
        importo_totale_documento=gross,
        causale=causale or [],
    )
    return fpa.FatturaElettronicaBody(
        dati_generali=fpa.DatiGenerali(dati_generali_documento=document),
        dati_beni_servizi=fpa.DatiBeniServizi(),
    )


def invoice_xml(invoice: Invoice, dealer: DealerIdentity) -> bytes:
    """An invoice as a FatturaPA (FPR12) document, validated."""
    causale = [MSG_TO_DATE] if invoice.to_date else []
    body = _body(INVOICE, invoice.issued_on, invoice.number, invoice.gross, causale)
    for line in invoice.lines:
        body.dati_beni_servizi.add_dettaglio_linee(
            descrizione=line.description[:1000],
            data_inizio_periodo=line.span_start,
            data_fine_periodo=line.span_end,
            prezzo_unitario=line.amount,
            prezzo_totale=line.amount,
            aliquota_iva=_percent(invoice.vat_rate),
            **({"natura": invoice.vat_nature} if invoice.vat_nature else {}),
        )
    body.dati_beni_servizi.dati_riepilogo = [
        _summary(invoice.net, invoice.vat, invoice.vat_rate, invoice.vat_nature, invoice.vat_note)
    ]
    body.dati_pagamento = [_payment(dealer, invoice.gross, invoice.due_on)]
    return _render(_header(dealer, invoice.customer, invoice.number), body)


def credit_note_xml(note: CreditNote, dealer: DealerIdentity) -> bytes:
    """A credit note as a FatturaPA (FPR12) TD04 document linked to its invoice, validated."""
    invoice = note.invoice
    body = _body(CREDIT_NOTE, note.issued_on, note.number, note.gross)
    body.dati_generali.dati_fatture_collegate = [
        fpa.DatiFattureCollegate(id_documento=invoice.number, data=invoice.issued_on)
    ]
    body.dati_beni_servizi.add_dettaglio_linee(
        descrizione=MSG_CREDIT.format(
            number=invoice.number, day=f"{invoice.issued_on:%d/%m/%Y}", reason=note.reason
        )[:1000],
        prezzo_unitario=note.net,
        prezzo_totale=note.net,
        aliquota_iva=_percent(note.vat_rate),
        **({"natura": invoice.vat_nature} if invoice.vat_nature else {}),
    )
    # Why there is no VAT is the corrected invoice's reason, word for word.
    body.dati_beni_servizi.dati_riepilogo = [
        _summary(note.net, note.vat, note.vat_rate, invoice.vat_nature, invoice.vat_note)
    ]
    return _render(_header(dealer, note.customer, note.number), body)


def _render(header: fpa.FatturaElettronicaHeader, body: fpa.FatturaElettronicaBody) -> bytes:
    document = fpa.FatturaPrivati12(
        fattura_elettronica_header=header, fattura_elettronica_body=[body]
    )
    validation = Validation()
    document.validate(validation)
    if validation.errors:
        raise EInvoiceError(MSG_INVALID.format(errors="; ".join(str(e) for e in validation.errors)))
    ET.register_namespace("p", fpa.NS)  # the prefix the SDI's own examples use
    root = document.build_etree().getroot()
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def xml_file_name(dealer: DealerIdentity, number: str) -> str:
    """The name the SDI expects: country, transmitter code, ``_``, a progressive, ``.xml``."""
    vat = _vat_id(dealer.vat_number, dealer.country)
    progressive = re.sub(r"[^A-Za-z0-9]", "", number)[-5:]
    return f"{vat.id_paese}{vat.id_codice}_{progressive}.xml"
