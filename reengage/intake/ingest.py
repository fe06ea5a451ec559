"""Event intake: validate a whole batch, store it once per sender id, then hand it to a job.

Concurrent requests of one process are written together (see group_commit). A batch of more than CHUNK_EVENTS
events (of more than WHOLE_EVENTS, on SQLite while light requests come in) is matched to contacts whole first (a
conflict refuses all of it, before anything is stored), then written CHUNK_EVENTS (SHORT_CHUNK_EVENTS) at a time,
each chunk its own transaction: the database's write lock is held for a chunk, never for a large batch, so other
accounts' writes get in between. The batch is answered only once every chunk is committed. When a later chunk fails,
the first ones stay stored and the error says so; since events are stored once per sender id,
posting the same batch again stores the rest, and answers the others `replayed`.
"""

import functools
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from marshmallow import ValidationError
from sqlalchemy import Connection, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from reengage.intake import fastload
from reengage.intake.contact_rows import ContactRace, ContactRows
from reengage.intake.group_commit import LARGE_GROUP_ITEMS, SMALL_ITEMS, Arrival, GroupCommit, Submission
from reengage.intake.schemas import EventBatchSchema, EventInputSchema
from reengage.models import Event
from reengage.platform import busy, db, metrics, queue
from reengage.platform.errors import ApiError, invalid
from reengage.platform.listed import one_of_within

log = logging.getLogger(__name__)
_single = EventInputSchema()
_batch = EventBatchSchema()
events_table = Event.__table__
# Built once: these run for every request, and building a statement costs more than running it.
STORED = select(events_table.c.key, events_table.c.contact_id, events_table.c.id).where(
    one_of_within(events_table.c.account_id, "account_id", events_table.c.key, "keys"))
INSERT = insert(events_table)
# A transaction-scoped lock per account that intake's retries queue on (the base keeps clear of other keys).
SERIALIZE = text("SELECT pg_advisory_xact_lock(:key)")
ADVISORY_BASE = 0x52450000_00000000
INSERT_RETURNING = insert(events_table).returning(events_table.c.id)
# A many-row INSERT ... RETURNING is several times slower on psycopg than a plain executemany;
# past this many rows, the new ids are read back through the unique index instead.
RETURNING_ROWS = 50
# Tries of a transaction that met a concurrent writer; the tries after the first queue on a lock per account.
ATTEMPTS = 4
# Events of a batch written in one transaction. Storing takes about 40 µs an event on SQLite, so a chunk holds its
# write lock about as long as a chunk of processing does (reengage.jobs.events.CHUNK_SECONDS); a batch of at most
# this many is written whole, matched once (a batch written in parts is matched whole first, then part by part).
CHUNK_EVENTS = 500
# A batch of at most this many is written whole however busy the database is (a group of larger submissions).
WHOLE_EVENTS = LARGE_GROUP_ITEMS
# As many while light requests come in and the database has one writer at a time (SQLite): they wait for the chunk
# holding its lock, so it holds it in shorter turns then (see busy.light_traffic).
SHORT_CHUNK_EVENTS = 25


def parse(payload: Any) -> tuple[list[dict[str, Any]], bool]:
    """Validate one event or `{"events": [...]}`; return the events and whether it was a batch."""
    if not isinstance(payload, dict):
        raise ApiError(422, "validation_error", "The body must be a JSON object: one event or {\"events\": [...]}.",
                       {"fields": [{"field": "body", "message": "Must be a JSON object."}]})
    is_batch = "events" in payload
    if is_batch and isinstance(payload["events"], list):
        limit = current_app.config["MAX_EVENTS_PER_REQUEST"]
        if len(payload["events"]) > limit:
            message = f"At most {limit} events per request; split the batch."
            raise ApiError(422, "validation_error", f"Invalid input: events: {message}",
                           {"fields": [{"field": "events", "message": message}]})
    raw_events = payload["events"] if is_batch else [payload]
    well_formed = not is_batch or (payload.keys() == {"events"} and type(raw_events) is list and raw_events)
    if well_formed:
        quick = [fastload.load(_single, raw) for raw in raw_events]
        loaded = [event for event in quick if event is not None]
        if len(loaded) == len(quick):
            return loaded, is_batch
    try:
        if is_batch:
            return _batch.load(payload)["events"], True
        return [_single.load(payload)], False
    except ValidationError as error:
        raise invalid(error.messages) from None


