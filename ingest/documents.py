"""PDF documents (fpdf2): invoices, delivery notes ("DDT"), orders and shipping labels.

Each document speaks its reader's language (a ``Wording``: words, numbers, money and dates by
Babel; the customer's language when none is given).  The core PDF fonts only know Latin-1, so
text passes through ``pdf_text`` (which also spells the euro sign as "EUR").  The dealer's
identity comes from the configuration (``ingest.dealer``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from decimal import Decimal

import segno
from fpdf import FPDF

from ingest.dealer import Dealer, dealer
from ingest.domain.orders import label_location, totals_of
from ingest.i18n import N_, Wording, recipient_language, wording
from ingest.models import (
    CreditNote,
    Customer,
    DeliveryNote,
    DeliveryNoteLine,
    Invoice,
    InvoiceLine,
    Machine,
    Order,
)
from ingest.stored_texts import worded


def pdf_text(text: str) -> str:
    """Text the core fonts can draw: euro as EUR, anything outside Latin-1 replaced."""
    return text.replace("€", "EUR").encode("latin-1", "replace").decode("latin-1")


def customer_wording(customer: Customer) -> Wording:
    """The words of a customer's documents when the caller names no reader."""
    return wording(recipient_language(None, customer))


class Document(FPDF):
    """A4 portrait with the dealer's header and page numbers."""

    def __init__(self, title: str, words: Wording, sender: Dealer | None = None) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.title_text = title
        self.words = words
        self.sender = sender or dealer()
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(pdf_text(title))
        self.set_author(pdf_text(self.sender.name))
        self.set_lang(words.language)
        self.add_page()

    def header(self) -> None:
        """Dealer block and document title on every page."""
        self.set_font("Helvetica", "B", 14)
        self.cell(0, 7, pdf_text(self.sender.name), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 9)
        for line in self.sender.lines:
            self.cell(0, 4.5, pdf_text(line), new_x="LMARGIN", new_y="NEXT")
        self.ln(3)
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, pdf_text(self.title_text), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def footer(self) -> None:
        """Page x/y."""
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        text = self.words.gettext("Page %(page)s/%(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(0, 5, pdf_text(text), align="C")

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
        w = self.words
        self.set_font("Helvetica", "B", 10)
        for label, amount in (
            (w.gettext("Taxable amount"), net),
            (w.gettext("VAT %(rate)s", rate=w.percent(vat_rate)), vat),
            total,
        ):
            self.cell(160, 6, pdf_text(label), align="R")
            self.cell(30, 6, pdf_text(w.money(amount)), align="R", new_x="LMARGIN", new_y="NEXT")

    def two_columns(self, left: tuple[str, list[str]], right: tuple[str, list[str]]) -> None:
        """Two headed blocks side by side (sender and recipient of a DDT)."""
        top, half = self.get_y(), (self.w - self.l_margin - self.r_margin) / 2
        bottom = top
        for index, (heading, lines) in enumerate((left, right)):
            self.set_xy(self.l_margin + index * half, top)
            self.set_font("Helvetica", "B", 9)
            self.cell(half - 4, 5, pdf_text(heading), border="B", new_x="LEFT", new_y="NEXT")
            self.set_font("Helvetica", "", 9)
            for line in lines:
                self.multi_cell(half - 4, 4.5, pdf_text(line), new_x="LEFT", new_y="NEXT")
            bottom = max(bottom, self.get_y())
        self.set_xy(self.l_margin, bottom + 3)

    def signatures(self, captions: list[str]) -> None:
        """Lines to sign on, side by side, with what each signature is for."""
        width = (self.w - self.l_margin - self.r_margin) / len(captions)
        if self.will_page_break(16):
            self.add_page()
        top = self.get_y() + 10
        self.set_font("Helvetica", "", 8.5)
        for index, caption in enumerate(captions):
            x = self.l_margin + index * width
            self.line(x + 2, top, x + width - 4, top)
            self.set_xy(x, top + 1)
            self.cell(width - 2, 4.5, pdf_text(caption), align="C")
        self.set_xy(self.l_margin, top + 8)

    def render(self) -> bytes:
        """The finished PDF."""
        return bytes(self.output())


def invoice_pdf(invoice: Invoice, words: Wording | None = None) -> bytes:
    """The invoice as the customer downloads it from the portal."""
    w = words or customer_wording(invoice.customer)
    doc = Document(
        w.gettext(
            "Invoice no. %(number)s of %(day)s",
            number=invoice.number,
            day=w.day(invoice.issued_on),
        ),
        w,
    )
    customer = invoice.customer
    doc.lines_of_text(
        [
            w.gettext("Customer: %(name)s", name=customer.name),
            *([w.gettext("Customer code: %(code)s", code=customer.code)] if customer.code else []),
            *(
                [w.gettext("Address: %(address)s", address=customer.billing_address)]
                if customer.billing_address
                else []
            ),
            *(
                [w.gettext("VAT number: %(vat)s", vat=customer.vat_number)]
                if customer.vat_number
                else []
            ),
            *_fiscal_lines(customer, w),
            w.gettext(
                "Period: %(start)s - %(end)s",
                start=w.day(invoice.period_start),
                end=w.day(invoice.period_end),
            ),
            *([w.gettext(PDF_TO_DATE)] if invoice.to_date else []),
            w.gettext("Due date: %(day)s", day=w.day(invoice.due_on)),
        ]
    )
    doc.ln(3)
    doc.table(
        [
            w.gettext("Description"),
            w.gettext("B/W pages"),
            w.gettext("Colour pages"),
            w.gettext("Included"),
            w.gettext("Amount"),
        ],
        [_invoice_row(line, w) for line in invoice.lines],
        [88, 22, 24, 26, 30],
    )
    doc.ln(2)
    doc.totals(
        invoice.net, invoice.vat_rate, invoice.vat, (w.gettext("Invoice total"), invoice.gross)
    )
    doc.ln(2)
    if invoice.vat_note:  # the law's words for an invoice without VAT, as the law writes them
        doc.lines_of_text([invoice.vat_note], 9)
    doc.lines_of_text(_payment_lines(invoice, w), 9)
    status = w.label("invoice_status", invoice.status)
    doc.lines_of_text([w.gettext("Status: %(status)s", status=status)], 9)
    doc.lines_of_text(
        [
            w.gettext(PDF_CORRECTED_BY).format(
                number=note.number, day=w.day(note.issued_on), gross=w.money(note.gross)
            )
            for note in invoice.credit_notes
        ],
        9,
    )
    return doc.render()


def _fiscal_lines(customer: Customer, w: Wording) -> list[str]:
    """The customer's fiscal identity an accountant needs: tax code, e-invoice address."""
    town = " ".join(p for p in (customer.postcode, customer.city) if p)
    street = ", ".join(p for p in (customer.street, town) if p)
    lines = (
        [w.gettext("Address: %(address)s", address=street)]
        if street and not (customer.billing_address)
        else []
    )
    if customer.tax_code:
        lines.append(w.gettext("Tax code: %(code)s", code=customer.tax_code))
    if customer.sdi_code:
        lines.append(w.gettext("SDI recipient code: %(code)s", code=customer.sdi_code))
    elif customer.pec:
        lines.append(w.gettext("PEC: %(address)s", address=customer.pec))
    return lines


def _payment_lines(invoice: Invoice, w: Wording) -> list[str]:
    """How and by when to pay: the terms, and the dealer's IBAN when it is configured."""
    terms = w.gettext(
        "Payment: bank transfer within %(days)s days, by %(day)s",
        days=(invoice.due_on - invoice.issued_on).days,
        day=w.day(invoice.due_on),
    )
    iban = dealer().iban
    return [terms, *([w.gettext("IBAN: %(iban)s", iban=iban)] if iban else [])]


#: Wording of the credit-note parts of the documents, one place each.
PDF_TO_DATE = N_("Billed to date: the period had not ended when this was issued; the rest follows.")
PDF_CORRECTED_BY = N_("Corrected by credit note {number} of {day} ({gross}).")
PDF_CREDIT_TITLE = N_("Credit note no. {number} of {day}")
PDF_CREDIT_REF = N_("Correction of invoice no. {number} of {day}")


def credit_note_pdf(note: CreditNote, words: Wording | None = None) -> bytes:
    """A credit note as the customer downloads it, beside the invoice it corrects."""
    w = words or customer_wording(note.customer)
    title = w.gettext(PDF_CREDIT_TITLE).format(number=note.number, day=w.day(note.issued_on))
    doc = Document(title, w)
    customer = note.customer
    doc.lines_of_text(
        [
            w.gettext("Customer: %(name)s", name=customer.name),
            *(
                [w.gettext("VAT number: %(vat)s", vat=customer.vat_number)]
                if customer.vat_number
                else []
            ),
            w.gettext(PDF_CREDIT_REF).format(
                number=note.invoice.number, day=w.day(note.invoice.issued_on)
            ),
        ]
    )
    doc.ln(3)
    doc.table(
        [w.gettext("Description"), w.gettext("Amount")],
        [[note.reason, w.money(note.net)]],
        [160, 30],
    )
    doc.ln(2)
    doc.totals(note.net, note.vat_rate, note.vat, (w.gettext("Credit note total"), note.gross))
    if note.invoice.vat_note:  # no VAT given back, for the reason the invoice charged none
        doc.lines_of_text([note.invoice.vat_note], 9)
    return doc.render()


def _invoice_row(line: InvoiceLine, w: Wording) -> list[str]:
    reads = ", ".join(
        f"#{r.id} {w.day(r.taken_at)} ({w.label('read_source', r.source)})"
        for r in sorted(line.reads, key=lambda r: r.taken_at)
    )
    detail = "\n".join(
        [
            line.description,
            w.gettext(
                "Counters B/W %(mono_from)s -> %(mono_to)s, colour %(colour_from)s -> "
                "%(colour_to)s",
                mono_from=w.number(line.start_mono),
                mono_to=w.number(line.end_mono),
                colour_from=w.number(line.start_colour),
                colour_to=w.number(line.end_colour),
            ),
            w.gettext("Readings: %(reads)s", reads=reads),
            *([worded(line.notes, w)] if line.notes else []),
        ]
    )
    return [
        detail,
        w.number(line.pages_mono),
        w.number(line.pages_colour),
        f"{w.number(line.included_mono)}/{w.number(line.included_colour)}",
        w.money(line.amount),
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


def labels_pdf(note: DeliveryNote, words: Wording | None = None) -> bytes:
    """One label (A6 landscape) per consumable shipped, in the customer's language, with the
    manual's four fields: the machine's ID SCM, model and serial, the toner's ID and
    description, the "ubicazione"; the QR code names the delivery note, line and parcel."""
    w = words or customer_wording(note.customer)
    pdf = FPDF(orientation="L", unit="mm", format=(105, 148))  # A6
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(pdf_text(w.gettext("Labels %(number)s", number=note.number)))
    pdf.set_lang(w.language)
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
            model = " ".join(p for p in (machine.manufacturer, machine.model) if p)
            rows = [
                w.gettext(
                    "Machine: %(model)s - serial %(serial)s", model=model, serial=machine.serial
                ),
                w.gettext(
                    "Consumable: %(article)s %(description)s",
                    article=consumable.article_code if consumable else "-",
                    description=line.description,
                ),
                w.gettext("Location: %(location)s", location=label_location(line)),
                w.gettext("Customer: %(name)s", name=customer.name),
                w.gettext(
                    "Address: %(address)s", address=note.order.ship_to or _site_address(machine)
                ),
                w.gettext(
                    "%(note)s - line %(line)s - parcel %(piece)s/%(pieces)s",
                    note=note.number,
                    line=line.id,
                    piece=piece,
                    pieces=line.quantity,
                ),
            ]
            for row in rows:
                pdf.set_x(8)
                pdf.multi_cell(100, 5.5, pdf_text(row), new_x="LMARGIN", new_y="NEXT")
            pdf.set_xy(108, 40)
            pdf.set_font("Helvetica", "", 7)
            pdf.cell(38, 4, pdf_text(code), align="C")
    return bytes(pdf.output())


def delivery_note_pdf(note: DeliveryNote, words: Wording | None = None) -> bytes:
    """The delivery note ("documento di trasporto") with what an Italian DDT carries: number
    and date, sender and recipient, destination, reason for transport, goods and quantities,
    parcels and their appearance, who carries them, freight terms, the start of transport and
    the signatures."""
    w = words or customer_wording(note.customer)
    doc = Document(
        w.gettext(
            "Delivery note %(number)s of %(day)s",
            number=note.number,
            day=w.day(note.created_at),
        ),
        w,
    )
    order, customer = note.order, note.customer
    doc.two_columns(
        (w.gettext("Sender"), [doc.sender.name, *doc.sender.lines]),
        (
            w.gettext("Recipient"),
            [
                customer.name,
                *([customer.billing_address] if customer.billing_address else []),
                *(
                    [w.gettext("VAT number: %(vat)s", vat=customer.vat_number)]
                    if customer.vat_number
                    else []
                ),
                *(
                    [w.gettext("Customer code: %(code)s", code=customer.code)]
                    if customer.code
                    else []
                ),
            ],
        ),
    )
    doc.lines_of_text(
        [
            w.gettext("Destination: %(address)s", address=order.ship_to or "-"),
            w.gettext(
                "Order: %(number)s - your reference %(reference)s",
                number=order.number,
                reference=order.customer_reference or "-",
            ),
            w.gettext(
                "Reason for transport: %(reason)s",
                reason=w.label("transport_reason", note.transport_reason),
            ),
        ]
    )
    doc.ln(3)
    doc.table(
        [w.gettext("Description"), w.gettext("Machine / location"), w.gettext("Qty")],
        [
            [
                line.description,
                f"{line.order_line.machine.scm_id} - {label_location(line)}",
                w.number(line.quantity),
            ]
            for line in note.lines
        ],
        [96, 76, 18],
    )
    doc.ln(3)
    carrier = w.label("carried_by", note.carried_by)
    if note.carrier_name:
        carrier = f"{carrier}: {note.carrier_name}"
    doc.lines_of_text(
        [
            w.gettext("Parcels: %(count)s", count=w.number(note.packages)),
            w.gettext(
                "Appearance of the goods: %(appearance)s",
                appearance=w.label("goods_appearance", note.goods_appearance),
            ),
            w.gettext("Transport by: %(carrier)s", carrier=carrier),
            w.gettext("Freight: %(terms)s", terms=w.label("freight", note.freight)),
            w.gettext(
                "Transport started on: %(moment)s",
                moment=w.moment(note.shipped_at) if note.shipped_at else "",
            ),
            w.gettext("Status: %(status)s", status=w.label("note_status", note.status)),
        ]
    )
    doc.ln(10)
    doc.signatures(
        [
            w.gettext("Driver's signature"),
            w.gettext("Carrier's signature"),
            w.gettext("Recipient's signature"),
        ]
    )
    return doc.render()


def order_pdf(order: Order, words: Wording | None = None) -> bytes:
    """The order with shipping data and totals (gross, discount, net, VAT)."""
    w = words or customer_wording(order.customer)
    totals = totals_of(order)
    doc = Document(
        w.gettext("Order %(number)s of %(day)s", number=order.number, day=w.day(order.created_at)),
        w,
    )
    doc.lines_of_text(
        [
            w.gettext("Customer: %(name)s", name=order.customer.name),
            w.gettext(
                "Contact: %(contact)s  Phone: %(phone)s",
                contact=order.contact or "-",
                phone=order.phone or "-",
            ),
            w.gettext("Office hours: %(hours)s", hours=order.hours or "-"),
            w.gettext("Ship to: %(address)s", address=order.ship_to or "-"),
            w.gettext("Payment: %(method)s", method=w.label("payment", order.payment_method)),
            w.gettext("Your reference: %(reference)s", reference=order.customer_reference or "-"),
            w.gettext("Status: %(status)s", status=w.label("order_status", order.status)),
            *([w.gettext("Notes: %(notes)s", notes=order.notes)] if order.notes else []),
        ]
    )
    doc.ln(3)
    doc.table(
        [
            w.gettext("Article"),
            w.gettext("Machine"),
            w.gettext("Qty"),
            w.gettext("Price"),
            w.gettext("Amount"),
        ],
        [
            [
                (line.consumable.article_code + " " if line.consumable else "") + line.description,
                line.machine.scm_id,
                w.number(line.quantity),
                w.money(line.unit_price),
                w.money(line.unit_price * line.quantity),
            ]
            for line in order.lines
        ],
        [80, 30, 14, 30, 36],
    )
    doc.ln(2)
    doc.set_font("Helvetica", "B", 10)
    for label, amount in (
        (w.gettext("Gross"), totals.gross),
        (w.gettext("Discount"), totals.discount),
        (w.gettext("Net"), totals.net),
        (w.gettext("VAT"), totals.vat),
        (w.gettext("Total"), totals.total),
    ):
        doc.cell(154, 6, pdf_text(label), align="R")
        doc.cell(36, 6, pdf_text(w.money(amount)), align="R", new_x="LMARGIN", new_y="NEXT")
    return doc.render()
