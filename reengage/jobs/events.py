"""Processing stored events: each event is claimed once, then handed to every processor.

A job processes at most ROUND_EVENTS events, taking turns between their accounts, and hands the
rest back to the queue: one account's backlog waits behind another's new events, not before them.
Within a round, events are claimed in chunks sized so that each one's transaction takes about CHUNK_SECONDS
(longer on PostgreSQL, shorter on SQLite while light requests come in), one transaction a chunk, so no transaction
holds SQLite's write lock for long and requests get in between chunks; run in a web process, a job gives way to its
requests between chunks (see busy).
"""

import itertools
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Row, bindparam, or_, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from reengage import hooks
from reengage.detection import detect
from reengage.jobs import job
from reengage.models import Contact, Event
from reengage.outcomes import engagement, recovery
from reengage.platform import busy, db, queue
from reengage.platform.db import UTCDateTime
from reengage.platform.listed import one_of
from reengage.winback import events as winback_events

events, contacts = Event.__table__, Contact.__table__
# Events one job processes before handing the rest back to the queue.
ROUND_EVENTS = 500
# How long one chunk's transaction should take; the first chunk's size, and the bounds of later ones.
CHUNK_SECONDS = 0.02
# How long it should take while light requests come in and the database has one writer at a time (SQLite): they
# wait for the chunk holding its lock, so it holds it in shorter turns then (see busy.light_traffic).
SHORT_CHUNK_SECONDS = 0.008
# PostgreSQL has no database-wide write lock, only the chunk's own rows: its chunks may take this many times longer,
# so the queries every chunk makes (claim, reads, commit) are shared by more events when the machine is busy.
POSTGRES_CHUNK_FACTOR = 3
FIRST_CHUNK, MAX_CHUNK = 10, 200
# Tries of a chunk that a concurrent transaction deadlocked with, won a race against or changed under it.
ATTEMPTS = 5
# A retried chunk first waits up to this much a failed attempt so far, at random: processes that raced over the same
# contacts part ways instead of meeting again at once.
RETRY_PAUSE_SECONDS = 0.05
# Transaction-scoped advisory locks on contacts' processing, taken in the order of the keys given: the first key names
# what is locked (two 32-bit keys are a space apart from intake's 64-bit ones); ids past 2^31 share a lock with a
# smaller one, which only waits more.
HOLD_CONTACTS = text("SELECT pg_advisory_xact_lock(7411, t.key) FROM unnest(CAST(:keys AS integer[])) "
                     "WITH ORDINALITY AS t(key, n) ORDER BY t.n")
CONTACT_LOCKS = 2**31 - 1
PENDING = select(events.c.id, events.c.account_id).where(
    one_of(events.c.id, "ids"), events.c.processed_at.is_(None))
# What the processors read of a claimed event.
CLAIMED = (events.c.id, events.c.account_id, events.c.contact_id, events.c.key, events.c.type, events.c.occurred_at,
           events.c.properties, events.c.value, events.c.currency)
# Built once: these run for every batch of events, and building a statement costs more than running it.
CLAIM = (
    update(events)
    .where(one_of(events.c.id, "ids"), events.c.processed_at.is_(None))
    .values(processed_at=bindparam("now"))
    .returning(*CLAIMED)
)
# What a chunk claims besides its own events: the pending events of each of its contacts that happened no later than
# the chunk's newest of that contact, stored by another process or handed to another job (at most MAX_CHUNK). A
# contact's events are then processed in the order they happened whichever job holds them, instead of a later one
# first and the earlier ones judged late (each such event makes detection replay the contact's events for its rules:
# reengage.detection.rejudge). Rows another chunk has claimed and not yet committed are left to it.
EARLIER = (select(events.c.id, events.c.contact_id, events.c.occurred_at)
           .where(events.c.processed_at.is_(None), one_of(events.c.contact_id, "contacts"),
                  events.c.occurred_at <= bindparam("latest", type_=UTCDateTime))
           .order_by(events.c.occurred_at).limit(bindparam("limit")))
TAKE = (
    update(events)
    .where(events.c.id.in_(select(events.c.id).where(one_of(events.c.id, "ids"), events.c.processed_at.is_(None))
                           .with_for_update(skip_locked=True)))
    .values(processed_at=bindparam("now"))
    .returning(*CLAIMED)
)
TOUCH = (
    update(contacts)
    .where(
        contacts.c.id == bindparam("contact_id"),
        or_(contacts.c.last_event_at.is_(None), contacts.c.last_event_at < bindparam("occurred_at")),
    )
    .values(last_event_at=bindparam("occurred_at"))
)


def newest_by_contact(claimed: Sequence[Row]) -> dict[int, datetime]:
    """When each contact's newest claimed event happened."""
    newest: dict[int, datetime] = {}
    for event in claimed:
        if event.contact_id not in newest or event.occurred_at > newest[event.contact_id]:
            newest[event.contact_id] = event.occurred_at
    return newest


def touch_contacts(claimed: Sequence[Row]) -> None:
    """Move each contact's `last_event_at` forward to its newest event."""
    newest = newest_by_contact(claimed)
    # By id, the order intake updates contacts in, so concurrent transactions never wait on each other in a cycle.
    params = [{"contact_id": contact_id, "occurred_at": at} for contact_id, at in sorted(newest.items())]
    db.session().connection().execute(TOUCH, params)


