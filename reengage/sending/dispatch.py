"""Sending: the clock claims due messages; a job sends each one at most once.

A message moves scheduled -> queued (claimed by the clock) -> sending (claimed by one job, in
a committed transaction, just before it leaves) -> sent, or skipped / failed / back to
scheduled. A second run of the same job finds nothing `queued` and does nothing, and an exit
skips messages that are still scheduled or queued, so everything is checked again at send time.
"""

import contextvars
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import bindparam, select, update

from reengage import connections, hooks
from reengage.channels import CHANNELS, Channel, ConnectorError, Delivery, Outgoing
from reengage.models import Message
from reengage.outcomes import tally
from reengage.platform import db, metrics, turns
from reengage.platform.listed import one_of
from reengage.sending import readiness
from reengage.sequencing import enrollments

log = logging.getLogger(__name__)
table = Message.__table__
SCHEDULED_DUE = [table.c.status == db.constant("scheduled"), table.c.due_at <= bindparam("now")]
# Due messages in turns between accounts (each account's earliest first), then claimed with row locks.
DUE = turns.due_in_turns(table, SCHEDULED_DUE, [table.c.due_at], bindparam("limit"))
STILL_DUE = turns.lock_still(table, SCHEDULED_DUE, "ids")
QUEUE = (update(table).where(one_of(table.c.id, "ids"))
         .values(status="queued", queued_at=bindparam("now"), updated_at=bindparam("now")))
# Sends start: their messages are `sending` from now (queued_at is then when they were handed to their provider).
CLAIM_ALL = (update(table).where(one_of(table.c.id, "ids"), table.c.status == "queued")
             .values(status="sending", attempts=table.c.attempts + 1, queued_at=bindparam("now"),
                     updated_at=bindparam("now")).returning(table.c.id))
# A send job's messages (by id), as objects: locked in id order where other writers may change them meanwhile.
OF_IDS = select(Message).where(one_of(Message.id, "ids"))
LOCKED = OF_IDS.order_by(Message.id).with_for_update()
QUEUED_LOCKED = LOCKED.where(Message.status == "queued")
# Ids a send job takes at once: small enough that several workers share a large tick.
CHUNK = 50
AFTER_SEND = "reengage.after_send"
# Threads a process sends on; each job's sends through one provider are held to SEND_CONCURRENCY.
SENDING_THREADS = 64
# The route of messages that stay inside this server (an outbox, a publication).
LOCAL = "local"


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


def send(message_ids: list[int]) -> dict[str, int]:
    """Send the given queued messages, each at most once; answer how many ended in each state.

    The checks run CHUNK at a time and leave the messages queued. Those that stay inside this server are claimed,
    sent and recorded in one transaction. The others go in parallel (up to SEND_CONCURRENCY at once per provider):
    those whose provider's events settle a send cut off (emails) are claimed in one transaction (`sending`, with
    the time their sends started) and recorded in one, so a crash strands at most one chunk of them, which
    reengage.sending.recovery settles by their channel; those nothing could settle (a HubSpot task fails when cut
    off) are each claimed as it leaves and recorded as it returns, so a crash strands only those in flight.
    Each account's connection and client are built once for the whole job.
    """
    outcomes: dict[str, int] = {}
    with connections.reused():
        # Merged jobs (the in-process queue) can bring thousands of ids: each chunk is checked and sent on its own.
        for start in range(0, len(message_ids), CHUNK):
            prepared = _prepare(message_ids[start:start + CHUNK], outcomes)
            routes: dict[tuple[str, int], str | None] = {}
            for channel, outgoing in prepared:
                key = (channel, outgoing.account_id)
                if key not in routes:
                    routes[key] = LOCAL if CHANNELS[channel].local(outgoing.account_id) else (
                        CHANNELS[channel].provider(outgoing.account_id))
            went: list[Outgoing] = []
            try:
                # Sends that stay inside this server have no effect until recorded: claimed, sent and recorded at once.
                _send_inside([pair for pair in prepared if routes[(pair[0], pair[1].account_id)] == LOCAL],
                             outcomes, went)
                _send_out([(channel, outgoing, routes[(channel, outgoing.account_id)]) for channel, outgoing in prepared
                           if routes[(channel, outgoing.account_id)] != LOCAL], outcomes, went)
            finally:
                # Also when the job is stopped (its timeout): what went is still noted.
                for hook in current_app.extensions.get(AFTER_SEND, ()):
                    hook(went)
    return outcomes


