"""Message Due: a webhook step of a flow is ready for Zapier, Make or your own code to deliver (SMS, Slack, mail)."""

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, select

from reengage import samples
from reengage.models import Flow, Message
from reengage.models.message import PUBLISHED as PUBLISHED_INDEXED
from reengage.schemas.compiled import dumper
from reengage.schemas.contact import ContactSchema
from reengage.sequencing.definition import HINTS
from triggers.polling import Filter, Trigger, contacts, equal, rows

# Sent and later states: the message was published and stays listed.
PUBLISHED = ("sent", "delivered", "opened", "clicked")


class Recipient(Schema):
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class MessageDueItem(Schema):
    """A message to deliver, with everything needed to deliver it."""

    id = fields.Integer(metadata={"description": "The message's id (stable: deliver each once)."})
    enrollment_id = fields.Integer()
    flow = fields.String()
    phase = fields.Integer()
    step = fields.String()
    variant = fields.String(allow_none=True)
    hint = fields.String(allow_none=True, metadata={"description": "The channel the step asks for (sms, slack...)."})
    subject = fields.String(allow_none=True)
    text = fields.String()
    cta_label = fields.String()
    cta_url = fields.String()
    unsubscribe_url = fields.String()
    to = fields.Nested(Recipient)
    due_at = fields.AwareDateTime()
    published_at = fields.AwareDateTime()
    contact = fields.Nested(ContactSchema)


_ITEM = dumper(MessageDueItem())
_COLUMNS = ("enrollment_id", "flow_id", "contact_id", "phase", "step", "variant", "content", "due_at", "sent_at")


def query(account_id: int) -> Select[int]:
    """The account's published webhook messages (joined to their flows, which the `flow` filter reads)."""
    return (select(Message.id).join(Flow, Flow.id == Message.flow_id)
            .where(Message.account_id == account_id, PUBLISHED_INDEXED, Message.status.in_(PUBLISHED)))


def render(ids: list[int]) -> list[dict[str, Any]]:
    """Each message as a platform delivers it."""
    found = rows(Message, ids, *_COLUMNS)
    flows = {row["id"]: row["key"] for row in rows(Flow, {m["flow_id"] for m in found.values()}, "key").values()}
    people = contacts({message["contact_id"] for message in found.values()})
    return [_ITEM({
        "id": message["id"], "enrollment_id": message["enrollment_id"], "flow": flows[message["flow_id"]],
        "phase": message["phase"], "step": message["step"], "variant": message["variant"],
        **_content(message["content"]), "due_at": message["due_at"], "published_at": message["sent_at"],
        "contact": people[message["contact_id"]],
    }) for message in (found[id_] for id_ in ids if id_ in found)]


def _content(content: dict[str, Any]) -> dict[str, Any]:
    texts = {name: content.get(name) or "" for name in ("text", "cta_label", "cta_url", "unsubscribe_url")}
    return {"hint": content.get("hint"), "subject": content.get("subject"), "to": content.get("to") or {}, **texts}


TRIGGER = Trigger(
    key="message.due",
    noun="Message",
    label="Message Due",
    description="Triggers when a flow's webhook step comes due: deliver its text by SMS, WhatsApp, Slack, a call "
                "task or mail. Quiet hours, consent and the frequency cap were already checked.",
    filters=(
        Filter("flow", fields.String(), equal(Flow.key), description="Only messages of this flow (its key)."),
        Filter("phase", fields.Integer(validate=validate.Range(1, 5)), equal(Message.phase),
               description="Only messages of this phase (1-5)."),
        Filter("hint", fields.String(validate=validate.OneOf(HINTS)),
               lambda value: Message.content["hint"].as_string() == value,
               description="Only messages whose step asks for this channel."),
    ),
    order=(Message.sent_at, Message.id),
    item=MessageDueItem,
    sample={
        "id": 301, "enrollment_id": 12, "flow": "sales", "phase": 1, "step": "1.text-nudge", "variant": None,
        "hint": "sms", "subject": None, "text": "Hi Dana, your application is one step from done.",
        "cta_label": "Finish it", "cta_url": "https://app.example.com/resume/abc123",
        "unsubscribe_url": "https://reengage.example.com/u/Zm9v",
        "to": {"email": samples.CONTACT["email"], "phone": samples.CONTACT["phone"]},
        "due_at": "2026-11-21T16:00:00+00:00", "published_at": "2026-11-21T16:00:01+00:00",
        "contact": {**samples.CONTACT, "properties": {}, "consent": {"sms": True}},
    },
    query=query,
    render=render,
    cursor_field="published_at",
)
