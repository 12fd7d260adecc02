"""Driving the portal through Flask's test client: users, CSRF tokens, signing in."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from ingest.db import database
from ingest.domain.accounts import create_user, find_customer

PASSWORD = "correct horse battery"
_TOKEN_RES = (
    re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"'),
    re.compile(r'name="csrf_token" value="([^"]+)"'),
    re.compile(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"'),
)


def add_user(app: Flask, email: str, customer: str | None = None, staff: bool = False) -> None:
    """A portal user of ``customer`` (which must exist), or staff."""
    with database(app).session() as db:
        owner = find_customer(db, customer) if customer else None
        create_user(db, email, PASSWORD, customer=owner, staff=staff)
        db.commit()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the first form on ``path``."""
    page = client.get(path).get_data(as_text=True)
    for pattern in _TOKEN_RES:
        match = pattern.search(page)
        if match:
            return match.group(1)
    raise AssertionError(f"no CSRF token on {path}:\n{page[:2000]}")


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD):
    """Sign in through the real form."""
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )


def enter_read(
    client: FlaskClient, machine_id: int, day: date, mono: object, colour: object
) -> str:
    """Type a meter read on the portal's "Lettura contatori" page; the answer page's text."""
    return client.post(
        f"/machines/{machine_id}/reads",
        data={
            "csrf_token": csrf_token(client, "/meter-reads"),
            f"m{machine_id}-taken_on": day.isoformat(),
            f"m{machine_id}-mono": str(mono),
            f"m{machine_id}-colour": str(colour),
        },
        follow_redirects=True,
    ).get_data(as_text=True)
