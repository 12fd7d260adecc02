"""PDF documents (fpdf2): invoices, delivery notes ("DDT"), orders and shipping labels.

The core PDF fonts only know Latin-1, so text passes through ``pdf_text`` (which also spells
the euro sign as "EUR"); numbers are formatted the Italian way (1.234,56).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import segno
from fpdf import FPDF

from ingest.domain.orders import NOTE_STATES, label_location, totals_of
from ingest.models import (
    CreditNote,
    DeliveryNote,
    DeliveryNoteLine,
    Invoice,
    InvoiceLine,
    Machine,
    Order,
)

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

    def totals(
        self, net: Decimal, vat_rate: Decimal, vat: Decimal, total: tuple[str, Decimal]
    ) -> None:
        """Net, VAT and the document's total, right-aligned under its table."""
        self.set_font("Helvetica", "B", 10)
        for label, amount in (
            ("Imponibile", net),
            (f"IVA {vat_rate * 100:.0f}%", vat),
            total,
        ):
            self.cell(160, 6, pdf_text(label), align="R")
            self.cell(30, 6, euro(amount), align="R", new_x="LMARGIN", new_y="NEXT")

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
            *([PDF_TO_DATE] if invoice.to_date else []),
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
    doc.totals(invoice.net, invoice.vat_rate, invoice.vat, ("Totale fattura", invoice.gross))
    doc.ln(2)
    doc.lines_of_text([f"Stato: {'Pagata' if invoice.status == 'paid' else 'Aperta'}"], 9)
    doc.lines_of_text(
        [
            PDF_CORRECTED_BY.format(
                number=note.number, day=it_date(note.issued_on), gross=euro(note.gross)
            )
            for note in invoice.credit_notes
        ],
        9,
    )
    return doc.render()


#: Wording of the documents (Italian, as the invoices are), one place each.
PDF_TO_DATE = "Fatturazione a data: il periodo non era concluso all'emissione; il resto segue."
PDF_CORRECTED_BY = "Rettificata dalla nota di credito {number} del {day} ({gross})."
PDF_CREDIT_TITLE = "Nota di credito n. {number} del {day}"
PDF_CREDIT_REF = "Rettifica della fattura n. {number} del {day}"


def credit_note_pdf(note: CreditNote) -> bytes:
    """A credit note as the customer downloads it, beside the invoice it corrects."""
    doc = Document(PDF_CREDIT_TITLE.format(number=note.number, day=it_date(note.issued_on)))
    customer = note.customer
    doc.lines_of_text(
        [
            f"Cliente: {customer.name}",
            *([f"P.IVA: {customer.vat_number}"] if customer.vat_number else []),
            PDF_CREDIT_REF.format(number=note.invoice.number, day=it_date(note.invoice.issued_on)),
        ]
    )
    doc.ln(3)
    doc.table(["Descrizione", "Importo"], [[note.reason, euro(note.net)]], [160, 30])
    doc.ln(2)
    doc.totals(note.net, note.vat_rate, note.vat, ("Totale nota di credito", note.gross))
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


def _qr_png(payload: str) -> io.BytesIO:
    """A QR code as PNG bytes (segno), for fpdf2 to place."""
    buffer = io.BytesIO()
    segno.make_qr(payload, error="m").save(buffer, kind="png", scale=6, border=2)
    buffer.seek(0)
    return buffer


def shipment_code(note: DeliveryNote, line: DeliveryNoteLine, piece: int) -> str:
    """The code on a label's QR: delivery note, line and piece."""
    return f"{note.number}/L{line.id}/P{piece}"


def _site_address(machine: Machine) -> str:
    return machine.site.address if machine.site else ""


