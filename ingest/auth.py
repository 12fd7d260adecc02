"""Signing in and out of the portal (Flask-Login sessions, Flask-WTF forms with CSRF)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ingest.app import db_session
from ingest.domain.accounts import authenticate
from ingest.models import User

blueprint = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"


class PortalUser(UserMixin):
    """What the session knows about the signed-in person: enough to scope every query."""

    def __init__(self, user: User) -> None:
        self.id = str(user.id)
        self.email = user.email
        self.customer_id = user.customer_id
        self.customer_name = user.customer.name if user.customer else None
        self.is_staff = user.is_staff


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def init_app(app: Flask) -> None:
    """Attach the login manager to ``app``."""
    login_manager.init_app(app)


@login_manager.user_loader
def _load_user(user_id: str) -> PortalUser | None:
    if not user_id.isdigit():
        return None
    user = db_session().get(User, int(user_id))
    return PortalUser(user) if user is not None and user.active else None


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """The sign-in form; a wrong e-mail or password get the same message."""
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db_session(), form.email.data or "", form.password.data or "")
        if user is not None:
            login_user(PortalUser(user))
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong e-mail or password.", "error")
    return render_template("login.html", form=form)


@blueprint.post("/logout")
@login_required
def logout() -> Response:
    """Sign out (POST with the CSRF token, so a link elsewhere cannot sign anyone out)."""
    logout_user()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect after login is a phishing tool."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("portal.devices")
