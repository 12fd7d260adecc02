"""Forms of the staff administration pages; each turns itself into the domain's request."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ingest.domain.alert_rules import KINDS
from ingest.domain.catalogue import Article
from ingest.domain.customer_settings import Contacts, CustomerSettings
from ingest.domain.posts import KINDS as POST_KINDS
from ingest.domain.tickets import PRIORITIES, STATUSES, TEAMS, TicketFilter, TicketRequest
from ingest.forms import LocalDateField
from ingest.i18n import LABELS, LANGUAGES, N_
from ingest.models import Consumable, Customer, User
from shared.reading import SUPPLY_KINDS

POST_KIND_LABELS = {"news": N_("News"), "offer": N_("Offer"), "document": N_("Infobox document")}


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ArticleForm(FlaskForm):
    """A catalogue article (the code identifies it: the same code updates the article)."""

    code = StringField(_l("Article code"), validators=[DataRequired(), Length(max=64)])
    description = StringField(_l("Description"), validators=[DataRequired(), Length(max=300)])
    manufacturer = StringField(_l("Manufacturer"), validators=[Optional(), Length(max=200)])
    models = StringField(
        _l("Models it fits (separated by ;)"), validators=[DataRequired(), Length(max=1000)]
    )
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k, _l(LABELS["supply"][k])) for k in sorted(SUPPLY_KINDS)]
    )
    colour = StringField(_l("Colour"), validators=[Optional(), Length(max=64)])
    yield_pages = IntegerField(_l("Yield (pages)"), validators=[Optional(), NumberRange(0)])
    price = DecimalField(_l("Price"), places=2, validators=[InputRequired(), NumberRange(0)])
    included = BooleanField(_l("Included in the cost-per-copy contract"), default=True)

    def to_request(self) -> Article:
        """The article as ``upsert_consumable`` takes it."""
        return Article(
            code=self.code.data or "",
            description=self.description.data or "",
            models=self.models.data or "",
            kind=self.kind.data or "toner",
            colour=self.colour.data or None,
            yield_pages=self.yield_pages.data,
            price=self.price.data if self.price.data is not None else "0",
            included=bool(self.included.data),
            manufacturer=self.manufacturer.data or None,
        )


class PostForm(FlaskForm):
    """News for everyone, or an offer or document for one customer, with an optional PDF."""

    kind = SelectField(
        _l("Section"), choices=[SelectChoice(k, _l(POST_KIND_LABELS[k])) for k in POST_KINDS]
    )
    customer_id = SelectField(_l("Customer"), coerce=int, default=0)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text"), validators=[Optional(), Length(max=20000)])
    attachment = FileField(_l("PDF"), validators=[FileAllowed(["pdf"], _l("PDF files only"))])

    def set_customers(self, customers: list[Customer]) -> None:
        """The customer choices (0: everyone, for news)."""
        self.customer_id.choices = [SelectChoice("0", "—")] + [
            SelectChoice(str(c.id), c.name) for c in customers
        ]


class CustomerSettingsForm(FlaskForm):
    """Contacts, reorder rule and alert settings of one customer."""

    referent_name = StringField(_l("MFP referent"), validators=[Optional(), Length(max=200)])
    referent_email = EmailField(_l("Referent e-mail"), validators=[Optional(), Length(max=254)])
    referent_phone = StringField(_l("Referent phone"), validators=[Optional(), Length(max=50)])
    sales_rep_name = StringField(_l("Salesperson"), validators=[Optional(), Length(max=200)])
    sales_rep_email = EmailField(_l("Salesperson e-mail"), validators=[Optional(), Length(max=254)])
    sales_rep_phone = StringField(_l("Salesperson phone"), validators=[Optional(), Length(max=50)])
    reorder_lead_days = IntegerField(
        _l("Reorder lead time (days)"), validators=[InputRequired(), NumberRange(0, 90)]
    )
    reorder_threshold_percent = IntegerField(
        _l("Reorder at or below (%)"), validators=[InputRequired(), NumberRange(0, 100)]
    )
    auto_reorder = BooleanField(_l("Reorder toner automatically"))
    vat_regime = SelectField(
        _l("VAT"),
        choices=[
            SelectChoice("standard", _l("Standard rate (abroad in the EU: reverse charge)")),
            SelectChoice("reverse_charge", _l("Reverse charge")),
            SelectChoice("exempt", _l("Exempt")),
        ],
    )
    agent_silent_minutes = IntegerField(
        _l("Agent silent after (minutes; empty: three heartbeats)"),
        validators=[Optional(), NumberRange(15, 10080)],
    )
    device_silent_hours = IntegerField(
        _l("Printer silent after (hours)"), validators=[InputRequired(), NumberRange(1, 720)]
    )
    auto_ticket_kinds = CheckboxesField(
        _l("Open a service ticket automatically for"),
        choices=[SelectChoice(k, _l(LABELS["alert"][k])) for k in KINDS],
    )

    code = StringField(_l("Customer code"), validators=[Optional(), Length(max=20)])
    language = SelectField(
        _l("Language"),
        default="",
        choices=[
            SelectChoice("", _l("not set: the browser decides")),
            *(SelectChoice(code, name) for code, name in LANGUAGES.items()),
        ],
    )

    @classmethod
    def of(cls, settings: CustomerSettings) -> CustomerSettingsForm:
        """The form filled with the current settings."""
        c = settings.contacts
        return cls(
            referent_name=c.referent_name,
            referent_email=c.referent_email,
            referent_phone=c.referent_phone,
            sales_rep_name=c.sales_rep_name,
            sales_rep_email=c.sales_rep_email,
            sales_rep_phone=c.sales_rep_phone,
            reorder_lead_days=settings.reorder_lead_days,
            reorder_threshold_percent=settings.reorder_threshold_percent,
            auto_reorder=settings.auto_reorder,
            vat_regime=settings.vat_regime,
            agent_silent_minutes=settings.agent_silent_minutes,
            device_silent_hours=settings.device_silent_hours,
            auto_ticket_kinds=list(settings.auto_ticket_kinds),
            code=settings.code,
            language=settings.language or "",
        )

    def to_request(self) -> CustomerSettings:
        """The settings as ``update_settings`` takes them."""
        return CustomerSettings(
            contacts=Contacts(
                self.referent_name.data,
                self.referent_email.data,
                self.referent_phone.data,
                self.sales_rep_name.data,
                self.sales_rep_email.data,
                self.sales_rep_phone.data,
            ),
            reorder_lead_days=self.reorder_lead_days.data or 0,
            reorder_threshold_percent=self.reorder_threshold_percent.data or 0,
            auto_reorder=bool(self.auto_reorder.data),
            vat_regime=self.vat_regime.data or "standard",
            agent_silent_minutes=self.agent_silent_minutes.data,
            device_silent_hours=self.device_silent_hours.data or 24,
            auto_ticket_kinds=tuple(self.auto_ticket_kinds.data or ()),
            code=self.code.data or None,
            language=self.language.data or None,
        )


class TokenForm(FlaskForm):
    """A new read-API token."""

    name = StringField(_l("Used by"), validators=[DataRequired(), Length(max=100)])


class WebhookForm(FlaskForm):
    """A new webhook receiver."""

    url = URLField(_l("URL"), validators=[DataRequired(), URL(require_tld=False), Length(max=500)])
    events = CheckboxesField(
        _l("Events (none ticked: all)"),
        choices=[SelectChoice("alert.opened"), SelectChoice("alert.cleared")],
    )


class TicketFilterForm(FlaskForm):
    """The staff ticket list's filters (GET, no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), default="open")
    team = SelectField(_l("Team"), default="")
    customer_id = SelectField(_l("Customer"), coerce=int, default=0)
    assignee_id = SelectField(_l("Assigned to"), coerce=int, default=0)

    def set_choices(self, customers: list[Customer], staff: list[User]) -> None:
        """Choices from the data (0 / empty: any)."""
        self.status.choices = [
            SelectChoice("open", _("Not done")),
            SelectChoice("", _("Any")),
            *(SelectChoice(key, _(label)) for key, (label, _colour) in STATUSES.items()),
        ]
        self.team.choices = [SelectChoice("", _("Any"))] + [
            SelectChoice(key, _(label)) for key, label in TEAMS.items()
        ]
        self.customer_id.choices = [SelectChoice("0", _("Any"))] + [
            SelectChoice(str(c.id), c.name) for c in customers
        ]
        self.assignee_id.choices = [SelectChoice("0", _("Anybody"))] + [
            SelectChoice(str(u.id), u.email) for u in staff
        ]

    def to_request(self) -> TicketFilter:
        """The filter as ``tickets_of`` takes it."""
        status = self.status.data or None
        return TicketFilter(
            status=None if status == "open" else status,
            team=self.team.data or None,
            customer_id=self.customer_id.data or None,
            assignee_id=self.assignee_id.data or None,
            open_only=status == "open",
        )


