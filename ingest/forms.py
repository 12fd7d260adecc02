"""Web forms (Flask-WTF: every form carries its CSRF token)."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from ingest.domain.machines import ContractTerms, MachineSpec

MAX_COUNTER = 10**12


class MeterReadForm(FlaskForm):
    """A counter read typed by a person."""

    taken_on = DateField("Date of the reading", validators=[DataRequired()])
    mono = IntegerField(
        "B/W pages counter", validators=[InputRequired(), NumberRange(0, MAX_COUNTER)]
    )
    #: Empty means "not given", never 0 (a 0 made a colour machine's counter go backwards).
    colour = IntegerField(
        "Colour pages counter", validators=[Optional(), NumberRange(0, MAX_COUNTER)]
    )
    name = StringField("Your name", validators=[Optional(), Length(max=120)])


class LocationForm(FlaskForm):
    """Where in the building a machine stands ("ubicazione")."""

    location = StringField("Location inside the site", validators=[DataRequired(), Length(max=300)])


class MachineForm(FlaskForm):
    """Register a machine under contract (staff), optionally from a queued device."""

    device_id = HiddenField()
    scm_id = StringField("ID SCM", validators=[DataRequired(), Length(max=32)])
    serial = StringField("Manufacturer serial", validators=[DataRequired(), Length(max=200)])
    manufacturer = StringField("Manufacturer", validators=[Optional(), Length(max=200)])
    model = StringField("Model", validators=[Optional(), Length(max=200)])
    site_name = StringField("Site", validators=[DataRequired(), Length(max=200)])
    site_address = StringField("Site address", validators=[DataRequired(), Length(max=500)])
    location = StringField("Location inside the site", validators=[Optional(), Length(max=300)])
    #: No ticked-by-default box: "auto" takes what the device's readings say (shown beside it).
    colour = SelectField(
        "Prints colour",
        choices=[
            SelectChoice("auto", "as its readings say"),
            SelectChoice("colour", "colour"),
            SelectChoice("mono", "black and white only"),
        ],
        default="auto",
    )
    monitored = BooleanField("Monitored by an agent", default=True)
    mono_rate = DecimalField(
        "EUR per B/W page", places=5, validators=[InputRequired(), NumberRange(0)]
    )
    colour_rate = DecimalField(
        "EUR per colour page", places=5, default=0, validators=[Optional(), NumberRange(0)]
    )
    included_mono = IntegerField(
        "Included B/W pages per period", default=0, validators=[Optional(), NumberRange(0)]
    )
    included_colour = IntegerField(
        "Included colour pages per period", default=0, validators=[Optional(), NumberRange(0)]
    )
    fixed_fee = DecimalField(
        "Fixed fee per period", places=2, default=0, validators=[Optional(), NumberRange(0)]
    )
    minimum_charge = DecimalField(
        "Minimum charge per period", places=2, default=0, validators=[Optional(), NumberRange(0)]
    )
    period = SelectField(
        "Billing period", choices=[SelectChoice("monthly"), SelectChoice("quarterly")]
    )
    start = DateField("Contract start", validators=[DataRequired()])
    end = DateField("Contract end", validators=[Optional()])
    interpolate = BooleanField("Interpolate reads at period boundaries")
    true_up = BooleanField("Yearly true-up of overage (conguaglio)")
    confirm = BooleanField("Confirm values outside the usual bounds")

    def to_request(self) -> tuple[MachineSpec, ContractTerms]:
        """The machine and its contract terms, as the domain's ``register_machine`` takes them."""
        spec = MachineSpec(
            scm_id=self.scm_id.data or "",
            serial=self.serial.data or "",
            manufacturer=self.manufacturer.data or None,
            model=self.model.data or None,
            location=self.location.data or None,
            site_name=self.site_name.data or "Sede",
            site_address=self.site_address.data or "",
            colour={"colour": True, "mono": False}.get(self.colour.data or "auto"),
            monitored=bool(self.monitored.data),
        )
        terms = ContractTerms(
            mono_rate=self.mono_rate.data or 0,
            colour_rate=self.colour_rate.data or 0,
            start=self.start.data or date.today(),
            end=self.end.data,
            included_mono=self.included_mono.data or 0,
            included_colour=self.included_colour.data or 0,
            fixed_fee=self.fixed_fee.data or 0,
            minimum_charge=self.minimum_charge.data or 0,
            period=self.period.data or "monthly",
            interpolate=bool(self.interpolate.data),
            true_up=bool(self.true_up.data),
        )
        return spec, terms


class AssignForm(FlaskForm):
    """Link a queued device to an existing machine."""

    machine_id = SelectField("Machine", coerce=int)


class ResolveForm(FlaskForm):
    """Staff decision on a flagged read."""

    action = SelectField(
        "Decision",
        choices=[
            SelectChoice("accept", "accept as it is"),
            SelectChoice("offset", "board replaced: continue counters"),
            SelectChoice("reject", "reject"),
        ],
    )
    note = StringField("Note", validators=[Optional(), Length(max=300)])


