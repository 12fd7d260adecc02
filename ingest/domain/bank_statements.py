"""Bank statement import: Italian and Spanish exports matched to invoices, row by row.

Columns are found by header name (a title block above the header is skipped), dates may be
``dd/mm/yyyy``, amounts ``1.234,56``; each row is reported as matched, skipped or unreadable,
and a row is matched only to the open invoice whose number it quotes, never guessed.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.domain.billing import money
from ingest.domain.payments import parse_amount, register_payment
from ingest.models import Invoice, Payment
from ingest.stored_texts import (
    BANK_NO_HEADER,
    BANK_ROW_ALREADY,
    BANK_ROW_BAD_AMOUNT,
    BANK_ROW_BAD_DATE,
    BANK_ROW_DEBIT,
    BANK_ROW_MATCHED,
    BANK_ROW_NO_CREDIT,
    BANK_ROW_NO_INVOICE,
    BANK_UNREADABLE_FILE,
)

ROW_MATCHED = "matched"
ROW_SKIPPED = "skipped"
ROW_UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class RowResult:
    """What the import did with one statement row."""

    row: int
    outcome: str
    message: str
    invoice_number: str | None = None
    amount: Decimal | None = None


@dataclass
class BankImport:
    """What an import of a bank statement did, row by row."""

    rows: list[RowResult] = field(default_factory=list)
    problem: str | None = None

    @property
    def matched(self) -> list[tuple[str, Decimal]]:
        """Invoice number and amount of every payment registered."""
        return [
            (r.invoice_number, r.amount)
            for r in self.rows
            if r.outcome == ROW_MATCHED and r.invoice_number and r.amount is not None
        ]

    @property
    def unmatched(self) -> list[str]:
        """Why each other row (and the file, if unreadable) paid nothing."""
        found = [r.message for r in self.rows if r.outcome != ROW_MATCHED]
        return [self.problem, *found] if self.problem else found

    def count(self, outcome: str) -> int:
        """Rows with this outcome."""
        return sum(1 for r in self.rows if r.outcome == outcome)


_INVOICE_NUMBER_RE = re.compile(r"\b(\d{4})/(\d{1,6})\b")
#: Header names of Italian and Spanish bank exports (accents and case folded), by meaning.
#: A credit column ("avere", "haber") wins over a signed amount column.
DATE_HEADERS = (
    "data",
    "data operazione",
    "data contabile",
    "data valuta",
    "fecha",
    "fecha operacion",
    "fecha valor",
    "f valor",
    "date",
)
CREDIT_HEADERS = ("avere", "entrate", "accrediti", "haber", "abono", "abonos", "ingresos")
AMOUNT_HEADERS = ("importo", "importe", "amount", "importo eur", "importe eur")
TEXT_HEADERS = (
    "causale",
    "descrizione",
    "descrizione operazione",
    "concepto",
    "descripcion",
    "observaciones",
    "detalle",
    "description",
)
_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%y")
#: Bank exports put a title, the account and the period above the table.
_HEADER_SEARCH_LINES = 30


def decode_statement(data: bytes) -> str:
    """A statement file's text: UTF-8 (with or without BOM), else Windows-1252 as Spanish and
    Italian banks export."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain.lower()).split())


def _statement_date(text: str) -> date:
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _columns(header: list[str]) -> dict[str, int] | None:
    folded = [_fold(h) for h in header]

    def first(names: tuple[str, ...]) -> int | None:
        return next((folded.index(n) for n in names if n in folded), None)

    found = {
        "date": first(DATE_HEADERS),
        "amount": first(CREDIT_HEADERS)
        if first(CREDIT_HEADERS) is not None
        else first(AMOUNT_HEADERS),
        "text": first(TEXT_HEADERS),
    }
    if found["date"] is None or found["amount"] is None:
        return None
    return {k: v for k, v in found.items() if v is not None}


