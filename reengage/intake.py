"""Event intake: validate a whole batch, store it once per sender id, then hand it to a job.

Concurrent requests of one process are stored together (group commit): the first to arrive
leads and writes everything pending in one transaction, so a commit and its round trips are
shared. A shared transaction that fails is split, and each request is stored on its own, so
one caller's bad data never fails another caller's request.
"""

import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from marshmallow import ValidationError
from sqlalchemy import bindparam, insert, select

from reengage import db, queue
from reengage.contacts import ContactResolver
from reengage.errors import ApiError, invalid
from reengage.jobs.events import process_events
from reengage.models import Event
from reengage.schemas import fastload
from reengage.schemas.event import EventBatchSchema, EventInputSchema

_single = EventInputSchema()
_batch = EventBatchSchema()
# A leader stops adding requests to its transaction past this many events.
GROUP_EVENTS = 2000
# How long a leader waits for requests that are already being validated to join its group.
GROUP_WAIT_SECONDS = 0.002

events_table = Event.__table__
# Built once: these run for every request, and building a statement costs more than running it.
STORED = select(events_table.c.key, events_table.c.contact_id, events_table.c.id).where(
    events_table.c.account_id == bindparam("account_id"), events_table.c.key.in_(bindparam("keys", expanding=True))
)
INSERT = insert(events_table)
INSERT_RETURNING = insert(events_table).returning(events_table.c.id)
# A many-row INSERT ... RETURNING is several times slower on psycopg than a plain executemany;
# past this many rows, the new ids are read back through the unique index instead.
RETURNING_ROWS = 50


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
    raw_events = payload["events"] if is_batch and payload.keys() == {"events"} else [payload]
    if not is_batch or (type(raw_events) is list and raw_events):
        quick = [fastload.load(_single, raw) for raw in raw_events]
        if None not in quick:
            return quick, is_batch
    try:
        if is_batch:
            return _batch.load(payload)["events"], True
        return [_single.load(payload)], False
    except ValidationError as error:
        raise invalid(error.messages) from None


@contextmanager
def arrival() -> Iterator["Arrival"]:
    """Announce a request that will submit events, so a leader can wait for it to join."""
    group: GroupCommit = current_app.extensions["intake"]
    token = group.arrive()
    try:
        yield token
    finally:
        group.leave(token)


def ingest(account_id: int, events: list[dict[str, Any]], path: str, token: "Arrival | None" = None) -> list[dict]:
    """Store the new events of a validated batch; answer for each whether it was new or a replay."""
    return current_app.extensions["intake"].submit(Submission(account_id, events, path), token)


@dataclass(eq=False)
class Arrival:
    """A request between its arrival and its submission (or its failure)."""

    waiting: bool = True


@dataclass(eq=False)
class Submission:
    """One request's validated events, waiting to be stored."""

    account_id: int
    events: list[dict[str, Any]]
    path: str
    woken: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    results: list[dict[str, Any]] | None = None
    error: BaseException | None = None

    def outcome(self) -> list[dict[str, Any]]:
        if self.error is not None:
            raise self.error
        assert self.results is not None
        return self.results


