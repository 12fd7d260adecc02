"""Agents at customer sites: heartbeat, backlog, refusals; disable, enable, enrol a new one."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from ingest.auth import staff_required
from ingest.db import db_session
from ingest.domain.agent_refusals import refusals, set_agent_active
from ingest.domain.agents import list_agents
from ingest.domain.enrollment import create_token
from ingest.domain.staff_overview import all_customers
from ingest.forms import NoteForm
from ingest.models import Agent, Customer
from ingest.ops.blueprint import blueprint


def _page(token: str | None = None, token_for: str | None = None) -> str:
    session = db_session()
    return render_template(
        "ops/agents.html",
        rows=list_agents(session),
        refused=refusals(session),
        customers=all_customers(session),
        action=NoteForm(formdata=None),
        token=token,
        token_for=token_for,
    )


@blueprint.get("/agents")
@staff_required
def agents() -> str:
    """Every agent with its last heartbeat, backlog and whether the API refuses it."""
    return _page()


@blueprint.post("/agents/<int:agent_id>/<any(enable, disable):action>")
@staff_required
def agent_state(agent_id: int, action: str) -> WerkzeugResponse:
    """Disable an agent (its uploads are refused; its site keeps every reading) or enable it
    again (it resumes by itself and delivers its backlog)."""
    if not NoteForm().validate_on_submit():
        abort(400)
    session = db_session()
    agent = session.get(Agent, agent_id) or abort(404)
    set_agent_active(session, agent, action == "enable")
    session.commit()
    flash(f"{agent.hostname or agent.public_id}: {action}d.", "ok")
    return redirect(url_for("ops.agents"))


@blueprint.post("/agents/enrol/<int:customer_id>")
@staff_required
def enrol_token(customer_id: int) -> str:
    """A one-time enrolment token for a customer's new or re-installed agent, shown once."""
    if not NoteForm().validate_on_submit():
        abort(400)
    session = db_session()
    customer = session.get(Customer, customer_id) or abort(404)
    token = create_token(session, customer)
    session.commit()
    return _page(token, customer.name)
