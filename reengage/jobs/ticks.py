"""What each clock tick did, kept in the database so that every process (readiness, /metrics) can read it."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from reengage.models import ClockTick
from reengage.models.clock_tick import TICK
from reengage.platform import db


@dataclass(frozen=True)
class TaskRun:
    """One task's run within a tick: what it handed on, how long it took, its failure if any."""

    task: str
    handed_on: int
    seconds: float
    error: str | None = None


def record(at: datetime, runs: list[TaskRun]) -> None:
    """Store each task's run and the tick itself as of `at` (one row each, replaced every tick)."""
    rows = [{"task": run.task, "ticked_at": at, "handed_on": run.handed_on, "seconds": run.seconds,
             "error": {"type": run.error} if run.error else None} for run in runs]
    rows.append({"task": TICK, "ticked_at": at, "handed_on": sum(run.handed_on for run in runs),
                 "seconds": sum(run.seconds for run in runs), "error": None})
    with db.transaction() as session:
        statement = db.insert_new(ClockTick.__table__)
        excluded = statement.excluded
        session.execute(statement.on_conflict_do_update(
            index_elements=["task"],
            set_={name: excluded[name] for name in ("ticked_at", "handed_on", "seconds", "error")}), rows)


def latest() -> dict[str, ClockTick]:
    """The last run of every task, by name, with the whole tick as `tick`."""
    rows = db.session().scalars(select(ClockTick))
    found = {row.task: row for row in rows}
    db.session().commit()
    return found
