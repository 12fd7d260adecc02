"""PDF documents (fpdf2): invoices now; delivery notes, orders and labels share the helpers.

The core PDF fonts only know Latin-1, so text passes through ``pdf_text`` (which also spells
the euro sign as "EUR"); numbers are formatted the Italian way (1.234,56).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from fpdf import FPDF

from ingest.models import Invoice, InvoiceLine

DEALER = ("SCM srl", "Servizio Costo Copia Full Service", "P.IVA IT00000000000")


def pdf_text(text: str) -> str:
    """Text the core fonts can draw: euro as EUR, anything outside Latin-1 replaced."""
    return text.replace("€", "EUR").encode("latin-1", "replace").decode("latin-1")


def euro(amount: Decimal) -> str:
    """``1234.5`` as ``EUR 1.234,50``."""
    whole, cents = f"{amount:,.2f}".split(".")
    return f"EUR {whole.replace(',', '.')},{cents}"


def pages(count: int) -> str:
    """A page count with Italian thousands separators."""
    return f"{count:,}".replace(",", ".")


def it_date(day: date) -> str:
    """dd/mm/yyyy."""
    return f"{day:%d/%m/%Y}"


class Document(FPDF):
    """A4 portrait with the dealer's header and page numbers."""

    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.title_text = title
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(pdf_text(title))
        self.set_author(DEALER[0])
        self.add_page()

    def header(self) -> None:
        """Dealer block and document title on every page."""
        self.set_font("Helvetica", "B", 14)
        self.cell(0, 7, DEALER[0], new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 9)
        for line in DEALER[1:]:
            self.cell(0, 4.5, pdf_text(line), new_x="LMARGIN", new_y="NEXT")
        self.ln(3)
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, pdf_text(self.title_text), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def footer(self) -> None:
        """Page x/y."""
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.cell(0, 5, f"Pagina {self.page_no()}/{{nb}}", align="C")

    def lines_of_text(self, lines: Iterable[str], size: float = 10) -> None:
        """Plain lines, one under the other."""
        self.set_font("Helvetica", "", size)
        for line in lines:
            self.cell(0, 5, pdf_text(line), new_x="LMARGIN", new_y="NEXT")

    def table(self, headings: list[str], rows: list[list[str]], widths: list[float]) -> None:
        """A simple table whose cells wrap; a row never splits across pages."""
        self.set_font("Helvetica", "B", 8.5)
        for heading, width in zip(headings, widths, strict=True):
            self.cell(width, 6, pdf_text(heading), border="B")
        self.ln()
        self.set_font("Helvetica", "", 8.5)
        for row in rows:
            self._row([pdf_text(value) for value in row], widths)

    def _row(self, values: list[str], widths: list[float], line_height: float = 4.5) -> None:
        lines = max(
            len(self.multi_cell(w, line_height, v, dry_run=True, output="LINES"))
            for v, w in zip(values, widths, strict=True)
        )
        if self.will_page_break(lines * line_height):
            self.add_page()
        top, x = self.get_y(), self.l_margin
        for value, width in zip(values, widths, strict=True):
            self.set_xy(x, top)
            align = "L" if x == self.l_margin else "R"
            self.multi_cell(width, line_height, value, align=align)
            x += width
        self.set_xy(self.l_margin, top + lines * line_height + 1.5)

    def render(self) -> bytes:
        """The finished PDF."""
        return bytes(self.output())


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as the customer downloads it from the portal."""
    doc = Document(f"Fattura n. {invoice.number} del {it_date(invoice.issued_on)}")
    customer = invoice.customer
    doc.lines_of_text(
        [
            f"Cliente: {customer.name}",
            *([f"Indirizzo: {customer.billing_address}"] if customer.billing_address else []),
            *([f"P.IVA: {customer.vat_number}"] if customer.vat_number else []),
            f"Periodo: {it_date(invoice.period_start)} - {it_date(invoice.period_end)}",
            f"Scadenza: {it_date(invoice.due_on)}",
        ]
    )
    doc.ln(3)
    doc.table(
        ["Descrizione", "Copie B/N", "Copie colore", "Incluse", "Importo"],
        [_invoice_row(line) for line in invoice.lines],
        [88, 22, 24, 26, 30],
    )
    doc.ln(2)
    doc.set_font("Helvetica", "B", 10)
    for label, amount in (
        ("Imponibile", invoice.net),
        (f"IVA {invoice.vat_rate * 100:.0f}%", invoice.vat),
        ("Totale fattura", invoice.gross),
    ):
        doc.cell(160, 6, pdf_text(label), align="R")
        doc.cell(30, 6, euro(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    doc.ln(2)
    doc.lines_of_text([f"Stato: {'Pagata' if invoice.status == 'paid' else 'Aperta'}"], 9)
    return doc.render()


def _invoice_row(line: InvoiceLine) -> list[str]:
    reads = ", ".join(
        f"#{r.id} {it_date(r.taken_at.date())}"
        f"{' (agente)' if r.source == 'agent' else ' (manuale)'}"
        for r in sorted(line.reads, key=lambda r: r.taken_at)
    )
    detail = (
        f"{line.description}\nContatori B/N {pages(line.start_mono)} -> "
        f"{pages(line.end_mono)}, colore {pages(line.start_colour)} -> "
        f"{pages(line.end_colour)}\nLetture: {reads}"
        f"{chr(10) + line.notes if line.notes else ''}"
    )
    return [
        detail,
        pages(line.pages_mono),
        pages(line.pages_colour),
        f"{pages(line.included_mono)}/{pages(line.included_colour)}",
        euro(line.amount),
    ]
