"""``scm-ingest`` administration commands against the test database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ingest.cli import main
from ingest.db import Database
from ingest.domain.enrollment import hash_token
from ingest.jobs import all_jobs
from ingest.jobs.outbox import MAX_ATTEMPTS, enqueue, run_job
from ingest.jobs.queue import utc_now
from ingest.jobs.registry import job
from ingest.models import EnrollmentToken, Job, User


@pytest.fixture
def run(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SCM_DATABASE_URL", database_url)
    monkeypatch.setenv("SCM_INSTANCE_PATH", str(tmp_path))

    def invoke(*args, stdin=None):
        return CliRunner().invoke(main, list(args), input=stdin)

    return invoke


def test_token_create_prints_only_the_token_and_stores_its_hash(run, session):
    assert run("customer", "create", "Rossi srl").exit_code == 0
    result = run("token", "create", "--customer", "Rossi srl")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("scm-enroll-")
    assert len(token.split()) == 1
    assert session.scalar(select(EnrollmentToken)).token_hash == hash_token(token)


def test_token_for_an_unknown_customer_is_a_clear_error(run):
    result = run("token", "create", "--customer", "Nessuno")
    assert result.exit_code == 1
    assert "no customer named 'Nessuno'" in result.output


def test_user_create_reads_the_password_from_stdin(run, session):
    run("customer", "create", "Rossi srl")
    result = run(
        "user",
        "create",
        "--email",
        "Anna@Rossi.example",
        "--customer",
        "Rossi srl",
        "--password-stdin",
        stdin="a very long password\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User))
    assert user.email == "anna@rossi.example"
    assert "a very long password" not in user.password_hash


def test_user_is_customer_or_staff_never_both(run):
    run("customer", "create", "Rossi srl")
    both = run(
        "user",
        "create",
        "--email",
        "x@y.example",
        "--customer",
        "Rossi srl",
        "--staff",
        "--password-stdin",
        stdin="a very long password\n",
    )
    assert both.exit_code == 2
    weak = run(
        "user", "create", "--email", "x@y.example", "--staff", "--password-stdin", stdin="short\n"
    )
    assert weak.exit_code == 1
    assert "10+ characters" in weak.output


def test_user_invite_without_mail_prints_the_link(run, session):
    run("customer", "create", "Rossi srl")
    result = run("user", "invite", "--email", "nuovo@rossi.example", "--customer", "Rossi srl")
    assert result.exit_code == 0, result.output
    assert "give them this link: http://127.0.0.1:8000/password/reset/" in result.output
    assert session.scalar(select(User)).email == "nuovo@rossi.example"


#: A job that fails until the test mends its cause.
FLAKY: dict[str, bool] = {"mended": False}


@job("test_flaky")
def _flaky(session, args, now) -> None:
    if not FLAKY["mended"]:
        raise RuntimeError("the cause is not mended yet")


def test_a_job_that_gave_up_is_listed_and_runs_again_when_retried(run, database_url, session):
    FLAKY["mended"] = False
    database = Database(database_url)
    try:
        with database.session() as db:
            job_id = enqueue(db, "test_flaky", {"n": 1}, now=utc_now())
            db.commit()
        for _ in range(MAX_ATTEMPTS):
            with pytest.raises(RuntimeError):
                run_job(database.sessions, job_id, all_jobs(), utc_now())
    finally:
        database.dispose()
    listed = run("jobs", "failed")
    assert listed.exit_code == 0, listed.output
    assert listed.output.split("\t")[:2] == [str(job_id), "test_flaky"]
    assert "the cause is not mended yet" in listed.output
    assert run("jobs", "retry").exit_code == 2  # neither ids nor --all: a usage error
    FLAKY["mended"] = True
    retried = run("jobs", "retry", "--all")
    assert retried.output.strip() == "1 job(s) sent again"
    assert session.get(Job, job_id).done_at is not None  # no broker: run by the command
    assert run("jobs", "failed").output == ""
