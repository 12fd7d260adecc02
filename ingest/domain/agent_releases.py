"""Signed agent releases and their staged rollout, customer by customer.

The dealer publishes a build with the manifest the release key signed off this host; the
signature is checked here too (a release no agent would accept is refused at once).  A release
reaches an agent only through its configuration: rolling it out to a customer (or everyone)
raises the configuration version of that customer's agents, so each fetches its configuration
at its next heartbeat and finds the offer there.  The newest release rolled out to an agent's
customer is the one offered.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ingest.domain.errors import DomainError
from ingest.models import Agent, AgentRelease, Customer, ReleaseRollout
from ingest.models.agents import AgentConfig
from shared.agent_release import (
    Release,
    ReleaseError,
    file_digest,
    parse_release,
    verify_release,
    version_key,
)


def add_release(
    session: Session, source: Path, manifest: dict[str, object], store: Path, now: datetime
) -> AgentRelease:
    """Keep ``source`` (a signed build) under ``store`` and record it (not yet offered)."""
    try:
        release = parse_release(manifest, "manifest")
        verify_release(release)
    except ReleaseError as err:
        raise DomainError("invalid_release", str(err)) from err
    digest, size = file_digest(source)
    if (digest, size) != (release.sha256, release.size):
        raise DomainError("invalid_release", f"{source.name} is not the file the manifest signs")
    if session.scalar(select(AgentRelease).where(AgentRelease.version == release.version)):
        raise DomainError("duplicate_release", f"release {release.version} exists already")
    store.mkdir(parents=True, exist_ok=True)
    filename = f"scm-agent-{release.sha256}"
    shutil.copyfile(source, store / filename)
    row = AgentRelease(
        version=release.version,
        sha256=release.sha256,
        size=release.size,
        signature=release.signature,
        filename=filename,
        added_at=now,
    )
    session.add(row)
    session.flush()
    return row


def roll_out(
    session: Session, version: str, customer: Customer | None, now: datetime
) -> list[Agent]:
    """Offer ``version`` to ``customer``'s agents (everyone's with None); returns those agents.

    Their configuration versions go up by one, so each learns of it at its next heartbeat.
    """
    release = release_by_version(session, version)
    if customer is None:
        release.everyone = True
    elif not session.scalar(
        select(ReleaseRollout).where(
            ReleaseRollout.release_id == release.id, ReleaseRollout.customer_id == customer.id
        )
    ):
        session.add(ReleaseRollout(release_id=release.id, customer_id=customer.id, since=now))
    query = select(Agent).where(Agent.active.is_(True))
    if customer is not None:
        query = query.where(Agent.customer_id == customer.id)
    agents = list(session.scalars(query))
    for agent in agents:
        _bump_config_version(session, agent, now)
    session.flush()
    return agents


def offer_for(session: Session, agent: Agent) -> Release | None:
    """The newest release rolled out to the agent's customer or to everyone, if any."""
    rows = session.scalars(
        select(AgentRelease).where(
            or_(
                AgentRelease.everyone.is_(True),
                AgentRelease.id.in_(
                    select(ReleaseRollout.release_id).where(
                        ReleaseRollout.customer_id == agent.customer_id
                    )
                ),
            )
        )
    ).all()
    if not rows:
        return None
    newest = max(rows, key=lambda row: version_key(row.version))
    return Release(newest.version, newest.sha256, newest.size, newest.signature)


def release_by_version(session: Session, version: str) -> AgentRelease:
    """A published release; DomainError (404) when there is none."""
    row = session.scalar(select(AgentRelease).where(AgentRelease.version == version))
    if row is None:
        raise DomainError("unknown_release", f"no release {version!r}", 404)
    return row


def list_releases(session: Session) -> list[tuple[AgentRelease, list[str]]]:
    """Every release, newest first, with the customers it is rolled out to."""
    rows = list(session.scalars(select(AgentRelease)))
    rows.sort(key=lambda row: version_key(row.version), reverse=True)
    names: dict[int, list[str]] = {}
    for rollout in session.scalars(select(ReleaseRollout)):
        names.setdefault(rollout.release_id, []).append(rollout.customer.name)
    return [(row, sorted(names.get(row.id, []))) for row in rows]


def _bump_config_version(session: Session, agent: Agent, now: datetime) -> None:
    row = session.scalar(select(AgentConfig).where(AgentConfig.agent_id == agent.id))
    if row is None:
        row = AgentConfig(agent_id=agent.id, version=0, config_json="{}", updated_at=now)
        session.add(row)
    row.version += 1
    row.updated_at = now