def _send_out(prepared: list[tuple[str, Outgoing, str | None]], outcomes: dict[str, int],
              went: list[Outgoing]) -> None:
    """Send through their providers messages that leave this server, in parallel up to each provider's limit."""
    settled = [item for item in prepared if CHANNELS[item[0]].interrupted != "fail"]
    _send_together(settled, outcomes, went)
    _send_each([item for item in prepared if CHANNELS[item[0]].interrupted == "fail"], outcomes, went)


def _send_together(prepared: list[tuple[str, Outgoing, str | None]], outcomes: dict[str, int],
                   went: list[Outgoing]) -> None:
    """Claimed together, sent in parallel, recorded together: a send cut off is settled by its provider's events."""
    if not prepared:
        return
    claimed = _claim([outgoing.id for _, outgoing, _ in prepared])
    limits = current_app.config["SEND_CONCURRENCY"]
    gates = {provider: threading.BoundedSemaphore(limits.get(provider, 1)) for _, _, provider in prepared}
    flying: dict[Future, Outgoing] = {}
    for channel, outgoing, provider in prepared:
        if outgoing.id in claimed:  # else taken by another job, or skipped by an exit since the checks
            # The thread sees this job's context (its app, its connections), never its database session.
            flying[_senders().submit(contextvars.copy_context().run, _deliver, CHANNELS[channel], outgoing,
                                     gates[provider])] = outgoing
    finished: list[tuple[Outgoing, Delivery | ConnectorError]] = []
    stopped: BaseException | None = None
    try:
        for future in as_completed(flying):
            try:
                finished.append((flying[future], future.result()))
            except ConnectorError as error:
                finished.append((flying[future], error))
            except Exception as error:
                # Left `sending`, as a crash would leave it: recovery settles it. Raised once the rest are recorded.
                stopped = stopped or error
    finally:
        # Also when the job is stopped while waiting (its timeout): the sends that finished are recorded.
        _settle(finished, outcomes, went)
    if stopped is not None:
        raise stopped


def _send_each(prepared: list[tuple[str, Outgoing, str | None]], outcomes: dict[str, int],
               went: list[Outgoing]) -> None:
    """Each claimed just before it leaves and recorded as soon as it returns, in parallel up to its provider's
    limit: nothing could tell whether one cut off went, so a crash fails only those in flight, none that waited."""
    limits = current_app.config["SEND_CONCURRENCY"]
    flying: dict[Future, tuple[Outgoing, str | None]] = {}
    stopped: list[BaseException] = []

    def land(futures: set[Future]) -> None:
        finished: list[tuple[Outgoing, Delivery | ConnectorError]] = []
        for future in futures:
            outgoing, _ = flying.pop(future)
            try:
                finished.append((outgoing, future.result()))
            except ConnectorError as error:
                finished.append((outgoing, error))
            except Exception as error:
                stopped.append(error)  # left `sending`, as a crash would leave it
        _settle(finished, outcomes, went)

    try:
        for channel, outgoing, provider in prepared:
            while sum(route == provider for _, route in flying.values()) >= limits.get(provider, 1):
                land(wait(flying, return_when=FIRST_COMPLETED).done)
            if stopped:
                break  # the rest stay queued and are handed on again
            if _claim([outgoing.id]):  # else taken by another job, or skipped by an exit since the checks
                future = _senders().submit(contextvars.copy_context().run, CHANNELS[channel].deliver, outgoing)
                flying[future] = (outgoing, provider)
        while flying:
            land(wait(flying, return_when=FIRST_COMPLETED).done)
    finally:
        # Also when the job is stopped while waiting (its timeout): the sends that finished are recorded.
        land({future for future in flying if future.done()})
    if stopped:
        raise stopped[0]


def _deliver(channel: Channel, outgoing: Outgoing, gate: threading.BoundedSemaphore) -> Delivery:
    """Deliver one message once its provider has room (at most SEND_CONCURRENCY of a job's sends at once)."""
    with gate:
        return channel.deliver(outgoing)


_pool: tuple[int, ThreadPoolExecutor] | None = None


