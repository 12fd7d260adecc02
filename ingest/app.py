"""The application factory (Flask tutorial style): settings in, a configured app out."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, Request, current_app, make_response, render_template, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ingest import (
    agent_downloads,
    api,
    auth,
    db,
    home,
    languages,
    limits,
    machine_page,
    observability,
    ops,
    portal,
    read_api,
    shop,
    tickets,
)
from ingest.config import Settings, load_settings
from ingest.domain.errors import DomainError
from ingest.error_texts import error_text
from ingest.jobs import queue

csrf = CSRFProtect()
#: Forms with attachments (tickets) need more than an agent batch; the API sets its own limit.
MAX_PAGE_REQUEST_BYTES = 16 * 1024 * 1024
API_PREFIX = limits.API_PREFIX
log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, overrides: Mapping[str, Any] | None = None
) -> Flask:
    """Build the ingest application: API for agents, pages for people."""
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_PAGE_REQUEST_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        # An office PC left signed in: the session ends after a working day without use.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        SCM_HSTS=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config["SCM_PUBLIC_URL"] = settings.public_url
    app.session_interface = _PageSessions()
    app.config.update(overrides or {})
    database = db.init_app(app, settings.database_url)
    queue.init_app(app, database, settings.job_broker)
    observability.init_app(app)
    csrf.init_app(app)
    auth.init_app(app)
    languages.init_app(app)
    limits.init_app(app)
    app.register_blueprint(api.blueprint)
    csrf.exempt(api.blueprint)
    read_api.init_app(app)
    csrf.exempt(read_api.blueprint)
    app.register_blueprint(agent_downloads.blueprint)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(portal.blueprint)
    app.register_blueprint(machine_page.blueprint)
    app.register_blueprint(ops.blueprint)
    app.register_blueprint(shop.blueprint)
    app.register_blueprint(ops.shipping_blueprint)
    app.register_blueprint(tickets.blueprint)
    app.register_blueprint(home.blueprint)
    app.register_error_handler(DomainError, _domain_error_page)
    app.register_error_handler(429, _too_many_attempts)
    app.register_error_handler(413, _too_large)
    app.register_error_handler(OverflowError, _no_such_row)
    app.register_error_handler(DataError, _no_such_row)
    app.register_error_handler(OperationalError, _unavailable)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _not_found)
    app.after_request(_security_headers)

    return app


class _PageSessions(SecureCookieSessionInterface):
    """Cookie sessions for pages only: the agent and read APIs prove who calls by signature or
    token, so no cookie is read or set there (and every upload skips the work)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(API_PREFIX):
            return self.null_session_class()
        return super().open_session(app, request)


def _domain_error_page(err: DomainError) -> tuple[str, int]:
    """A refused operation on a page: its message, with its status (404, 409...)."""
    return render_template("error.html", message=error_text(err)), err.status


def _too_many_attempts(_err: Exception) -> tuple[str, int]:
    return render_template(
        "error.html", message=_("Too many attempts: please wait a few minutes and try again.")
    ), 429


def _too_large(_err: Exception) -> tuple[str, int]:
    return render_template("error.html", message=_("The upload is too large.")), 413


def _no_such_row(_err: Exception) -> tuple[str, int]:
    """An id no database column can hold (``/invoices/99999999999999999999``): not found."""
    db.rollback_request_session()
    return render_template("error.html", message=_("Not found.")), 404


def _unavailable(_err: Exception) -> Response:
    """The database is down or busy: 503 with Retry-After, never a 404 or a 500 page."""
    db.rollback_request_session()
    if request.path.startswith(API_PREFIX):
        response, status = api.unavailable("the database is unavailable: retry later")
    else:
        message = _("Service unavailable: please retry shortly.")
        response, status = make_response(render_template("error.html", message=message)), 503
    response.status_code = status
    response.headers["Retry-After"] = str(api.RETRY_AFTER_S)
    return response


def _not_found(err: HTTPException) -> Response:
    """Unknown URLs: the documented JSON under the API, the error page elsewhere."""
    if request.path.startswith(API_PREFIX):
        response, status = api.http_error(err)
    else:
        response = make_response(render_template("error.html", message=err.description))
        status = err.code or 404
    response.status_code = status
    return response


def _security_headers(response: Response) -> Response:
    """Conservative defaults for every page: no framing, no sniffing, no referrer leaks."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:"
    )
    if current_app.config.get("SCM_HSTS"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
