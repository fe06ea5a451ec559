"""Sending: the clock claims due messages; a job sends each one at most once.

A message moves scheduled -> queued (claimed by the clock) -> sending (claimed by one job, in
a committed transaction, before anything leaves) -> sent, or skipped / failed / back to
scheduled. A second run of the same job finds nothing `queued` and does nothing, and an exit
skips messages that are still scheduled or queued, so everything is checked again at send time.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import bindparam, select, update

from reengage import hooks
from reengage.channels import CHANNELS, ConnectorError, Delivery, Outgoing
from reengage.models import Message
from reengage.models.message import IN_FLIGHT
from reengage.outcomes import tally
from reengage.platform import db, metrics, turns
from reengage.sending import readiness
from reengage.sequencing import enrollments

log = logging.getLogger(__name__)
table = Message.__table__
SCHEDULED_DUE = [table.c.status == "scheduled", table.c.due_at <= bindparam("now")]
# Due messages in turns between accounts (each account's earliest first), then claimed with row locks.
DUE = turns.due_in_turns(table, SCHEDULED_DUE, [table.c.due_at], bindparam("limit"))
STILL_DUE = turns.lock_still(table, SCHEDULED_DUE, bindparam("ids", expanding=True))
QUEUE = (update(table).where(table.c.id.in_(bindparam("ids", expanding=True)))
         .values(status="queued", queued_at=bindparam("now"), updated_at=bindparam("now")))
CLAIM = (update(table).where(table.c.id.in_(bindparam("ids", expanding=True)), table.c.status == "queued")
         .values(status="sending", attempts=table.c.attempts + 1).returning(table.c.id))
# Ids a send job takes at once: small enough that several workers share a large tick.
CHUNK = 50
AFTER_SEND = "reengage.after_send"


def after_send(app: Flask, hook: Callable[[list[Outgoing]], None]) -> None:
    """Have `hook` given the messages that went, after each chunk is recorded (CRM notes, for one)."""
    app.extensions.setdefault(AFTER_SEND, []).append(hook)


def due(now: datetime, limit: int) -> list[int]:
    """Ids of up to `limit` due messages, taking turns between accounts, so a backlog does not hold up others."""
    ids = list(db.session().scalars(DUE, {"now": now, "limit": limit}))
    db.session().commit()
    return ids


def claim(ids: list[int], now: datetime) -> list[int]:
    """Move those of `ids` still due (and not held by another clock) from scheduled to queued; answer their ids."""
    if not ids:
        return []
    with db.transaction() as db_session:
        connection = db_session.connection()
        claimed = list(connection.scalars(STILL_DUE, {"ids": ids, "now": now}))
        if claimed:
            connection.execute(QUEUE, {"ids": claimed, "now": now})
    return claimed


def claim_due(now: datetime, limit: int) -> list[int]:
    """Move up to `limit` due messages, in turns between accounts, from scheduled to queued; answer their ids."""
    return claim(due(now, limit), now)


def stalled(now: datetime, limit: int) -> list[int]:
    """Messages queued long ago whose job never ran, to hand on again; those cut off mid-send fail."""
    requeue_before = now - timedelta(seconds=current_app.config["MESSAGE_REQUEUE_AFTER_SECONDS"])
    timeout_before = now - timedelta(seconds=current_app.config["MESSAGE_SENDING_TIMEOUT_SECONDS"])
    with db.transaction() as db_session:
        connection = db_session.connection()
        query = (select(table.c.id, table.c.status, table.c.queued_at)
                 .where(IN_FLIGHT, table.c.queued_at < requeue_before).order_by(table.c.queued_at).limit(limit))
        rows = connection.execute(query).all()
        queued = [row.id for row in rows if row.status == "queued"]
        cut_off = [row.id for row in rows if row.status == "sending" and row.queued_at < timeout_before]
        if cut_off:
            connection.execute(
                update(table).where(table.c.id.in_(cut_off), table.c.status == "sending")
                .values(status="failed", updated_at=now,
                        reason="interrupted while sending; not retried, since it may already have gone"))
            log.warning("%d messages were cut off while sending and failed rather than risk going twice",
                        len(cut_off))
    return queued


def send(message_ids: list[int]) -> dict[str, int]:
    """Send the given queued messages, each at most once, CHUNK at a time; answer how many ended in each state."""
    outcomes: dict[str, int] = {}
    # Merged jobs (the in-process queue) can bring thousands of ids: each chunk is claimed and recorded on its own.
    for start in range(0, len(message_ids), CHUNK):
        prepared = _prepare(message_ids[start:start + CHUNK], outcomes)
        results: list[tuple[int, Delivery | ConnectorError]] = []
        for channel, outgoing in prepared:
            try:
                results.append((outgoing.id, CHANNELS[channel].deliver(outgoing)))
            except ConnectorError as error:
                results.append((outgoing.id, error))
        for outcome in _record(results):
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        went = {message_id for message_id, result in results if isinstance(result, Delivery)}
        for hook in current_app.extensions.get(AFTER_SEND, ()):
            hook([outgoing for _, outgoing in prepared if outgoing.id in went])
    return outcomes


def _prepare(message_ids: list[int], outcomes: dict[str, int]) -> list[tuple[str, Outgoing]]:
    """Claim the messages and check each may go now; (channel, what goes out) of those that may."""
    ready = []
    with db.transaction() as db_session:
        claimed = list(db_session.connection().scalars(CLAIM, {"ids": list(message_ids)}))
        if not claimed:
            return []
        messages = list(db_session.scalars(select(Message).where(Message.id.in_(claimed)).order_by(Message.id)))
        batch, now, ended = readiness.Batch(messages), db.utcnow(), set()
        for message in messages:
            outcome = readiness.check(message, batch, now)
            if outcome is None:
                ready.append((message.channel, Outgoing(
                    message.id, message.account_id, message.enrollment_id, message.contact_id,
                    batch.flows[message.flow_id].key, message.phase, message.step, message.content)))
                continue
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            ended.add(message.enrollment_id)
        db_session.flush()
        enrollments.finish_done(ended, now)
    return ready


def _record(results: list[tuple[int, Delivery | ConnectorError]]) -> list[str]:
    """Store what became of each delivery: sent, retried later, or failed."""
    if not results:
        return []
    outcomes = []
    with db.transaction() as db_session:
        now = db.utcnow()
        messages = {m.id: m for m in db_session.scalars(select(Message).where(
            Message.id.in_([message_id for message_id, _ in results])))}
        for message_id, result in results:
            message = messages[message_id]
            if isinstance(result, Delivery):
                message.status, message.sent_at, message.reason = "sent", now, None
                message.provider, message.provider_id = result.provider, result.provider_id
            elif result.retryable and message.attempts < current_app.config["MESSAGE_MAX_ATTEMPTS"]:
                pause = result.retry_after or 60 * 2 ** (message.attempts - 1)
                message.status, message.due_at = "scheduled", now + timedelta(seconds=pause)
                message.reason = f"retrying after: {result.message}"[:500]
            else:
                message.status, message.reason = "failed", f"{result.kind}: {result.message}"[:500]
            outcomes.append(message.status)
            metrics.MESSAGES_SENT.labels(message.status, message.channel, message.provider or "none").inc()
        tally.sent([messages[message_id] for message_id, result in results if isinstance(result, Delivery)], now)
        db_session.flush()
        published: dict[int, list[int]] = {}
        for message_id, result in results:
            if isinstance(result, Delivery) and result.provider == "webhook":
                published.setdefault(messages[message_id].account_id, []).append(message_id)
        hooks.publish("message.due", published)
        enrollments.finish_done({m.enrollment_id for m in messages.values()}, now)
    return outcomes