def labels_pdf(note: DeliveryNote) -> bytes:
    """One label (A6 landscape) per consumable shipped: where it goes and for which machine."""
    pdf = FPDF(orientation="L", unit="mm", format=(105, 148))  # A6
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(pdf_text(f"Etichette {note.number}"))
    customer = note.customer
    for line in note.lines:
        machine = line.order_line.machine
        consumable = line.order_line.consumable
        for piece in range(1, line.quantity + 1):
            code = shipment_code(note, line, piece)
            pdf.add_page()
            pdf.image(_qr_png(code), x=112, y=8, w=30, h=30)
            pdf.set_xy(8, 8)
            pdf.set_font("Helvetica", "B", 16)
            pdf.cell(100, 8, pdf_text(f"ID SCM {machine.scm_id}"), new_x="LMARGIN", new_y="NEXT")
            pdf.set_x(8)
            pdf.set_font("Helvetica", "", 10)
            rows = [
                f"Macchina: {machine.manufacturer or ''} {machine.model or ''} "
                f"- matricola {machine.serial}",
                f"Consumabile: {consumable.article_code if consumable else '-'} {line.description}",
                f"Ubicazione: {label_location(line)}",
                f"Cliente: {customer.name}",
                f"Indirizzo: {note.order.ship_to or _site_address(machine)}",
                f"{note.number} - riga {line.id} - collo {piece}/{line.quantity}",
            ]
            for row in rows:
                pdf.set_x(8)
                pdf.multi_cell(100, 5.5, pdf_text(row), new_x="LMARGIN", new_y="NEXT")
            pdf.set_xy(108, 40)
            pdf.set_font("Helvetica", "", 7)
            pdf.cell(38, 4, pdf_text(code), align="C")
    return bytes(pdf.output())


def delivery_note_pdf(note: DeliveryNote) -> bytes:
    """The delivery note ("DDT") with its lines and the status legend."""
    doc = Document(f"Documento di trasporto {note.number} del {it_date(note.created_at.date())}")
    order = note.order
    doc.lines_of_text(
        [
            f"Cliente: {note.customer.name}",
            f"Destinazione: {order.ship_to or '-'}",
            f"Ordine: {order.number} - rif. cliente {order.customer_reference or '-'}",
            f"Stato: {NOTE_STATES[note.status]}",
        ]
    )
    doc.ln(3)
    doc.table(
        ["Descrizione", "Macchina / ubicazione", "Q.ta", "Prezzo"],
        [
            [
                line.description,
                f"{line.order_line.machine.scm_id} - {label_location(line)}",
                str(line.quantity),
                euro(line.unit_price),
            ]
            for line in note.lines
        ],
        [80, 70, 14, 26],
    )
    doc.ln(3)
    doc.lines_of_text(
        ["Legenda stato: " + "; ".join(f"{k} = {v}" for k, v in NOTE_STATES.items())], 8
    )
    return doc.render()


def order_pdf(order: Order) -> bytes:
    """The order with shipping data and totals (gross, discount, net, VAT)."""
    totals = totals_of(order)
    doc = Document(f"Ordine {order.number} del {it_date(order.created_at.date())}")
    doc.lines_of_text(
        [
            f"Cliente: {order.customer.name}",
            f"Contatto: {order.contact or '-'}  Tel: {order.phone or '-'}",
            f"Orari: {order.hours or '-'}",
            f"Spedire a: {order.ship_to or '-'}",
            f"Pagamento: {order.payment_method or '-'}",
            f"Vs. riferimento: {order.customer_reference or '-'}",
            *([f"Note: {order.notes}"] if order.notes else []),
        ]
    )
    doc.ln(3)
    doc.table(
        ["Articolo", "Macchina", "Q.ta", "Prezzo", "Importo"],
        [
            [
                (line.consumable.article_code + " " if line.consumable else "") + line.description,
                line.machine.scm_id,
                str(line.quantity),
                euro(line.unit_price),
                euro(line.unit_price * line.quantity),
            ]
            for line in order.lines
        ],
        [80, 30, 14, 30, 36],
    )
    doc.ln(2)
    doc.set_font("Helvetica", "B", 10)
    for label, amount in (
        ("Lordo", totals.gross),
        ("Sconto", totals.discount),
        ("Netto", totals.net),
        ("IVA", totals.vat),
        ("Totale", totals.total),
    ):
        doc.cell(154, 6, label, align="R")
        doc.cell(36, 6, euro(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    return doc.render()
