"""Web forms (Flask-WTF: every form carries its CSRF token)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
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
from ingest.domain.orders import (
    CARRIED_BY,
    FREIGHT_TERMS,
    MAX_PACKAGES,
    PAYMENT_METHODS,
    Transport,
)
from ingest.domain.tickets import STATUSES, TEAMS
from ingest.i18n import LABELS
from ingest.languages import page_wording

MAX_COUNTER = 10**12


class LocalDateField(StringField):
    """A date typed and shown the way the page's language writes it (28/11/2026), parsed by
    Babel; ISO dates (2026-11-28) are accepted too.  A text input rather than
    ``type=date``, whose format is the browser's, not the page's."""

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return page_wording().day(self.data) if isinstance(self.data, date) else ""

    def __call__(self, **kwargs: object) -> object:
        kwargs.setdefault("placeholder", page_wording().date_placeholder)
        kwargs.setdefault("inputmode", "numeric")
        return super().__call__(**kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        """Parse the typed date; blanks typed into the field are no date either."""
        typed = " ".join(valuelist) if valuelist else ""
        self.data = None
        if not typed:
            return
        try:
            self.data = page_wording().parse_day(typed)
        except ValueError as err:
            example = page_wording().date_placeholder
            raise ValueError(
                gettext("Not a valid date: write it as %(example)s.", example=example)
            ) from err


def form_errors(form: FlaskForm) -> str:
    """Every error of ``form`` with its field's label, for a one-line message."""
    return "; ".join(
        f"{getattr(form, name).label.text}: {' '.join(map(str, errs))}"
        for name, errs in form.errors.items()
    )


def choice_label(field: SelectField) -> str:
    """The words of the option chosen in ``field`` (not its code)."""
    for value, label, *_rest in field.iter_choices():
        if str(value) == str(field.data):
            return str(label)
    return str(field.data or "")


class MeterReadForm(FlaskForm):
    """A counter read typed by a person."""

    taken_on = LocalDateField(_l("Date of the reading"), validators=[InputRequired()])
    mono = IntegerField(
        _l("B/W pages counter"), validators=[InputRequired(), NumberRange(0, MAX_COUNTER)]
    )
    #: Empty means "not given", never 0 (a 0 made a colour machine's counter go backwards).
    colour = IntegerField(
        _l("Colour pages counter"), validators=[Optional(), NumberRange(0, MAX_COUNTER)]
    )
    name = StringField(_l("Your name"), validators=[Optional(), Length(max=120)])


class LocationForm(FlaskForm):
    """Where in the building a machine stands ("ubicazione")."""

    location = StringField(
        _l("Location inside the site"), validators=[DataRequired(), Length(max=300)]
    )


class MachineForm(FlaskForm):
    """Register a machine under contract (staff), optionally from a queued device."""

    device_id = HiddenField()
    scm_id = StringField(_l("ID SCM"), validators=[DataRequired(), Length(max=32)])
    serial = StringField(_l("Manufacturer serial"), validators=[DataRequired(), Length(max=200)])
    manufacturer = StringField(_l("Manufacturer"), validators=[Optional(), Length(max=200)])
    model = StringField(_l("Model"), validators=[Optional(), Length(max=200)])
    site_name = StringField(_l("Site"), validators=[DataRequired(), Length(max=200)])
    site_address = StringField(_l("Site address"), validators=[DataRequired(), Length(max=500)])
    location = StringField(_l("Location inside the site"), validators=[Optional(), Length(max=300)])
    #: No ticked-by-default box: "auto" takes what the device's readings say (shown beside it).
    colour = SelectField(
        _l("Prints colour"),
        choices=[
            SelectChoice("auto", _l("as its readings say")),
            SelectChoice("colour", _l("colour")),
            SelectChoice("mono", _l("black and white only")),
        ],
        default="auto",
    )
    monitored = BooleanField(_l("Monitored by an agent"), default=True)
    mono_rate = DecimalField(
        _l("EUR per B/W page"), places=5, validators=[InputRequired(), NumberRange(0)]
    )
    colour_rate = DecimalField(
        _l("EUR per colour page"), places=5, default=0, validators=[Optional(), NumberRange(0)]
    )
    included_mono = IntegerField(
        _l("Included B/W pages per period"), default=0, validators=[Optional(), NumberRange(0)]
    )
    included_colour = IntegerField(
        _l("Included colour pages per period"), default=0, validators=[Optional(), NumberRange(0)]
    )
    fixed_fee = DecimalField(
        _l("Fixed fee per period"), places=2, default=0, validators=[Optional(), NumberRange(0)]
    )
    minimum_charge = DecimalField(
        _l("Minimum charge per period"),
        places=2,
        default=0,
        validators=[Optional(), NumberRange(0)],
    )
    period = SelectField(
        _l("Billing period"),
        choices=[SelectChoice(p, _l(LABELS["period"][p])) for p in ("monthly", "quarterly")],
    )
    start = LocalDateField(_l("Contract start"), validators=[InputRequired()])
    end = LocalDateField(_l("Contract end"), validators=[Optional()])
    interpolate = BooleanField(_l("Interpolate reads at period boundaries"))
    true_up = BooleanField(_l("Yearly true-up of overage (conguaglio)"))
    confirm = BooleanField(_l("Confirm values outside the usual bounds"))

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

    machine_id = SelectField(_l("Machine"), coerce=int)


class ResolveForm(FlaskForm):
    """Staff decision on a flagged read."""

    action = SelectField(
        _l("Decision"),
        choices=[
            SelectChoice("accept", _l("accept as it is")),
            SelectChoice("offset", _l("board replaced: continue counters")),
            SelectChoice("reject", _l("reject")),
        ],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])