class GroupCommit:
    """Stores the submissions of one process's concurrent requests in shared transactions."""

    def __init__(self, app: Flask):
        self.app = app
        self._lock = threading.Condition()
        self._pending: deque[Submission] = deque()
        self._leading = False
        self._arriving = 0

    def arrive(self) -> Arrival:
        """Count a request that is on its way to `submit`."""
        with self._lock:
            self._arriving += 1
        return Arrival()

    def leave(self, token: Arrival) -> None:
        """Stop counting `token` (a request that failed before it submitted)."""
        with self._lock:
            self._depart(token)

    def _depart(self, token: Arrival | None) -> None:
        if token is not None and token.waiting:
            token.waiting = False
            self._arriving -= 1
            self._lock.notify_all()

    def submit(self, submission: Submission, token: Arrival | None = None) -> list[dict[str, Any]]:
        """Store `submission` (leading a group, or waiting for the leader) and answer for it."""
        with self._lock:
            self._pending.append(submission)
            self._depart(token)
            lead = not self._leading
            self._leading = True
        if not lead:
            submission.woken.wait()
            if submission.finished:
                return submission.outcome()
        # Leading: store groups until our own is done, then pass the lead to a waiting request.
        try:
            while not submission.finished:
                self._store_group(self._take())
        finally:
            with self._lock:
                if self._pending:
                    self._pending[0].woken.set()
                else:
                    self._leading = False
        return submission.outcome()

    def _take(self) -> list[Submission]:
        group: list[Submission] = []
        size = 0
        with self._lock:
            # Requests already being validated are about to submit: a moment's wait lets them
            # share this transaction. A request that arrives alone never waits.
            self._lock.wait_for(lambda: self._arriving == 0, timeout=GROUP_WAIT_SECONDS)
            while self._pending and (not group or size + len(self._pending[0].events) <= GROUP_EVENTS):
                group.append(self._pending.popleft())
                size += len(group[-1].events)
        return group

    def _store_group(self, group: list[Submission]) -> None:
        try:
            try:
                outcomes, new_ids = db.retry_on_conflict(lambda: _store(group))
                for submission, results in zip(group, outcomes, strict=True):
                    submission.results = results
            except Exception:
                if len(group) == 1:
                    raise
                new_ids = []
                for submission in group:
                    new_ids.extend(self._store_alone(submission))
            if new_ids:
                queue.enqueue(process_events, new_ids)
        except Exception as error:
            for submission in group:
                if submission.results is None and submission.error is None:
                    submission.error = error
        finally:
            for submission in group:
                submission.finished = True
                submission.woken.set()

    def _store_alone(self, submission: Submission) -> list[int]:
        try:
            (results,), new_ids = db.retry_on_conflict(lambda: _store([submission]))
        except Exception as error:
            submission.error = error
            return []
        submission.results = results
        return new_ids


def _store(group: list[Submission]) -> tuple[list[list[dict[str, Any]]], list[int]]:
    """Write every submission's new events in the current transaction, with few round trips."""
    db_session = db.session()
    connection = db_session.connection()
    keys_by_account: dict[int, set[str]] = defaultdict(set)
    for submission in group:
        keys_by_account[submission.account_id].update(event["id"] for event in submission.events)
    seen: dict[tuple[int, str], int] = {}
    for account, keys in keys_by_account.items():
        for key, contact_id, _ in connection.execute(STORED, {"account_id": account, "keys": list(keys)}):
            seen[(account, key)] = contact_id

    fresh: list[tuple[Submission, int, dict[str, Any]]] = []
    claimed: set[tuple[int, str]] = set()
    for submission in group:
        for index, event in enumerate(submission.events):
            pair = (submission.account_id, event["id"])
            if pair not in seen and pair not in claimed:
                claimed.add(pair)
                fresh.append((submission, index, event))

    resolver = ContactResolver(db_session)
    resolver.preload((submission.account_id, event["contact"]) for submission, _, event in fresh)
    contacts = {
        (submission.account_id, event["id"]): resolver.upsert(
            submission.account_id, event["contact"], _where(submission.path, index)
        )
        for submission, index, event in fresh
    }
    db_session.flush()
    new_ids: list[int] = []
    if fresh:
        rows = [_row(submission.account_id, event, contacts[(submission.account_id, event["id"])].id)
                for submission, _, event in fresh]
        if len(rows) <= RETURNING_ROWS:
            new_ids = list(connection.execute(INSERT_RETURNING, rows).scalars())
        else:
            connection.execute(INSERT, rows)
            fresh_keys: dict[int, list[str]] = defaultdict(list)
            for submission, _, event in fresh:
                fresh_keys[submission.account_id].append(event["id"])
            for account, keys in fresh_keys.items():
                new_ids.extend(row.id for row in connection.execute(STORED, {"account_id": account, "keys": keys}))

    stored = {(submission, index) for submission, index, _ in fresh}
    outcomes = []
    for submission in group:
        results = []
        for index, event in enumerate(submission.events):
            pair = (submission.account_id, event["id"])
            contact_id = contacts[pair].id if pair in contacts else seen[pair]
            status = "created" if (submission, index) in stored else "replayed"
            results.append({"id": event["id"], "contact_id": contact_id, "status": status})
        outcomes.append(results)
    return outcomes, new_ids


def _row(account_id: int, event: dict[str, Any], contact_id: int) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "key": event["id"],
        "type": event["type"],
        "contact_id": contact_id,
        "occurred_at": event["occurred_at"],
        "received_at": db.utcnow(),
        "properties": event["properties"],
        "value": event.get("value"),
        "currency": event.get("currency"),
        "source": event.get("source"),
    }


def _where(path: str, index: int) -> str:
    return f"{path}[{index}].contact" if path else "contact"


def init_app(app: Flask) -> None:
    """Give the app its group committer."""
    app.extensions["intake"] = GroupCommit(app)
