"""The read API for the dealer's ERP and scripts: ``Authorization: Bearer TOKEN``, JSON lists.

flask-smorest builds the OpenAPI 3 document (``/api/v1/openapi.json``) from these views and
their marshmallow schemas, so the document cannot drift from the code. Lists are paged
(``page``, ``page_size`` ≤ 100; the ``X-Pagination`` header carries the total). Errors are the
same JSON as the agent API: ``{"error": code, "message": text, "server_time": ...}``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

import marshmallow as ma
from flask import Flask, Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import HTTPException

from ingest.db import db_session
from ingest.domain import listings
from ingest.domain.alert_rules import KINDS
from ingest.domain.alerts import alert_payload
from ingest.domain.api_tokens import token_for
from ingest.domain.listings import Page, Window
from shared.reading import format_timestamp

PREFIX: Final = "/api/v1"
blueprint = Blueprint(
    "read_api", __name__, url_prefix=PREFIX, description="Read API for ERPs and scripts"
)


class ScmApi(Api):
    """flask-smorest's Api, answering errors as JSON only under ``/api/``.

    The stock class turns every HTTP error of the whole app into JSON; the portal's pages keep
    their HTML error pages.
    """

    def handle_http_exception(self, error: HTTPException) -> Any:
        """The documented JSON error under /api/, Flask's own answer elsewhere."""
        if not request.path.startswith("/api/"):
            return error
        code = error.name.lower().replace(" ", "_")
        # webargs puts what failed validation in ``data``: name the fields, not just "422".
        messages = getattr(error, "data", {}).get("messages")
        message = json.dumps(messages, sort_keys=True) if messages else error.description or ""
        return api_error(code, message, error.code or 500)


def api_error(code: str, message: str, status: int) -> tuple[Response, int]:
    """The API's one error shape."""
    body = {"error": code, "message": message, "server_time": format_timestamp(datetime.now(UTC))}
    return jsonify(body), status


def init_app(app: Flask) -> ScmApi:
    """Mount the read API and its OpenAPI document."""
    app.config.setdefault("API_TITLE", "SCM fleet monitoring")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = ScmApi(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    api.register_blueprint(blueprint)
    return api


@blueprint.before_request
def _require_token() -> tuple[Response, int] | None:
    """Every read needs a live bearer token."""
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or token_for(db_session(), presented.strip(), _now()) is None:
        response, status = api_error("unauthorized", "a valid bearer token is required", 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="scm"'
        return response, status
    return None


def _now() -> datetime:
    return datetime.now(UTC)


def _window(pagination: Any) -> Window:
    return Window(offset=pagination.first_item, limit=pagination.page_size)


def _page(pagination: Any, page: Page[Any]) -> list[Any]:
    pagination.item_count = page.total
    return page.items


# -- schemas ---------------------------------------------------------------------------------


class AlertQuery(ma.Schema):
    state = ma.fields.String(
        load_default="open", validate=ma.validate.OneOf(["open", "cleared", "all"])
    )
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    customer_id = ma.fields.Integer()


class AlertSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"enum": list(KINDS)})
    customer = ma.fields.String()
    customer_id = ma.fields.Integer()
    machine_id = ma.fields.Integer(allow_none=True)
    device_id = ma.fields.Integer(allow_none=True)
    agent_id = ma.fields.Integer(allow_none=True)
    severity = ma.fields.String()
    message = ma.fields.String()
    opened_at = ma.fields.String()
    last_seen_at = ma.fields.String()
    cleared_at = ma.fields.String(allow_none=True)
    ticket_id = ma.fields.Integer(allow_none=True)


class CustomerSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    vat_number = ma.fields.String(allow_none=True)
    referent_email = ma.fields.String(allow_none=True)
    reorder_lead_days = ma.fields.Integer()


class CustomerQuery(ma.Schema):
    customer_id = ma.fields.Integer()


class MachineSchema(ma.Schema):
    id = ma.fields.Integer()
    scm_id = ma.fields.String()
    customer_id = ma.fields.Integer()
    manufacturer = ma.fields.String(allow_none=True)
    model = ma.fields.String(allow_none=True)
    serial = ma.fields.String()
    location = ma.fields.String(allow_none=True)
    monitored = ma.fields.Boolean()
    colour = ma.fields.Boolean()
    device_id = ma.fields.Integer(allow_none=True)