# Every processor sees each event once, in the transaction that claims it.
# Contacts are touched last: intake writes contacts too, and waits on their row locks only from then to the commit.
PROCESSORS: tuple[Callable[[Sequence[Row]], None], ...] = (
    engagement.on_events, detect.on_events, recovery.on_events, winback_events.on_events, hooks.on_events,
    touch_contacts)


def in_turns(pending: Sequence[Row]) -> list[int]:
    """Event ids in arrival order per account, each account's n-th before any account's (n+1)-th."""
    by_account: dict[int, list[int]] = defaultdict(list)
    for row in sorted(pending, key=lambda row: row.id):
        by_account[row.account_id].append(row.id)
    turns = itertools.zip_longest(*by_account.values())
    return [event_id for turn in turns for event_id in turn if event_id is not None]


@job(merge_lists=True, take=ROUND_EVENTS)
def process_events(event_ids: list[int]) -> int:
    """Process one round of the given events that no one has processed yet; hand the rest on. Safe to repeat."""
    if len(event_ids) == 1:  # nothing to take turns over: claiming it skips it if it was processed meanwhile
        return in_chunks(event_ids)
    pending = db.session().connection().execute(PENDING, {"ids": event_ids}).all()
    db.session().commit()
    ordered = in_turns(pending)
    processed = in_chunks(ordered[:ROUND_EVENTS])
    if len(ordered) > ROUND_EVENTS:
        # Queued behind what is waiting already (and merged with it in the embedded queue), so other
        # accounts' events go first.
        queue.enqueue(process_events, ordered[ROUND_EVENTS:])
    return processed


def in_chunks(event_ids: list[int]) -> int:
    """Process the events in order, one transaction a chunk, each chunk sized from the last one's pace."""
    processed, size, left = 0, FIRST_CHUNK, event_ids
    postgres, one_writer = db.session().get_bind().dialect.name == "postgresql", db.one_writer()
    while left:
        seconds = CHUNK_SECONDS * POSTGRES_CHUNK_FACTOR if postgres else (
            SHORT_CHUNK_SECONDS if one_writer and busy.light_traffic() else CHUNK_SECONDS)
        chunk, left = left[:size], left[size:]
        started = time.perf_counter()
        with busy.bulk():
            count, held = claim_and_process(chunk)
        processed += count
        # Sized by the time the chunk's transaction held the database, not by the time it waited for it (its turn
        # among bulk work, the write lock behind single events): under a stream of requests that wait made chunks of
        # a few events, each paying a chunk's fixed cost (its claim, reads and commit) for those few.
        size = max(1, min(MAX_CHUNK, int(len(chunk) * seconds / max(held, 1e-4))))
        if left:
            busy.give_way(time.perf_counter() - started)
    return processed


def hold_contacts(claimed: Sequence[Row]) -> None:
    """On PostgreSQL, take the chunk's contacts for this transaction, in key order (so never in a deadlock): a chunk
    of another process with events of the same contacts waits until this one commits, then reads what it wrote,
    instead of opening the same watches beside it. SQLite has one writer at a time already."""
    connection = db.session().connection()
    if connection.dialect.name == "postgresql":
        keys = sorted({event.contact_id % CONTACT_LOCKS for event in claimed})
        connection.execute(HOLD_CONTACTS, {"keys": keys})


def take_earlier(claimed: Sequence[Row], now: datetime) -> Sequence[Row]:
    """Claim the pending events of the claimed events' contacts that happened no later than the newest claimed of
    each (see EARLIER)."""
    connection = db.session().connection()
    newest = newest_by_contact(claimed)
    earlier = [event_id for event_id, contact_id, at in connection.execute(EARLIER, {
        "contacts": sorted(newest), "latest": max(newest.values()), "limit": MAX_CHUNK}) if at <= newest[contact_id]]
    return connection.execute(TAKE, {"ids": earlier, "now": now}).all() if earlier else []


def claim_and_process(event_ids: list[int]) -> tuple[int, float]:
    """Claim the given events that no one has processed yet and process them, in one transaction; how many were
    processed, and the seconds the transaction that did it took from its start to its commit."""
    if not event_ids:
        return 0, 0.0
    for attempt in range(ATTEMPTS):
        try:
            with db.transaction() as db_session:
                began = time.perf_counter()
                now = db.utcnow()
                claimed = list(db_session.connection().execute(CLAIM, {"ids": event_ids, "now": now}))
                if claimed:
                    hold_contacts(claimed)
                    claimed.extend(take_earlier(claimed, now))
                    for processor in PROCESSORS:
                        processor(claimed)
            return len(claimed), time.perf_counter() - began
        except (OperationalError, IntegrityError, StaleDataError) as error:
            # Another writer won a deadlock or a unique race, or changed a watch this chunk was moving on
            # (processing another event of the same contact): nothing was kept, so again, on what is there now.
            if attempt == ATTEMPTS - 1 or not (isinstance(error, StaleDataError) or db.is_race(error)):
                raise
            time.sleep(random.uniform(0, RETRY_PAUSE_SECONDS * (attempt + 1)))
    raise AssertionError("unreachable")
