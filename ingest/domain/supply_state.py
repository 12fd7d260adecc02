"""The latest state of every supply slot, folded in by each batch's follow-up job, in order.

Each slot keeps its newest level plus the current cartridge's ``RunningFit``; a level that
jumped up is a cartridge change (recorded, and the sums start again).  An observation older
than the slot's latest (a late, spooled reading) stays in the history but changes nothing here,
as it did before: a late reading never reopens or closes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import TextClause, and_, select, text
from sqlalchemy.orm import Session

from ingest.domain.bulk import core, insert_rows, is_postgres, recordset_columns
from ingest.domain.forecast import Forecast, LevelPoint, RunningFit, is_change
from ingest.domain.registry import identity_order
from ingest.models import CartridgeChange, Device, DeviceReading, SupplyLevel, SupplyState
from shared.reading import SUPPLY_VALUES, Supply

_FIT_COLUMNS = {
    "since_at": "origin",
    "fit_last_at": "last_at",
    "smoothed": "smoothed",
    **{
        name: name
        for name in (
            "n", "sum_t", "sum_y", "sum_tt", "sum_ty", "sum_yy",
            "pages_n", "sum_p", "sum_pp", "sum_py", "sum_yp",
        )
    },
}  # fmt: skip


def slot_key(kind: str, colour: str | None, description: str | None) -> str:
    """A supply slot's identity on one device: kind and colour (else its description)."""
    detail = colour or " ".join((description or "").lower().split())
    return f"{kind}:{detail}"[:120]


@dataclass(frozen=True, slots=True)
class SlotObservation:
    """One supply of one stored reading."""

    device_id: int
    reading_id: int
    observed_at: datetime
    position: int
    supply: Supply
    pages: int | None

    @property
    def slot(self) -> str:
        """The slot this supply fills."""
        return slot_key(self.supply.kind, self.supply.colour, self.supply.description)


#: A supply's columns in a supply level and in a slot's latest state, in ``Supply``'s field
#: order (its ``max`` is ``max_capacity``).
SUPPLY_COLUMNS: Final = (
    "kind",
    "colour",
    "description",
    "level",
    "max_capacity",
    "percent",
    "state",
)


def supply_columns(obs: SlotObservation) -> dict[str, Any]:
    """The columns a supply level and a slot's latest state share."""
    return {
        "device_id": obs.device_id,
        "observed_at": obs.observed_at,
        **dict(zip(SUPPLY_COLUMNS, SUPPLY_VALUES(obs.supply), strict=True)),
    }


def fit_of(state: SupplyState | dict[str, Any]) -> RunningFit:
    """The running fit stored in a latest-state row."""
    get = state.get if isinstance(state, dict) else lambda name: getattr(state, name)
    return RunningFit(**{field: get(column) for column, field in _FIT_COLUMNS.items()})


def slot_forecast(state: SupplyState) -> Forecast:
    """The slot's forecast from its latest state alone: no history is read."""
    return fit_of(state).forecast(LevelPoint(state.observed_at, state.percent, state.state))


def store_supply_levels(session: Session, batch_id: int) -> None:
    """The supply levels of a stored batch's readings that count, one row per supply, numbered
    by its place in the reading (``slot``), taken from the payloads the readings were stored
    with; levels already there are kept, so a retried follow-up writes nothing twice.

    The batch's follow-up job writes them, off the upload path: on PostgreSQL they were 40 % of
    the database's work for an upload (measured: 6.2 to 4.3 ms of server CPU a batch of 100).
    The database shreds the JSON itself: no Python object or parameter per supply."""
    statement = _supply_levels_statement(is_postgres(session))
    core(session).execute(statement, {"batch": batch_id})


@lru_cache(maxsize=2)
def _supply_levels_statement(postgres: bool) -> TextClause:
    """``insert ... select`` from the batch's readings and each one's ``supplies`` array: with
    ``json_to_recordset`` on PostgreSQL (each field read as its column's type), ``json_each``
    on SQLite (whose array index is the slot)."""
    fields = Supply.__struct_fields__  # the contract's names, in ``SUPPLY_COLUMNS``' order
    if postgres:
        values = ", ".join(f"s.{name}" for name in fields)
        types = recordset_columns(SupplyLevel.__table__, SUPPLY_COLUMNS, fields)
        supplies = (
            f"CROSS JOIN LATERAL ROWS FROM (json_to_recordset(r.payload -> 'supplies') AS "
            f"({types})) WITH ORDINALITY AS s({', '.join(fields)}, n)"
        )
        slot = "s.n - 1"
    else:
        values = ", ".join(f"json_extract(s.value, '$.{name}')" for name in fields)
        supplies = ", json_each(r.payload, '$.supplies') AS s"
        slot = "s.key"
    return text(
        f"INSERT INTO supply_levels ({', '.join(LEVEL_COLUMNS)}) "  # noqa: S608
        f"SELECT r.device_id, r.id, r.observed_at, {slot}, {values} "
        f"FROM device_readings AS r {supplies} "
        "WHERE r.batch_id = :batch AND r.flag IS NULL ON CONFLICT DO NOTHING"
    )


