"""SendGrid's Event Webhook batches, read into events of the contacts our emails went to.

Only storing happens here, one event per `sg_event_id` (a replayed batch stores nothing new); the
event job applies them (reengage.outcomes.engagement), so the webhook answers fast.
"""

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select

from reengage.intake import ingest
from reengage.models import Event, Message
from reengage.models.event import MACHINE_OPENED
from reengage.outcomes import engagement
from reengage.platform import db

log = logging.getLogger(__name__)
# SendGrid's event names and ours; processed and deferred say nothing a user acts on.
TYPES = {"delivered": "email.delivered", "open": "email.opened", "click": "email.clicked",
         "bounce": "email.bounced", "dropped": "email.dropped", "spamreport": "email.spam_reported",
         "unsubscribe": "email.unsubscribed", "group_unsubscribe": "email.unsubscribed",
         "group_resubscribe": "email.resubscribed"}
IGNORED = ("processed", "deferred")
# Except that `processed` is SendGrid saying it took a mail: kept for a message whose send is not yet recorded
# as done (cut off midway, or being retried), as it settles that message (reengage.sending.recovery).
UNSETTLED = ("sending", "queued", "scheduled", "failed")
# What of SendGrid's event is kept on ours (never the IP address).
KEPT = ("sg_message_id", "url", "reason", "status", "type", "asm_group_id", "useragent")


def store(account_id: int, batch: list[Any]) -> dict[str, Any]:
    """Store the new events of one batch and hand them on; answer what became of each."""
    rows, rejected, ignored = [], [], 0
    wanted = [i for i in (_message_id(item) for item in batch if isinstance(item, dict)) if i is not None]
    with db.transaction() as db_session:
        query = select(Message.id, Message.contact_id, Message.enrollment_id, Message.status).where(
            Message.account_id == account_id, Message.id.in_(wanted))
        messages = {m.id: m for m in db_session.execute(query)} if wanted else {}
        for index, item in enumerate(batch):
            problem = _problem(item)
            if problem:
                rejected.append({"index": index, "message": problem})
                continue
            message = messages.get(_message_id(item))
            evidence = item["event"] == "processed" and message is not None and message.status in UNSETTLED
            if (item["event"] in IGNORED and not evidence) or message is None:
                ignored += 1  # nothing to act on, or not our mail (the SendGrid account sends other mail too)
                continue
            rows.append(_row(account_id, item, message))
        statement = db.insert_new(Event.__table__).on_conflict_do_nothing().returning(Event.id)
        new_ids = list(db_session.execute(statement, rows).scalars()) if rows else []
        _settle(db_session, [item for item in batch if not _problem(item) and _message_id(item) in messages
                             and messages[_message_id(item)].status in UNSETTLED])
    if rejected:
        log.warning("SendGrid batch for account %d: %d events could not be read", account_id, len(rejected))
    if new_ids:
        ingest.process_later(new_ids)
    return {"received": len(batch), "stored": len(new_ids), "replayed": len(rows) - len(new_ids),
            "ignored": ignored, "rejected": rejected}


def _settle(db_session, items: list[dict]) -> None:
    """Record as sent, at once, the messages these events show SendGrid took although their send was cut off
    (or is still being recorded): a resend must not wait for the event job to learn it (reengage.sending.recovery)."""
    first: dict[int, dict] = {}
    for item in sorted(items, key=lambda item: item["timestamp"]):
        message_id = _message_id(item)
        if message_id is not None:
            first.setdefault(message_id, item)
    if not first:
        return
    query = select(Message).where(Message.id.in_(first), Message.status.in_(UNSETTLED), Message.attempts > 0)
    for message in db_session.scalars(query.order_by(Message.id).with_for_update()):
        item = first[message.id]
        engagement.went(message, datetime.fromtimestamp(item["timestamp"], UTC), item)


def _problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "each event must be a JSON object"
    if not isinstance(item.get("event"), str):
        return "event: missing"
    if item["event"] not in TYPES and item["event"] not in IGNORED:
        return f"event: unknown type {item['event']!r}"
    if not isinstance(item.get("sg_event_id"), str) or not item["sg_event_id"]:
        return "sg_event_id: missing"
    if not isinstance(item.get("timestamp"), int):
        return "timestamp: must be Unix seconds"
    return None


def _message_id(item: dict) -> int | None:
    value = item.get("reengage_message_id")
    return int(value) if isinstance(value, str | int) and str(value).isdigit() else None


def _row(account_id: int, item: dict, message: Row) -> dict[str, Any]:
    properties = {name: item[name] for name in KEPT if name in item}
    properties.update(message_id=message.id, enrollment_id=message.enrollment_id)
    # An open with `sg_machine_open: true` came from a privacy proxy fetching images, not from a person.
    kind = (MACHINE_OPENED if item["event"] == "open" and item.get("sg_machine_open") is True
            else TYPES.get(item["event"], f"email.{item['event']}"))
    return {"account_id": account_id, "key": f"sendgrid:{item['sg_event_id']}"[:255], "type": kind,
            "contact_id": message.contact_id, "occurred_at": datetime.fromtimestamp(item["timestamp"], UTC),
            "received_at": db.utcnow(), "properties": properties, "value": None, "currency": None,
            "source": "sendgrid", "processed_at": None}