@contextmanager
def arrival() -> Iterator[Arrival]:
    """Announce a request that will submit events, so a leader can wait for it to join."""
    group: GroupCommit = current_app.extensions["intake"]
    token = group.arrive()
    try:
        yield token
    finally:
        group.leave(token)


def ingest(account_id: int, events: list[dict[str, Any]], path: str, token: Arrival | None = None) -> list[dict]:
    """Store the new events of a validated batch; answer for each whether it was new or a replay."""
    group: GroupCommit = current_app.extensions["intake"]
    if len(events) <= WHOLE_EVENTS:
        return group.submit(Submission(Batch(account_id, events, path), len(events)), token)
    # Bulk work from here on: it takes its turn among bulk work and gives way to light requests (see busy).
    busy.heavy()
    # Written whole or in parts, decided once: a batch matched part by part only was not refused whole first.
    whole = len(events) <= chunk_events()
    try:
        if not whole:
            check_contacts(account_id, events, path)
    finally:
        if token is not None:
            group.leave(token)
    results: list[dict] = []
    took, start = 0.0, 0
    while start < len(events):
        part = events[start:] if whole else events[start:start + chunk_events()]
        # Light requests of this process in progress (a single event) go before the next chunk, for as long
        # as the last one took.
        busy.give_way(took)
        started = time.monotonic()
        try:
            with busy.bulk():
                results.extend(group.submit(Submission(Batch(account_id, part, path, start), len(part))))
        except ApiError:
            raise
        except Exception as error:
            if not start:
                raise
            log.exception("a batch's chunk at %d failed after %d events were stored", start, start)
            raise ApiError(503, "unavailable", f"Only the first {start} of the {len(events)} events were stored; "
                           "post the batch again: those stored are answered replayed, the others stored.",
                           {"stored": start}, headers={"Retry-After": "1"}) from error
        took = time.monotonic() - started
        start += len(part)
    return results


def chunk_events() -> int:
    """Events of a large batch written in one transaction now (see SHORT_CHUNK_EVENTS)."""
    return SHORT_CHUNK_EVENTS if db.one_writer() and busy.light_traffic() else CHUNK_EVENTS


def check_contacts(account_id: int, events: list[dict[str, Any]], path: str) -> None:
    """Match the contacts of a batch's new events as storing it would, writing nothing: raise its conflict."""
    connection = db.session().connection()
    try:
        stored = {key for key, _, _ in connection.execute(STORED, {"account_id": account_id,
                                                                   "keys": list({e["id"] for e in events})})}
        fresh, claimed = [], set()
        for index, event in enumerate(events):
            if event["id"] not in stored and event["id"] not in claimed:
                claimed.add(event["id"])
                fresh.append((index, event))
        matcher = ContactRows(connection)
        matcher.preload((account_id, event["contact"]) for _, event in fresh)
        for index, event in fresh:
            matcher.upsert(account_id, event["contact"], _where(path, index))
    finally:
        db.session().rollback()


@dataclass(eq=False)
class Batch:
    """One request's validated events (or a chunk of them, `offset` events into the request's)."""

    account_id: int
    events: list[dict[str, Any]]
    path: str
    offset: int = 0


