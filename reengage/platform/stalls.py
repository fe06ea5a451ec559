"""Work handed on and not finished: queued too long ago (its job was lost), or cut off while being sent.

Messages and REST hook deliveries both go from `queued` (handed to a job) to `sending` (`queued_at` is then when
the send started); each names the two settings that say how long either state may last.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Table, and_, exists, or_


def limits(now: datetime, requeue_setting: str, timeout_setting: str) -> tuple[datetime, datetime]:
    """Rows queued before the first moment were never taken; those whose send started before the second were cut
    off."""
    config = current_app.config
    return (now - timedelta(seconds=config[requeue_setting]), now - timedelta(seconds=config[timeout_setting]))


def any_stalled(table: Table, now: datetime, requeue_setting: str, timeout_setting: str) -> ColumnElement[bool]:
    """Whether any row of `table` is stalled as of `now` (for the clock, which skips a task with nothing to do)."""
    requeue_before, cut_before = limits(now, requeue_setting, timeout_setting)
    return exists().where(or_(and_(table.c.status == "queued", table.c.queued_at < requeue_before),
                              and_(table.c.status == "sending", table.c.queued_at < cut_before)))