class BillingForm(FlaskForm):
    """A billing run for one month."""

    month = StringField("Month (YYYY-MM)", validators=[DataRequired(), Regexp(r"^\d{4}-\d{2}$")])
    issued_on = DateField("Invoice date", validators=[Optional()])
    to_date = BooleanField("Bill to date (the month has not ended: the invoice says so)")
    release = HiddenField()


class PaymentForm(FlaskForm):
    """Money received against an invoice."""

    #: Text, checked by ``invoicing.payment_amount`` so "abc" or -50 get a clear message.
    amount = StringField("Amount", validators=[Optional(), Length(max=40)])
    paid_on = DateField("Paid on", validators=[DataRequired()])
    reference = StringField("Reference", validators=[Optional(), Length(max=300)])


class BankImportForm(FlaskForm):
    """A bank statement export (CSV: date, amount, description)."""

    statement = FileField("Bank statement (CSV)", validators=[FileRequired()])


class ReadRequestForm(FlaskForm):
    """Ask referents for reads before a period closes."""

    period_end = DateField("Period closes on", validators=[DataRequired()])
    silent_days = IntegerField(
        "Monitored machines silent for more than (days)",
        default=7,
        validators=[InputRequired(), NumberRange(1, 365)],
    )


class NoteForm(FlaskForm):
    """A bare form: just the CSRF token (for one-button actions)."""

    note = TextAreaField("Note", validators=[Optional(), Length(max=500)])


class AddToCartForm(FlaskForm):
    """How many pieces of an article to add to the cart."""

    quantity = IntegerField("Quantity", default=1, validators=[InputRequired(), NumberRange(1, 99)])


class ShippingForm(FlaskForm):
    """Shipping data of a customer order (the Spanish "Finalizar pedido" step)."""

    contact = StringField("Contact", validators=[DataRequired(), Length(max=200)])
    phone = StringField("Phone", validators=[Optional(), Length(max=50)])
    hours = StringField("Office hours", validators=[DataRequired(), Length(max=120)])
    ship_to = StringField("Ship to", validators=[DataRequired(), Length(max=500)])
    payment_method = SelectField(
        "Payment method",
        choices=[
            SelectChoice("bank_transfer", "Bank transfer"),
            SelectChoice("direct_debit", "Direct debit"),
            SelectChoice("on_invoice", "On the next invoice"),
        ],
    )
    customer_reference = StringField(
        "Your order reference", validators=[Optional(), Length(max=64)]
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=1000)])


class TicketForm(FlaskForm):
    """A request for assistance ("Richiesta assistenza")."""

    machine_id = SelectField("Machine (serial number)", coerce=int)
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[DataRequired(), Length(max=5000)])
    contact_name = StringField("Contact person", validators=[DataRequired(), Length(max=200)])
    phone = StringField("Phone", validators=[Optional(), Length(max=50)])
    office_hours = StringField("Office hours", validators=[Optional(), Length(max=120)])
    priority = SelectField(
        "Priority", choices=[SelectChoice(p) for p in ("normal", "low", "high", "urgent")]
    )
    team = SelectField(
        "Team",
        choices=[
            SelectChoice("printing", "Printing: MFP and printer faults"),
            SelectChoice("remote", "Remote technical: scanning, PC setup"),
            SelectChoice("software", "Software (customers with system support)"),
            SelectChoice("furniture", "Office furniture"),
        ],
    )
    mono = IntegerField(
        "B/W counter (if you can read it)", validators=[Optional(), NumberRange(0, MAX_COUNTER)]
    )
    colour = IntegerField("Colour counter", validators=[Optional(), NumberRange(0, MAX_COUNTER)])
    attachments = MultipleFileField("Attachments (print samples, photos; up to 3, 5 MB each)")


class TicketStatusForm(FlaskForm):
    """Staff move a ticket along."""

    status = SelectField(
        "Status",
        choices=[
            SelectChoice("requested", "Requested"),
            SelectChoice("in_progress", "In progress"),
            SelectChoice("on_hold", "On hold"),
            SelectChoice("done", "Done"),
        ],
    )
    note = StringField("Note", validators=[Optional(), Length(max=1000)])


class ContactForm(FlaskForm):
    """A message to the customer's salesperson, sent from the portal."""

    subject = StringField("Subject", validators=[DataRequired(), Length(max=200)])
    message = TextAreaField("Message", validators=[DataRequired(), Length(max=5000)])


class StatisticsForm(FlaskForm):
    """Filters of the statistics page (GET, no CSRF needed)."""

    class Meta:
        csrf = False

    machine = SelectField("Machine", coerce=int, default=0)
    months = SelectField(
        "Months",
        coerce=int,
        default=6,
        choices=[SelectChoice("3"), SelectChoice("6"), SelectChoice("12")],
    )


class InviteForm(FlaskForm):
    """A new portal user for a customer (the manual: "abilitare altri utenti")."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])


class CreditNoteForm(FlaskForm):
    """Correct an issued invoice with a credit note (staff)."""

    amount = StringField(
        "Net amount to credit (empty: the whole invoice)", validators=[Optional(), Length(max=40)]
    )
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)])