def _senders() -> ThreadPoolExecutor:
    """This process's sending threads (started once; a forked worker starts its own)."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(SENDING_THREADS, thread_name_prefix="send"))
    return _pool[1]


def _prepare(message_ids: list[int], outcomes: dict[str, int]) -> list[tuple[str, Outgoing]]:
    """Check the queued ones of the messages may go now; (channel, what goes out) of those that may, still queued."""
    ready = []
    with db.transaction() as db_session:
        messages = list(db_session.scalars(QUEUED_LOCKED, {"ids": list(message_ids)}))
        if not messages:
            return []
        now, ended = db.utcnow(), set()
        batch = readiness.Batch(messages, now)
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


def _send_inside(prepared: list[tuple[str, Outgoing]], outcomes: dict[str, int], went: list[Outgoing]) -> None:
    """Claim, send and record in one transaction messages that stay inside this server; a crash undoes it all."""
    if not prepared:
        return
    with db.transaction() as db_session:
        now = db.utcnow()
        claimed = set(db_session.connection().scalars(CLAIM_ALL, {"ids": [o.id for _, o in prepared], "now": now}))
        messages = {m.id: m for m in db_session.scalars(OF_IDS, {"ids": list(claimed)})}
        done: list[tuple[Outgoing, Delivery | ConnectorError]] = []
        for channel, outgoing in prepared:
            if outgoing.id not in claimed:
                continue
            try:
                done.append((outgoing, CHANNELS[channel].deliver(outgoing)))
            except ConnectorError as error:
                done.append((outgoing, error))
        _record_all(messages, done, now, outcomes, went)


def _claim(ids: list[int]) -> set[int]:
    """Claim these queued messages for sending (`sending`, from now), in one transaction; the ids claimed."""
    with db.transaction() as db_session:
        return set(db_session.connection().scalars(CLAIM_ALL, {"ids": ids, "now": db.utcnow()}))


def _settle(done: list[tuple[Outgoing, Delivery | ConnectorError]], outcomes: dict[str, int],
            went: list[Outgoing]) -> None:
    """Record what became of finished sends, in one transaction."""
    if not done:
        return
    with db.transaction() as db_session:
        # Locked, in id order: the Event Webhook may be recording the same messages from their events.
        messages = {m.id: m for m in db_session.scalars(LOCKED, {"ids": [outgoing.id for outgoing, _ in done]})}
        _record_all(messages, done, db.utcnow(), outcomes, went)


def _record_all(messages: dict[int, Message], done: list[tuple[Outgoing, Delivery | ConnectorError]], now: datetime,
                outcomes: dict[str, int], went: list[Outgoing]) -> None:
    """Store what became of each finished send, counted by outcome; the ones that newly went join `went`."""
    newly = []
    for outgoing, result in done:
        message = messages[outgoing.id]
        if _record(message, result, now):
            newly.append(message)
            went.append(outgoing)
        outcomes[message.status] = outcomes.get(message.status, 0) + 1
        metrics.MESSAGES_SENT.labels(message.status, message.channel, message.provider or "none").inc()
    _recorded(list(messages.values()), newly, now)


def _record(message: Message, result: Delivery | ConnectorError, now: datetime) -> bool:
    """Store what became of one send: sent, retried later, or failed; whether it newly went."""
    if message.status != "sending":
        # Its provider's events recorded it as sent meanwhile (reengage.outcomes.engagement), and counted it.
        if isinstance(result, Delivery):
            message.provider_id = result.provider_id or message.provider_id
        return False
    if isinstance(result, Delivery):
        message.status, message.sent_at, message.reason = "sent", now, None
        message.provider, message.provider_id = result.provider, result.provider_id
        return True
    if result.retryable and message.attempts < current_app.config["MESSAGE_MAX_ATTEMPTS"]:
        pause = result.retry_after or current_app.config["MESSAGE_RETRY_AFTER_SECONDS"] * 2 ** (message.attempts - 1)
        message.status, message.due_at = "scheduled", now + timedelta(seconds=pause)
        message.reason = f"retrying after: {result.message}"[:500]
    else:
        message.status, message.reason = "failed", f"{result.kind}: {result.message}"[:500]
    return False


def _recorded(messages: list[Message], went: list[Message], now: datetime) -> None:
    """What follows recorded sends, for all of them at once: tallies, webhook publications, finished enrollments."""
    tally.sent(went, now)
    db.session().flush()
    published: dict[int, list[int]] = {}
    for message in went:
        if message.provider == "webhook":
            published.setdefault(message.account_id, []).append(message.id)
    hooks.publish("message.due", published)
    enrollments.finish_done({message.enrollment_id for message in messages}, now)
