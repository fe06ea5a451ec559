"""Work handed on and not finished: queued too long ago (its job was lost), or cut off while being sent.

Messages and REST hook deliveries both go from `queued` (handed to a job) to `sending` (`queued_at` is then when
the send started); each names the two settings that say how long either state may last.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Table, and_, bindparam, exists, or_, text

from reengage.platform import db

# The condition of both tables' partial indexes of rows in flight (ix_messages_in_flight, ix_hook_deliveries_in_flight).
# SQLite reads through a partial index only for a query that states the index's condition itself, so every query for
# stalled rows states it (see `in_flight`); without it, SQLite read the whole table on every tick of the clock.
IN_FLIGHT = text("status IN ('queued', 'sending')")


def limits(now: datetime, requeue_setting: str, timeout_setting: str) -> tuple[datetime, datetime]:
    """Rows queued before the first moment were never taken; those whose send started before the second were cut
    off."""
    config = current_app.config
    return (now - timedelta(seconds=config[requeue_setting]), now - timedelta(seconds=config[timeout_setting]))


def in_flight(table: Table, status: str) -> ColumnElement[bool]:
    """Rows of `table` in `status` (`queued` or `sending`), asked so that both databases find them through the partial
    index of rows in flight."""
    return and_(IN_FLIGHT, table.c.status == db.constant(status))


def any_stalled(table: Table) -> ColumnElement[bool]:
    """Whether any row of `table` is stalled, asked with `as_of`'s values (for the clock, which skips a task with
    nothing to do): each state its own range of the index."""
    requeue_before, cut_before = _names(table)
    return or_(exists().where(in_flight(table, "queued"), table.c.queued_at < bindparam(requeue_before)),
               exists().where(in_flight(table, "sending"), table.c.queued_at < bindparam(cut_before)))


def as_of(table: Table, now: datetime, requeue_setting: str, timeout_setting: str) -> dict[str, datetime]:
    """The values `any_stalled(table)` is asked with as of `now`."""
    return dict(zip(_names(table), limits(now, requeue_setting, timeout_setting), strict=True))


def _names(table: Table) -> tuple[str, str]:
    return f"{table.name}_requeue_before", f"{table.name}_cut_before"
