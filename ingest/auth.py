"""Who may see what: signing in and out (Flask-Login sessions, CSRF-protected forms) and the
access rules every blueprint uses (``staff_required``, ``customer_scope``, ``owned``).

One module owns access so that a rule changes in one place: a view never compares customer ids
itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ingest.db import db_session
from ingest.domain.accounts import (
    active_user_by_email,
    authenticate,
    reset_mail_text,
    revoke_sessions,
    set_password,
    user_for_reset_token,
)
from ingest.i18n import customer_language
from ingest.limits import (
    ACCOUNT_LIMIT,
    ADDRESS_LIMIT,
    RESET_LIMIT,
    SIGN_IN_LIMIT,
    account_key,
    address_and_account_key,
    limiter,
)
from ingest.links import password_link
from ingest.mail import mailer_from_env, try_send
from ingest.models import User

blueprint = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"


class PortalUser(UserMixin):
    """What the session knows about the signed-in person: enough to scope every query."""

    def __init__(self, user: User) -> None:
        # The session version travels in the id: raising it revokes every older cookie.
        self.id = f"{user.id}:{user.session_version}"
        self.user_id = user.id
        self.email = user.email
        self.customer_id = user.customer_id
        self.customer_name = user.customer.name if user.customer else None
        self.is_staff = user.is_staff
        self.language = user.language
        self.customer_language = customer_language(user.customer)
        self.customer_code = user.customer.code if user.customer else None


class LoginForm(FlaskForm):
    """Customer code ("codice utente", "número de cliente") or e-mail, and password."""

    email = StringField(_l("Customer code or e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class ForgotForm(FlaskForm):
    """The address to send a reset link to."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class ResetForm(FlaskForm):
    """A new password, twice."""

    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=10, max=1024)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", _l("Passwords differ"))],
    )


class _CustomerOwned(Protocol):
    customer_id: int


Owned = TypeVar("Owned", bound=_CustomerOwned)
View = TypeVar("View", bound=Callable[..., Any])


def staff_required(view: View) -> View:
    """Signed in and dealer staff (403 for customers)."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def customer_scope() -> int | None:
    """The customer whose data the user may see; None means every customer (staff only)."""
    if current_user.is_staff:
        return None
    if current_user.customer_id is None:
        abort(403)
    customer_id: int = current_user.customer_id
    return customer_id


def owned(model: type[Owned], ident: int) -> Owned:
    """A row that belongs to the user's customer (any customer for staff); else 404, the same
    answer as for a row that does not exist, so ids of other customers reveal nothing."""
    found = db_session().get(model, ident)
    scope = customer_scope()
    if found is None or (scope is not None and found.customer_id != scope):
        abort(404)
    return found


def init_app(app: Flask) -> None:
    """Attach the login manager to ``app``."""
    login_manager.init_app(app)


@login_manager.user_loader
def _load_user(session_id: str) -> PortalUser | None:
    """The signed-in person, while the account is active and the session not revoked."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db_session().get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return PortalUser(user)


def _failed_sign_in(response: Response) -> bool:
    """Only failed attempts count toward a lock-out (a success answers with a redirect)."""
    return response.status_code != 302


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(
    SIGN_IN_LIMIT,
    methods=["POST"],
    key_func=address_and_account_key,
    deduct_when=_failed_sign_in,
)
@limiter.limit(ACCOUNT_LIMIT, methods=["POST"], key_func=account_key, deduct_when=_failed_sign_in)
@limiter.limit(
    ADDRESS_LIMIT, methods=["POST"], key_func=get_remote_address, deduct_when=_failed_sign_in
)
def login() -> str | Response:
    """The sign-in form; a wrong e-mail or password get the same message."""
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db_session(), form.email.data or "", form.password.data or "")
        if user is not None:
            login_user(PortalUser(user))
            flask_session.permanent = True  # ends after PERMANENT_SESSION_LIFETIME unused
            return redirect(safe_next(request.args.get("next")))
        flash(_("Wrong customer code, e-mail or password."), "error")
    return render_template("login.html", form=form)


@blueprint.post("/logout")
@login_required
def logout() -> Response:
    """Sign out (POST with the CSRF token, so a link elsewhere cannot sign anyone out); every
    copy of the session cookie stops working, not only this browser's."""
    session = db_session()
    user = session.get(User, int(current_user.user_id))
    if user is not None:
        revoke_sessions(session, user)
        session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(RESET_LIMIT, methods=["POST"], key_func=address_and_account_key)
def forgot_password() -> str | Response:
    """The "Password dimenticata" page: e-mail a one-hour, single-use link.

    The answer is the same whether or not the address is known, so the form cannot be used to
    find users.
    """
    form = ForgotForm()
    if form.validate_on_submit():
        user = active_user_by_email(db_session(), form.email.data or "")
        if user is not None:
            link = password_link(user)
            try_send(mailer_from_env(), user.email, *reset_mail_text(user, link))
        flash(
            _("If the address belongs to a user, a link to choose a new password is on its way."),
            "ok",
        )
        return redirect(url_for("auth.login"))
    return render_template("password_forgot.html", form=form)


@blueprint.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response:
    """Choose a new password from an e-mailed link."""
    session = db_session()
    user = user_for_reset_token(session, token, current_app.config["SECRET_KEY"])
    form = ResetForm()
    if form.validate_on_submit():
        set_password(session, user, form.password.data or "")
        session.commit()
        flash(_("Password changed: sign in with the new one."), "ok")
        return redirect(url_for("auth.login"))
    return render_template("password_reset.html", form=form, email=user.email)


def safe_next(target: str | None) -> str:
    """Only local paths: an open redirect after login is a phishing tool."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("home.index")
