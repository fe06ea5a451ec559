"""Event intake: validate a whole batch, store it once per sender id, then hand it to a job."""

from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import insert, select

from reengage import db, queue
from reengage.contacts import ContactResolver
from reengage.errors import ApiError, invalid
from reengage.jobs.events import process_events
from reengage.models import Event
from reengage.schemas.event import EventBatchSchema, EventInputSchema

_single = EventInputSchema()
_batch = EventBatchSchema()


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
    try:
        if is_batch:
            return _batch.load(payload)["events"], True
        return [_single.load(payload)], False
    except ValidationError as error:
        raise invalid(error.messages) from None


def ingest(account_id: int, events: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    """Store the new events of a validated batch; answer for each whether it was new or a replay."""
    outcome = db.retry_on_conflict(lambda: _store(account_id, events, path))
    results, new_ids = outcome
    if new_ids:
        queue.enqueue(process_events, new_ids)
    return results


def _store(account_id: int, events: list[dict[str, Any]], path: str) -> tuple[list[dict[str, Any]], list[int]]:
    db_session = db.session()
    keys = {event["id"] for event in events}
    query = select(Event.key, Event.contact_id).where(Event.account_id == account_id, Event.key.in_(keys))
    seen = {key: contact_id for key, contact_id in db_session.execute(query)}
    fresh: dict[str, int] = {}
    for index, event in enumerate(events):
        if event["id"] not in seen and event["id"] not in fresh:
            fresh[event["id"]] = index
    resolver = ContactResolver(db_session, account_id)
    resolver.preload(events[index]["contact"] for index in fresh.values())
    contacts = {key: resolver.upsert(events[index]["contact"], _where(path, index)) for key, index in fresh.items()}
    db_session.flush()
    rows = [_row(account_id, events[index], contacts[key].id) for key, index in fresh.items()]
    new_ids: list[int] = []
    if rows:
        returning = insert(Event).returning(Event.id, sort_by_parameter_order=True)
        new_ids = list(db_session.scalars(returning, rows))
    results = []
    for index, event in enumerate(events):
        key = event["id"]
        created = fresh.get(key) == index
        contact_id = contacts[key].id if key in contacts else seen[key]
        results.append({"id": key, "contact_id": contact_id, "status": "created" if created else "replayed"})
    return results, new_ids


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