def _store(group: list[Batch], connection: Connection) -> tuple[list[list[dict[str, Any]]], list[int]]:
    """Write every batch's new events in the connection's transaction, with few round trips."""
    keys_by_account: dict[int, set[str]] = defaultdict(set)
    for batch in group:
        keys_by_account[batch.account_id].update(event["id"] for event in batch.events)
    seen: dict[tuple[int, str], int] = {}
    for account, keys in keys_by_account.items():
        for key, contact_id, _ in connection.execute(STORED, {"account_id": account, "keys": list(keys)}):
            seen[(account, key)] = contact_id

    fresh: list[tuple[Batch, int, dict[str, Any]]] = []
    claimed: set[tuple[int, str]] = set()
    for batch in group:
        for index, event in enumerate(batch.events):
            pair = (batch.account_id, event["id"])
            if pair not in seen and pair not in claimed:
                claimed.add(pair)
                fresh.append((batch, index, event))

    resolver = ContactRows(connection)
    resolver.preload((batch.account_id, event["contact"]) for batch, _, event in fresh)
    contacts = {
        (batch.account_id, event["id"]): resolver.upsert(
            batch.account_id, event["contact"], _where(batch.path, batch.offset + index)
        )
        for batch, index, event in fresh
    }
    resolver.insert()
    new_ids: list[int] = []
    if fresh:
        # In key order, as every transaction inserts them: concurrent replays wait for each other, never deadlock.
        fresh.sort(key=lambda item: (item[0].account_id, item[2]["id"]))
        rows = [_row(batch.account_id, event, contacts[(batch.account_id, event["id"])].id)
                for batch, _, event in fresh]
        if len(rows) <= RETURNING_ROWS:
            new_ids = list(connection.execute(INSERT_RETURNING, rows).scalars())
        else:
            connection.execute(INSERT, rows)
            fresh_keys: dict[int, list[str]] = defaultdict(list)
            for batch, _, event in fresh:
                fresh_keys[batch.account_id].append(event["id"])
            for account, account_keys in fresh_keys.items():
                new_ids.extend(row.id for row in connection.execute(STORED, {"account_id": account,
                                                                             "keys": account_keys}))

    resolver.update()
    stored = {(batch, index) for batch, index, _ in fresh}
    outcomes = []
    for batch in group:
        results = []
        for index, event in enumerate(batch.events):
            pair = (batch.account_id, event["id"])
            contact_id = contacts[pair].id if pair in contacts else seen[pair]
            status = "created" if (batch, index) in stored else "replayed"
            results.append({"id": event["id"], "contact_id": contact_id, "status": status})
        outcomes.append(results)
    metrics.EVENTS_RECEIVED.labels("created").inc(len(stored))
    metrics.EVENTS_RECEIVED.labels("replayed").inc(sum(len(batch.events) for batch in group) - len(stored))
    return outcomes, new_ids


def _row(account_id: int, event: dict[str, Any], contact_id: int | None) -> dict[str, Any]:
    received = db.utcnow()
    return {
        "account_id": account_id,
        "key": event["id"],
        "type": event["type"],
        "contact_id": contact_id,
        "occurred_at": event.get("occurred_at") or received,
        "received_at": received,
        "properties": event["properties"],
        "value": event.get("value"),
        "currency": event.get("currency"),
        "source": event.get("source"),
    }


def _where(path: str, index: int) -> str:
    return f"{path}[{index}].contact" if path else "contact"


def _store_in_transaction(group: list[Batch]) -> tuple[list[list[dict[str, Any]]], list[int]]:
    """Store the group; when a concurrent writer got there first, again, then queued behind the others."""
    accounts = sorted({batch.account_id for batch in group})
    # Single events and small batches go before the next chunk of a large one waiting for the write lock.
    urgent = all(len(batch.events) <= SMALL_ITEMS for batch in group)
    for attempt in range(ATTEMPTS):
        try:
            with db.write_connection(urgent=urgent) as connection:
                if attempt:
                    serialize(connection, accounts)
                return _store(group, connection)
        except (ContactRace, IntegrityError, OperationalError) as error:
            if not isinstance(error, ContactRace) and not db.is_race(error):
                raise
    raise ApiError(503, "unavailable", "Concurrent requests kept writing the same contacts; retry shortly.",
                   headers={"Retry-After": "1"})


def serialize(connection: Connection, accounts: list[int]) -> None:
    """Queue this transaction behind others writing the accounts' contacts (PostgreSQL; SQLite has one writer)."""
    if connection.dialect.name == "postgresql":
        for account in accounts:  # in one order, so two transactions never wait for each other's lock
            connection.execute(SERIALIZE, {"key": ADVISORY_BASE + account})


def _enqueue_processing(process: Callable[[list[int]], Any], event_ids: list[int]) -> None:
    # The events are committed: a queue that is down must not turn their answer into an error.
    # The clock hands events left unprocessed to a job again.
    try:
        queue.enqueue(process, event_ids)
    except Exception:
        log.exception("could not enqueue processing of %d stored events; the clock will retry", len(event_ids))


def process_later(event_ids: list[int]) -> None:
    """Hand events stored outside `ingest` (e.g. email events) to the app's processing job."""
    _enqueue_processing(current_app.extensions["intake.process"], event_ids)


def init_app(app: Flask, process: Callable[[list[int]], Any]) -> None:
    """Give the app its group committer for events, which hands what it stored to the job `process`."""
    app.extensions["intake.process"] = process
    # A group of single events and small batches waits for its turn as urgent writers do (see db.WriteLock).
    app.extensions["intake"] = GroupCommit(_store_in_transaction, functools.partial(_enqueue_processing, process),
                                           chunk_events, turn=lambda small: db.write_lock(urgent=small))
