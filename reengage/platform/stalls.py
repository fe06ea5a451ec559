"""Work handed on and not finished: queued too long ago (its job was lost), or cut off while being sent.

Messages and REST hook deliveries both go from `queued` (handed to a job) to `sending` (`queued_at` is then when
the send started); each names the two settings that say how long either state may last.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Table, and_, bindparam, exists, or_

from reengage.platform import db


def limits(now: datetime, requeue_setting: str, timeout_setting: str) -> tuple[datetime, datetime]:
    """Rows queued before the first moment were never taken; those whose send started before the second were cut
    off."""
    config = current_app.config
    return (now - timedelta(seconds=config[requeue_setting]), now - timedelta(seconds=config[timeout_setting]))


def any_stalled(table: Table) -> ColumnElement[bool]:
    """Whether any row of `table` is stalled, asked with `as_of`'s values (for the clock, which skips a task with
    nothing to do)."""
    requeue_before, cut_before = _names(table)
    return exists().where(or_(
        and_(table.c.status == db.constant("queued"), table.c.queued_at < bindparam(requeue_before)),
        and_(table.c.status == db.constant("sending"), table.c.queued_at < bindparam(cut_before))))


def as_of(table: Table, now: datetime, requeue_setting: str, timeout_setting: str) -> dict[str, datetime]:
    """The values `any_stalled(table)` is asked with as of `now`."""
    return dict(zip(_names(table), limits(now, requeue_setting, timeout_setting), strict=True))


def _names(table: Table) -> tuple[str, str]:
    return f"{table.name}_requeue_before", f"{table.name}_cut_before"