class MeterReadQuery(ma.Schema):
    machine_id = ma.fields.Integer()
    since = ma.fields.AwareDateTime(default_timezone=UTC)


class MeterReadSchema(ma.Schema):
    id = ma.fields.Integer()
    machine_id = ma.fields.Integer()
    taken_at = ma.fields.AwareDateTime()
    source = ma.fields.String()
    mono = ma.fields.Integer(allow_none=True)
    colour = ma.fields.Integer(allow_none=True)
    total = ma.fields.Integer(allow_none=True)
    status = ma.fields.String()
    flags = ma.fields.String()


class InvoiceQuery(ma.Schema):
    status = ma.fields.String()
    customer_id = ma.fields.Integer()


class InvoiceSchema(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    customer_id = ma.fields.Integer()
    issued_on = ma.fields.Date()
    due_on = ma.fields.Date()
    period_start = ma.fields.Date()
    period_end = ma.fields.Date()
    net = ma.fields.Decimal(as_string=True)
    vat = ma.fields.Decimal(as_string=True)
    gross = ma.fields.Decimal(as_string=True)
    status = ma.fields.String()
    paid_on = ma.fields.Date(allow_none=True)


class ReorderQuery(ma.Schema):
    status = ma.fields.String()


class ReorderSchema(ma.Schema):
    id = ma.fields.Integer()
    machine_id = ma.fields.Integer()
    slot = ma.fields.String()
    kind = ma.fields.String()
    colour = ma.fields.String(allow_none=True)
    consumable_id = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String()
    level_percent = ma.fields.Integer(allow_none=True)
    days_to_empty = ma.fields.Float(allow_none=True)
    status = ma.fields.String()
    created_at = ma.fields.AwareDateTime()
    closed_at = ma.fields.AwareDateTime(allow_none=True)


# -- views -------------------------------------------------------------------------------------


@blueprint.route("/alerts")
class Alerts(MethodView):
    @blueprint.arguments(AlertQuery, location="query")
    @blueprint.response(200, AlertSchema(many=True))
    @blueprint.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
        """Alerts (open by default), oldest first."""
        page = listings.alerts(db_session(), _window(pagination_parameters), **args)
        return [alert_payload(a) for a in _page(pagination_parameters, page)]


@blueprint.route("/customers")
class Customers(MethodView):
    @blueprint.response(200, CustomerSchema(many=True))
    @blueprint.paginate()
    def get(self, pagination_parameters: Any) -> list[Any]:
        """Customers by name."""
        page = listings.customers(db_session(), _window(pagination_parameters))
        return _page(pagination_parameters, page)


@blueprint.route("/machines")
class Machines(MethodView):
    @blueprint.arguments(CustomerQuery, location="query")
    @blueprint.response(200, MachineSchema(many=True))
    @blueprint.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
        """Machines under contract by ID SCM."""
        page = listings.machines(db_session(), _window(pagination_parameters), **args)
        return _page(pagination_parameters, page)


@blueprint.route("/meter-reads")
class MeterReads(MethodView):
    @blueprint.arguments(MeterReadQuery, location="query")
    @blueprint.response(200, MeterReadSchema(many=True))
    @blueprint.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
        """Meter reads, oldest first; ``since`` pulls only new ones."""
        page = listings.meter_reads(db_session(), _window(pagination_parameters), **args)
        return _page(pagination_parameters, page)


@blueprint.route("/invoices")
class Invoices(MethodView):
    @blueprint.arguments(InvoiceQuery, location="query")
    @blueprint.response(200, InvoiceSchema(many=True))
    @blueprint.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
        """Invoices, newest first."""
        page = listings.invoices(db_session(), _window(pagination_parameters), **args)
        return _page(pagination_parameters, page)


@blueprint.route("/reorders")
class Reorders(MethodView):
    @blueprint.arguments(ReorderQuery, location="query")
    @blueprint.response(200, ReorderSchema(many=True))
    @blueprint.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
        """Automatic toner reorders, newest first."""
        page = listings.reorders(db_session(), _window(pagination_parameters), **args)
        return _page(pagination_parameters, page)
