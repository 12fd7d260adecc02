"""``scm-ingest jobs``: the follow-up and scheduled jobs that gave up, and running them again."""

from __future__ import annotations

import click

from ingest.cli_common import cli_session
from ingest.config import load_settings
from ingest.db import Database
from ingest.jobs.outbox import given_up, retry_given_up
from ingest.jobs.queue import JobQueue, utc_now


@click.group("jobs")
def jobs_group() -> None:
    """Jobs that failed every attempt (their error kept), and running them again."""


@jobs_group.command("failed")
def jobs_failed() -> None:
    """Each job that gave up: id, name, arguments, attempts and its last error."""
    with cli_session() as session:
        for job in given_up(session):
            click.echo(f"{job.id}\t{job.name}\t{job.args}\t{job.attempts}\t{job.last_error}")


@jobs_group.command("retry")
@click.argument("job_ids", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="every job that gave up")
def jobs_retry(job_ids: tuple[int, ...], every: bool) -> None:
    """Run jobs that gave up again, once their cause is mended: sent to the workers (or run
    here, without a broker) at once."""
    if not job_ids and not every:
        raise click.UsageError("name the jobs to retry, or --all")
    settings = load_settings()
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            ids = retry_given_up(session, None if every else job_ids, utc_now())
            session.commit()
        JobQueue(database, settings.job_broker).dispatch(ids)
    finally:
        database.dispose()
    click.echo(f"{len(ids)} job(s) sent again")