def fold_batch(session: Session, batch_id: int) -> int:
    """Fold a stored batch's supply levels into ``supply_latest``; the cartridge changes seen.

    Run by the batch's follow-up job, off the upload path, once it has stored the levels
    (``store_supply_levels``).
    The batch's devices are locked first, in the order uploads lock them (``identity_order``),
    so two jobs never fold one slot at once and a job and an upload never deadlock; a job run
    twice folds nothing more (every level it would fold is then no newer than the slot's latest
    state).
    """
    levels, readings = SupplyLevel.__table__.c, DeviceReading.__table__.c
    rows = session.execute(
        select(*(levels[name] for name in LEVEL_COLUMNS), readings.total)
        .join_from(
            SupplyLevel.__table__,
            DeviceReading.__table__,
            # the moment too: each reading's levels are then looked for in one partition only
            and_(readings.id == levels.reading_id, readings.observed_at == levels.observed_at),
        )
        .where(readings.batch_id == batch_id, readings.flag.is_(None))
    ).all()
    if not rows:
        return 0
    device_ids = sorted({row.device_id for row in rows})
    session.execute(
        select(Device.id)
        .where(Device.id.in_(device_ids))
        .order_by(identity_order(session))
        .with_for_update()
    ).all()
    observations = [
        SlotObservation(device_id, reading_id, observed_at, slot, Supply(*supply), total)
        for device_id, reading_id, observed_at, slot, *supply, total in rows
    ]
    changes = fold_observations(session, observations, batch_id)
    insert_rows(session, CartridgeChange.__table__, changes)
    return len(changes)


#: A supply level's columns: whose, from which reading, when, which slot, then the supply's
#: fields in ``Supply``'s order (as ``store_supply_levels`` writes and ``fold_batch`` reads them).
LEVEL_COLUMNS: Final = ("device_id", "reading_id", "observed_at", "slot", *SUPPLY_COLUMNS)


def fold_observations(
    session: Session, observations: list[SlotObservation], batch_id: int | None
) -> list[dict[str, Any]]:
    """Fold supply observations into ``supply_latest``; the cartridge changes seen, as rows.

    One query loads the slots of the batch's devices, one statement writes the slots that
    moved; the caller stores the changes (``insert_rows``).  The caller holds the devices' row
    locks (``fold_batch`` takes them first), so two batches never fold the same slot at once.
    """
    if not observations:
        return []
    table = SupplyState.__table__
    device_ids = sorted({o.device_id for o in observations})
    needed = ["device_id", "slot", "observed_at", "percent", "state", *_FIT_COLUMNS]
    states = {
        (row["device_id"], row["slot"]): dict(row)
        for row in session.execute(
            select(*(table.c[name] for name in needed)).where(table.c.device_id.in_(device_ids))
        ).mappings()
    }
    moved: dict[tuple[int, str], dict[str, Any]] = {}
    changes: list[dict[str, Any]] = []
    for obs in sorted(observations, key=lambda o: (o.observed_at, o.reading_id, o.position)):
        key = (obs.device_id, obs.slot)
        before = states.get(key)
        if before is not None and obs.observed_at <= before["observed_at"]:
            continue
        after = _next_state(before, obs, changes, batch_id)
        states[key] = moved[key] = after
    _write_states(session, [moved[key] for key in sorted(moved)])
    return changes


def _next_state(
    before: dict[str, Any] | None,
    obs: SlotObservation,
    changes: list[dict[str, Any]],
    batch_id: int | None,
) -> dict[str, Any]:
    supply = obs.supply
    point = LevelPoint(obs.observed_at, supply.percent, supply.state, obs.pages)
    fit = RunningFit()
    if before is not None:
        previous = LevelPoint(before["observed_at"], before["percent"], before["state"])
        if is_change(previous, point):
            changes.append(
                {
                    "device_id": obs.device_id,
                    "slot": obs.slot,
                    "changed_at": obs.observed_at,
                    "replaced_at_percent": before["percent"],
                    "new_percent": supply.percent,
                    "batch_id": batch_id,
                }
            )
        else:
            fit = fit_of(before)
    fit = fit.add(point)
    return {
        "slot": obs.slot,
        "position": obs.position,
        **supply_columns(obs),
        "reading_id": obs.reading_id,
        **{column: getattr(fit, field) for column, field in _FIT_COLUMNS.items()},
    }


def _write_states(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        insert_rows(
            session,
            SupplyState.__table__,
            rows,
            conflict=("device_id", "slot"),
            update=_state_update,
        )


def _state_update(new: Any) -> dict[str, Any]:
    """A slot's stored latest state rewritten by a newer one (module level: ``insert_rows``
    then builds its statement once per process, not once per batch)."""
    return {name: new[name] for name in _STATE_UPDATED}


#: Every column ``_next_state`` fills but the slot's key (device and slot).
_STATE_UPDATED: Final = ("position", "observed_at", *SUPPLY_COLUMNS, "reading_id", *_FIT_COLUMNS)