class BillingForm(FlaskForm):
    """A billing run for one month."""

    month = StringField(
        _l("Month (YYYY-MM)"), validators=[DataRequired(), Regexp(r"^\d{4}-\d{2}$")]
    )
    issued_on = LocalDateField(_l("Invoice date"), validators=[Optional()])
    to_date = BooleanField(_l("Bill to date (the month has not ended: the invoice says so)"))
    release = HiddenField()


class PaymentForm(FlaskForm):
    """Money received against an invoice."""

    #: Text, checked by ``invoicing.payment_amount`` so "abc" or -50 get a clear message.
    amount = StringField(_l("Amount"), validators=[Optional(), Length(max=40)])
    paid_on = LocalDateField(_l("Paid on"), validators=[InputRequired()])
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=300)])


class BankImportForm(FlaskForm):
    """A bank statement export (CSV: date, amount, description)."""

    statement = FileField(_l("Bank statement (CSV)"), validators=[FileRequired()])


class ReadRequestForm(FlaskForm):
    """Ask referents for reads before a period closes."""

    period_end = LocalDateField(_l("Period closes on"), validators=[InputRequired()])
    silent_days = IntegerField(
        _l("Monitored machines silent for more than (days)"),
        default=7,
        validators=[InputRequired(), NumberRange(1, 365)],
    )


class NoteForm(FlaskForm):
    """A bare form: just the CSRF token (for one-button actions)."""

    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])


class AddToCartForm(FlaskForm):
    """How many pieces of an article to add to the cart."""

    quantity = IntegerField(
        _l("Quantity"), default=1, validators=[InputRequired(), NumberRange(1, 99)]
    )


class ShippingForm(FlaskForm):
    """Shipping data of a customer order (the Spanish "Finalizar pedido" step)."""

    contact = StringField(_l("Contact"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    hours = StringField(_l("Office hours"), validators=[DataRequired(), Length(max=120)])
    ship_to = StringField(_l("Ship to"), validators=[DataRequired(), Length(max=500)])
    payment_method = SelectField(
        _l("Payment method"),
        choices=[SelectChoice(m, _l(LABELS["payment"][m])) for m in PAYMENT_METHODS],
    )
    customer_reference = StringField(
        _l("Your order reference"), validators=[Optional(), Length(max=64)]
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=1000)])


class TicketForm(FlaskForm):
    """A request for assistance ("Richiesta assistenza")."""

    machine_id = SelectField(_l("Machine (serial number)"), coerce=int)
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[DataRequired(), Length(max=5000)])
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    office_hours = StringField(_l("Office hours"), validators=[Optional(), Length(max=120)])
    priority = SelectField(
        _l("Priority"),
        choices=[
            SelectChoice(p, _l(LABELS["priority"][p])) for p in ("normal", "low", "high", "urgent")
        ],
    )
    team = SelectField(
        _l("Team"),
        choices=[SelectChoice(code, _l(words)) for code, words in TEAMS.items()],
    )
    mono = IntegerField(
        _l("B/W counter (if you can read it)"), validators=[Optional(), NumberRange(0, MAX_COUNTER)]
    )
    colour = IntegerField(
        _l("Colour counter"), validators=[Optional(), NumberRange(0, MAX_COUNTER)]
    )
    attachments = MultipleFileField(_l("Attachments (print samples, photos; up to 3, 5 MB each)"))


class TicketStatusForm(FlaskForm):
    """Staff move a ticket along."""

    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(code, _l(words)) for code, (words, _colour) in STATUSES.items()],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


class ContactForm(FlaskForm):
    """A message to the customer's salesperson, sent from the portal."""

    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    message = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=5000)])


class StatisticsForm(FlaskForm):
    """Filters of the statistics page (GET, no CSRF needed)."""

    class Meta:
        csrf = False

    machine = SelectField(_l("Machine"), coerce=int, default=0)
    months = SelectField(
        _l("Months"),
        coerce=int,
        default=6,
        choices=[SelectChoice("3"), SelectChoice("6"), SelectChoice("12"), SelectChoice("24")],
    )


class InviteForm(FlaskForm):
    """A new portal user for a customer (the manual: "abilitare altri utenti")."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class DispatchForm(FlaskForm):
    """How a delivery note's goods leave: who carries them, the parcels, the freight terms."""

    carried_by = SelectField(
        _l("Transport by"),
        default="sender",
        choices=[SelectChoice(c, _l(LABELS["carried_by"][c])) for c in CARRIED_BY],
    )
    carrier_name = StringField(_l("Carrier"), validators=[Optional(), Length(max=200)])
    packages = IntegerField(_l("Parcels"), validators=[Optional(), NumberRange(1, MAX_PACKAGES)])
    freight = SelectField(
        _l("Freight"),
        default="paid",
        choices=[SelectChoice(f, _l(LABELS["freight"][f])) for f in FREIGHT_TERMS],
    )

    def to_request(self) -> Transport:
        """The transport as the domain's ``dispatch`` takes it."""
        return Transport(
            carried_by=self.carried_by.data or "sender",
            carrier_name=self.carrier_name.data or None,
            packages=self.packages.data,
            freight=self.freight.data or "paid",
        )


class CreditNoteForm(FlaskForm):
    """Correct an issued invoice with a credit note (staff)."""

    amount = StringField(
        _l("Net amount to credit (empty: the whole invoice)"),
        validators=[Optional(), Length(max=40)],
    )
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
