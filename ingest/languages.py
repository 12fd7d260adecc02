"""Which language a page speaks, the switch in the navigation bar, and the template filters
that format numbers, money and dates for it (Flask-Babel over ``ingest.i18n``).

The order, first that applies: the signed-in user's choice, the language staff set for the
user's customer, a choice made on the sign-in page (kept in the session), the browser's
``Accept-Language``, Italian.  A page that serves a customer without a sign-in (the e-mailed
meter-read link) speaks that customer's language: ``speak(language)``.
"""

from __future__ import annotations

from babel.support import Translations
from flask import Blueprint, Flask, g, redirect, request, session
from flask_babel import Babel, get_locale, refresh
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf

from ingest.auth import safe_next
from ingest.db import db_session
from ingest.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    TRANSLATIONS_DIR,
    Wording,
    recipient_language,
    translations,
    wording,
)
from ingest.models import Customer, User
from ingest.stored_texts import worded

blueprint = Blueprint("languages", __name__)
babel = Babel()
_SESSION_KEY = "language"


class LanguageForm(FlaskForm):
    """The language switch: a language and the page to go back to."""

    language = SelectField(
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
        validators=[AnyOf(LANGUAGES)],
    )
    next = HiddenField()


def init_app(app: Flask) -> None:
    """Attach Flask-Babel with our catalogs, language choice and formatting filters."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=page_language)
    # Flask-Babel's own callables look its catalog up anew at every ``_()`` (a page of fifty
    # machine cards makes 800 of them, a fifth of its rendering); these take the page's
    # language, which Flask-Babel keeps for the request, and the catalogs ``i18n`` keeps loaded.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: page_translations().ugettext(s),
        ngettext=lambda s, p, n: page_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: page_translations().unpgettext(c, s, p, n),
    )
    app.register_blueprint(blueprint)
    app.jinja_env.filters.update(
        money=lambda v: page_wording().money(v),
        rate=lambda v: page_wording().rate(v),
        num=lambda v: page_wording().number(v),
        percent=lambda v: page_wording().percent(v),
        day=lambda v: page_wording().day(v),
        moment=lambda v: page_wording().moment(v),
        month=lambda v: page_wording().month(v),
        label=lambda code, kind: page_wording().label(kind, code),
        stored=lambda text: worded(text, page_wording()),
    )
    app.jinja_env.globals.update(
        languages=LANGUAGES, page_wording=page_wording, language_form=LanguageForm
    )


def page_language() -> str:
    """The language of the current page (see the module docstring for the order)."""
    spoken = g.get("spoken_language")
    if spoken in LANGUAGES:
        return str(spoken)
    if current_user.is_authenticated:
        for choice in (current_user.language, current_user.customer_language):
            if choice in LANGUAGES:
                return str(choice)
    chosen = session.get(_SESSION_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def page_translations() -> Translations:
    """The current page's catalog."""
    return translations(str(get_locale()))


def page_wording() -> Wording:
    """Formatting and words for the current page."""
    return wording(str(get_locale()))


def speak(language: str | None) -> None:
    """Serve this request in ``language`` (a customer's, on pages without a sign-in)."""
    if language in LANGUAGES:
        g.spoken_language = language
        refresh()  # a language already looked up in this request is looked up again


def document_wording(customer: Customer) -> Wording:
    """The language of a PDF: the reader's own for a customer's user (as the page), the
    customer's for staff who fetch it on the customer's behalf."""
    if current_user.is_authenticated and not current_user.is_staff:
        return page_wording()
    return wording(recipient_language(None, customer))


@blueprint.post("/language")
def choose() -> Response:
    """The switch in the navigation bar: stored on the user (in the session before sign-in)."""
    form = LanguageForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            user = db_session().get(User, current_user.user_id)
            if user is not None:
                user.language = form.language.data
                db_session().commit()
        else:
            session[_SESSION_KEY] = form.language.data
    return redirect(safe_next(form.next.data))
