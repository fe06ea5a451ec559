"""Contact Engaged: someone opened or clicked one of our emails, or replied to a message."""

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, select

from reengage import samples
from reengage.models import Event, Flow, Message
from reengage.models.event import ENGAGED, ENGAGEMENT_TYPES
from reengage.platform import db
from reengage.schemas.compiled import dumper
from reengage.schemas.contact import ContactSchema
from triggers.polling import Filter, Trigger, contacts, rows

KINDS = ("opened", "clicked", "replied")


class EngagementItem(Schema):
    """One engagement, with the message it answered when known."""

    id = fields.Integer(metadata={"description": "The event's id."})
    engagement = fields.String(metadata={"enum": list(KINDS)})
    type = fields.String()
    occurred_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime(metadata={"description": "When Reengage learnt of it: items are listed by it."})
    url = fields.String(allow_none=True, metadata={"description": "The link clicked."})
    message_id = fields.Integer(allow_none=True)
    flow = fields.String(allow_none=True)
    phase = fields.Integer(allow_none=True)
    step = fields.String(allow_none=True)
    contact = fields.Nested(ContactSchema)


_ITEM = dumper(EngagementItem())
_COLUMNS = ("account_id", "contact_id", "type", "occurred_at", "received_at", "properties")


def query(account_id: int) -> Select[int]:
    """The account's engagement events."""
    return select(Event.id).where(Event.account_id == account_id, ENGAGED)


def render(ids: list[int]) -> list[dict[str, Any]]:
    """Each engagement with the message it answered."""
    found = rows(Event, ids, *_COLUMNS)
    events = [found[id_] for id_ in ids if id_ in found]
    people = contacts({event["contact_id"] for event in events})
    wanted = {_message_id(event) for event in events} - {None}
    messages = {}
    if wanted:
        query = (select(Message.id, Message.phase, Message.step, Message.account_id, Flow.key)
                 .join(Flow, Flow.id == Message.flow_id).where(Message.id.in_(wanted)))
        messages = {row.id: row for row in db.session().execute(query)}
    answered = []
    for event in events:
        message = messages.get(_message_id(event))
        if message is not None and message.account_id != event["account_id"]:
            message = None
        url = (event["properties"] or {}).get("url")
        answered.append(_ITEM({
            "id": event["id"], "engagement": ENGAGEMENT_TYPES[event["type"]], "type": event["type"],
            "occurred_at": event["occurred_at"], "received_at": event["received_at"],
            "url": url if isinstance(url, str) else None, "message_id": message.id if message else None,
            "flow": message.key if message else None, "phase": message.phase if message else None,
            "step": message.step if message else None, "contact": people[event["contact_id"]]}))
    return answered


def _message_id(event: dict[str, Any]) -> int | None:
    value = (event["properties"] or {}).get("message_id")
    return value if isinstance(value, int) else None


TRIGGER = Trigger(
    key="contact.engaged",
    noun="Engagement",
    label="Contact Engaged",
    description="Triggers when a contact opens or clicks a Reengage email (from SendGrid's event webhook) or replies "
                "(an `email.replied` or `sms.replied` event you record).",
    filters=(
        Filter("engagement", fields.String(validate=validate.OneOf(KINDS)),
               lambda value: Event.type.in_([t for t, kind in ENGAGEMENT_TYPES.items() if kind == value]),
               description="Only this kind of engagement."),
    ),
    # Newest by arrival: an open reported late still reaches the first page.
    order=(Event.received_at, Event.id),
    item=EngagementItem,
    sample={
        "id": 9051, "engagement": "clicked", "type": "email.clicked", "occurred_at": "2026-11-22T10:00:00+00:00",
        "received_at": "2026-11-22T10:00:02+00:00",
        "url": "https://app.example.com/resume/abc123", "message_id": 301, "flow": "sales", "phase": 1,
        "step": "1.reminder",
        "contact": {**samples.CONTACT, "phone": None, "properties": {}, "updated_at": "2026-11-22T10:00:00+00:00",
                    "last_event_at": "2026-11-22T10:00:00+00:00", "engagement": 4,
                    "engaged_at": "2026-11-22T10:00:00+00:00"},
    },
    query=query,
    render=render,
)
