"""Ingest fixtures: the app on the test database, a client, a session, a token, an agent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from support.ingest import TestAgent, enroll_agent, issue_token
from support.smtp import Inbox, smtp_server

from ingest.app import create_app
from ingest.config import Settings
from ingest.db import database


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """An SMTP server on loopback that the application's mailer is configured to use."""
    with smtp_server() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def clock() -> Callable[[], datetime] | None:
    """The ingest's clock; None is the system clock.  Modules that push readings dated after
    today (a billing month not over yet) override it with a later fixed moment."""
    return None


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: Callable[[], datetime] | None) -> Iterator[Flask]:
    settings = Settings(database_url=database_url, instance_path=tmp_path, secret_key="test-" * 8)
    application = create_app(settings, {"TESTING": True, "SCM_CLOCK": clock})
    yield application
    database(application).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser that asks for English: the behaviour tests read the source language; the
    Italian and Spanish pages are checked by ``test_languages.py``."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with database(app).session() as db:
        yield db


@pytest.fixture
def token(app: Flask) -> str:
    return issue_token(app)


@pytest.fixture
def agent(client: FlaskClient, token: str) -> TestAgent:
    return enroll_agent(client, token)
