"""Recovery: messages whose job was lost go to a job again; sends cut off midway are settled by their channel.

A send job claims its chunk's emails together and its HubSpot tasks one at a time (`sending`, queued_at = when
the send started), so a crash strands at most a chunk's emails, or the tasks in flight. Once
MESSAGE_SENDING_TIMEOUT_SECONDS have passed since then, its
channel's `interrupted` policy decides: `resend` hands it on again (nothing left before its result was
recorded), `fail` fails it (nothing would tell whether it went), `confirm` waits until
MESSAGE_CONFIRM_WINDOW_SECONDS after the send started for the provider's events (an email's `processed`,
`delivered`, `bounce` or `dropped`, which record it as sent meanwhile: reengage.outcomes.engagement) and
hands it on again only when none came. Every interruption counts as an attempt (MESSAGE_MAX_ATTEMPTS).
"""

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, select, update

from reengage.channels import CHANNELS
from reengage.models import Message
from reengage.platform import db, stalls
from reengage.sequencing import enrollments

log = logging.getLogger(__name__)
table = Message.__table__
MAY_HAVE_GONE = "interrupted while sending; not retried, since it may already have gone"


# How long a message may stay queued, and sending, before it counts as stalled.
STALLS = ("MESSAGE_REQUEUE_AFTER_SECONDS", "MESSAGE_SENDING_TIMEOUT_SECONDS")


# Whether `stalled` would find anything, asked with `stall_limits` (for the clock, which skips idle tasks).
ANY_STALLED: ColumnElement[bool] = stalls.any_stalled(table)


def stall_limits(now: datetime) -> dict[str, datetime]:
    """The values ANY_STALLED is asked with as of `now`."""
    return stalls.as_of(table, now, *STALLS)


def stalled(now: datetime, limit: int) -> list[int]:
    """Messages to hand to a job again: queued long ago and never taken, or cut off and safe to send again."""
    config = current_app.config
    requeue_before, cut_before = stalls.limits(now, *STALLS)
    confirm_before = now - timedelta(seconds=max(config["MESSAGE_CONFIRM_WINDOW_SECONDS"],
                                                 config["MESSAGE_SENDING_TIMEOUT_SECONDS"]))
    with db.transaction() as db_session:
        connection = db_session.connection()
        queued = list(connection.scalars(
            select(table.c.id).where(stalls.in_flight(table, "queued"), table.c.queued_at < requeue_before)
            .order_by(table.c.queued_at).limit(limit)))
        # Oldest first: those past their confirmation window come before those still waiting in it.
        cut = connection.execute(
            select(table.c.id, table.c.enrollment_id, table.c.channel, table.c.queued_at, table.c.attempts)
            .where(stalls.in_flight(table, "sending"), table.c.queued_at < cut_before)
            .order_by(table.c.queued_at).limit(limit)).all()
        again: list[int] = []
        failed: list[int] = []
        spent: list[int] = []
        for row in cut:
            policy = CHANNELS[row.channel].interrupted
            if policy == "fail":
                failed.append(row.id)
            elif policy == "resend" or row.queued_at < confirm_before:
                (again if row.attempts < config["MESSAGE_MAX_ATTEMPTS"] else spent).append(row.id)
        _settle(connection, failed, MAY_HAVE_GONE, now)
        _settle(connection, spent, "interrupted while sending on every attempt; the provider reported none of "
                                   "them", now)
        if again:
            connection.execute(update(table).where(table.c.id.in_(again), table.c.status == "sending").values(
                status="queued", queued_at=now, updated_at=now,
                reason="sent again: its send was interrupted and the provider reported nothing"))
            log.warning("%d messages cut off while sending go again (their provider reported nothing)", len(again))
        db_session.flush()
        enrollments.finish_done({row.enrollment_id for row in cut if row.id in set(failed + spent)}, now)
    return queued + again


def _settle(connection, ids: list[int], reason: str, now: datetime) -> None:
    """Fail the interrupted messages `ids` for `reason`."""
    if ids:
        connection.execute(update(table).where(table.c.id.in_(ids), table.c.status == "sending")
                           .values(status="failed", updated_at=now, reason=reason))
        log.warning("%d messages cut off while sending failed: %s", len(ids), reason)