class AssignTicketForm(FlaskForm):
    """Who works a ticket."""

    assignee_id = SelectField(_l("Assigned to"), coerce=int)


class StaffTicketForm(FlaskForm):
    """A ticket staff open for a customer (no attachments: the customer sends those)."""

    machine_id = SelectField(_l("Machine (serial number)"), coerce=int)
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[DataRequired(), Length(max=5000)])
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    priority = SelectField(
        _l("Priority"), choices=[SelectChoice(p, _l(LABELS["priority"][p])) for p in PRIORITIES]
    )
    team = SelectField(_l("Team"), choices=[SelectChoice(k, _l(v)) for k, v in TEAMS.items()])

    def to_request(self) -> TicketRequest:
        """The ticket as ``open_ticket`` takes it."""
        return TicketRequest(
            machine_id=self.machine_id.data,
            subject=self.subject.data or "",
            description=self.description.data or "",
            contact_name=self.contact_name.data or "",
            phone=self.phone.data or "",
            office_hours="",
            priority=self.priority.data or "normal",
            team=self.team.data or "printing",
            mono=None,
            colour=None,
        )


class ContractChangeForm(FlaskForm):
    """New terms from a date: only the fields filled in change."""

    effective = LocalDateField(_l("New terms from"), validators=[InputRequired()])
    mono_rate = DecimalField(
        _l("EUR per B/W page"), places=5, validators=[Optional(), NumberRange(0)]
    )
    colour_rate = DecimalField(
        _l("EUR per colour page"), places=5, validators=[Optional(), NumberRange(0)]
    )
    included_mono = IntegerField(
        _l("Included B/W pages per period"), validators=[Optional(), NumberRange(0)]
    )
    included_colour = IntegerField(
        _l("Included colour pages per period"), validators=[Optional(), NumberRange(0)]
    )
    fixed_fee = DecimalField(
        _l("Fixed fee per period"), places=2, validators=[Optional(), NumberRange(0)]
    )
    minimum_charge = DecimalField(
        _l("Minimum charge per period"), places=2, validators=[Optional(), NumberRange(0)]
    )
    confirm = BooleanField(_l("Confirm values outside the usual bounds"))

    def to_request(self) -> dict[str, object]:
        """Only the terms that change, as ``change_contract`` takes them."""
        names = (
            "mono_rate",
            "colour_rate",
            "included_mono",
            "included_colour",
            "fixed_fee",
            "minimum_charge",
        )
        return {n: getattr(self, n).data for n in names if getattr(self, n).data is not None}


class ChooseArticleForm(FlaskForm):
    """The article for a reorder the rule could not match."""

    consumable_id = SelectField(_l("Article"), coerce=int)

    def set_articles(self, articles: list[Consumable]) -> None:
        """The catalogue articles that fit the machine."""
        self.consumable_id.choices = [
            SelectChoice(str(a.id), f"{a.article_code} {a.description}") for a in articles
        ]