def import_bank_csv(session: Session, text: str) -> BankImport:
    """Match statement rows to invoices by the number they quote, reporting every row.

    Italian and Spanish exports are read as they come: columns found by header name, a title
    block above the header skipped, ``dd/mm/yyyy`` dates, ``1.234,56`` amounts.  Rows that quote
    no open invoice are skipped and said so, never guessed.
    """
    report = BankImport()
    try:
        lines = text.splitlines()
        delimiter = _delimiter(text)
        table = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    except csv.Error as err:
        report.problem = BANK_UNREADABLE_FILE % {"error": err}
        return report
    header_at = next(
        (i for i, row in enumerate(table[:_HEADER_SEARCH_LINES]) if _columns(row)), None
    )
    if header_at is None:
        report.problem = BANK_NO_HEADER % {
            "dates": ", ".join(DATE_HEADERS),
            "amounts": ", ".join(CREDIT_HEADERS + AMOUNT_HEADERS),
        }
        return report
    columns = _columns(table[header_at]) or {}
    for offset, row in enumerate(table[header_at + 1 :], start=header_at + 2):
        if any(cell.strip() for cell in row):
            report.rows.append(_import_row(session, offset, row, columns))
    return report


def _import_row(
    session: Session, number: int, row: list[str], columns: dict[str, int]
) -> RowResult:
    def cell(name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    try:
        paid_on = _statement_date(cell("date"))
    except ValueError:
        return RowResult(
            number, ROW_UNREADABLE, BANK_ROW_BAD_DATE % {"row": number, "text": repr(cell("date"))}
        )
    if not cell("amount"):
        return RowResult(number, ROW_SKIPPED, BANK_ROW_NO_CREDIT % {"row": number})
    try:
        amount = parse_amount(cell("amount"))
    except (InvalidOperation, ValueError):
        return RowResult(
            number,
            ROW_UNREADABLE,
            BANK_ROW_BAD_AMOUNT % {"row": number, "text": repr(cell("amount"))},
        )
    if amount <= 0:
        return RowResult(number, ROW_SKIPPED, BANK_ROW_DEBIT % {"row": number, "amount": amount})
    description = cell("text") or " ".join(row)
    invoice = _quoted_invoice(session, description)
    if invoice is None:
        return RowResult(
            number,
            ROW_SKIPPED,
            BANK_ROW_NO_INVOICE % {"row": number, "text": repr(description[:120])},
        )
    if _already_imported(session, invoice, amount, paid_on, description):
        return RowResult(number, ROW_SKIPPED, BANK_ROW_ALREADY % {"row": number})
    register_payment(session, invoice, amount, paid_on, reference=description, source="bank_csv")
    return RowResult(
        number,
        ROW_MATCHED,
        BANK_ROW_MATCHED % {"row": number, "amount": money(amount), "number": invoice.number},
        invoice.number,
        money(amount),
    )


def _already_imported(
    session: Session, invoice: Invoice, amount: Decimal, paid_on: date, reference: str
) -> bool:
    """The same statement row imported before (importing a file twice pays nothing twice)."""
    return (
        session.scalar(
            select(Payment.id).where(
                Payment.invoice_id == invoice.id,
                Payment.amount == money(amount),
                Payment.paid_on == paid_on,
                Payment.reference == (reference[:300] or None),
                Payment.source == "bank_csv",
            )
        )
        is not None
    )


def _delimiter(text: str) -> str:
    head = "\n".join(text.splitlines()[:_HEADER_SEARCH_LINES])
    return max((";", ",", "\t"), key=head.count)


def _quoted_invoice(session: Session, description: str) -> Invoice | None:
    for year, serial in _INVOICE_NUMBER_RE.findall(description):
        invoice = session.scalar(
            select(Invoice).where(Invoice.number == f"{year}/{int(serial):06d}")
        )
        if invoice is not None and invoice.status == "open":
            return invoice
    return None
