"""Contact Recovered: a dropoff converted after all, with the revenue and the flow, phase and message credited."""

from typing import Any, cast

from marshmallow import Schema, fields
from sqlalchemy import Select, select

from reengage import samples
from reengage.models import Dropoff, Enrollment, Flow, Message
from reengage.models.dropoff import RECOVERED
from reengage.platform import db
from reengage.schemas.compiled import dumper
from reengage.schemas.contact import ContactSchema
from triggers.polling import Filter, Trigger, contacts, equal, rows


class RecoveryItem(Schema):
    """A recovered dropoff and what it is credited to."""

    id = fields.Integer(metadata={"description": "The dropoff's id (a dropoff is recovered once)."})
    dropoff_id = fields.Integer()
    scenario = fields.String()
    stage = fields.String()
    rule = fields.String()
    value_at_risk = fields.Float(allow_none=True)
    revenue = fields.Float(allow_none=True)
    currency = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime(metadata={"description": "When the contact dropped off."})
    recovered_at = fields.AwareDateTime()
    recovery_seconds = fields.Integer(allow_none=True)
    flow = fields.String(allow_none=True, metadata={"description": "The flow credited (null: none was running)."})
    phase = fields.Integer(allow_none=True, metadata={"description": "The phase of the message credited."})
    step = fields.String(allow_none=True)
    variant = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    message_id = fields.Integer(allow_none=True, metadata={"description": "Null when no message went before it."})
    contact = fields.Nested(ContactSchema)


_ITEM = dumper(RecoveryItem())
_COLUMNS = ("contact_id", "scenario", "stage", "rule_key", "value_at_risk", "revenue", "currency", "occurred_at",
            "recovered_at", "recovery_seconds", "credited_message_id")


def query(account_id: int) -> Select[int]:
    """The account's recovered dropoffs."""
    return select(Dropoff.id).where(Dropoff.account_id == account_id, RECOVERED)  # a retracted one has none


def render(ids: list[int]) -> list[dict[str, Any]]:
    """Each recovery with the message it is credited to."""
    found = rows(Dropoff, ids, *_COLUMNS)
    dropoffs = [found[id_] for id_ in ids if id_ in found]
    credited = _credited(dropoffs)
    people = contacts({dropoff["contact_id"] for dropoff in dropoffs})
    return [_ITEM({
        "id": dropoff["id"], "dropoff_id": dropoff["id"], "scenario": dropoff["scenario"], "stage": dropoff["stage"],
        "rule": dropoff["rule_key"], "value_at_risk": dropoff["value_at_risk"], "revenue": dropoff["revenue"],
        "currency": dropoff["currency"], "occurred_at": dropoff["occurred_at"],
        "recovered_at": dropoff["recovered_at"], "recovery_seconds": dropoff["recovery_seconds"],
        **credited.get(dropoff["id"], {}), "contact": people[dropoff["contact_id"]],
    }) for dropoff in dropoffs]


def _credited(dropoffs: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Per dropoff: the message its recovery was credited to (reengage.results.tally), else the flow it was in."""
    if not dropoffs:
        return {}
    session = db.session()
    credited: dict[int, dict[str, Any]] = {}
    # A dropoff enrolled in several flows names its first; a credited message names its own.
    for dropoff_id, flow in session.execute(
            select(Enrollment.dropoff_id, Flow.key).join(Flow, Flow.id == Enrollment.flow_id)
            .where(Enrollment.dropoff_id.in_([dropoff["id"] for dropoff in dropoffs])).order_by(Enrollment.id.desc())):
        # Only enrollments of these dropoffs are read, so the nullable column holds an id here.
        credited[cast(int, dropoff_id)] = {"flow": flow, "phase": None, "step": None, "variant": None, "channel": None,
                                "message_id": None}
    by_message = {dropoff["credited_message_id"]: dropoff["id"] for dropoff in dropoffs
                  if dropoff["credited_message_id"]}
    if by_message:
        for message in session.execute(
                select(Message.id, Message.phase, Message.step, Message.variant, Message.channel, Flow.key)
                .join(Flow, Flow.id == Message.flow_id).where(Message.id.in_(list(by_message)))):
            credited[by_message[message.id]] = {
                "flow": message.key, "phase": message.phase, "step": message.step, "variant": message.variant,
                "channel": message.channel, "message_id": message.id}
    return credited


TRIGGER = Trigger(
    key="contact.recovered",
    noun="Recovery",
    label="Contact Recovered",
    description="Triggers when someone who dropped off converts: the revenue, how long it took, and the flow, phase "
                "and message credited (the last one sent before the conversion, within the account's attribution "
                "window). A dropoff retracted because its goal happened before the deadline (and arrived late) is "
                "a false alarm, not a recovery: it never appears here.",
    filters=(
        Filter("scenario", fields.String(), equal(Dropoff.scenario), description="Only this scenario."),
        Filter("stage", fields.String(), equal(Dropoff.stage), description="Only this funnel stage."),
        Filter("rule", fields.String(), equal(Dropoff.rule_key), description="Only dropoffs of this rule (its key)."),
    ),
    order=(Dropoff.recovered_at, Dropoff.id),
    item=RecoveryItem,
    sample={
        "id": 7, "dropoff_id": 7, "scenario": "sales.application_abandoned", "stage": "sales",
        "rule": "application_abandoned", "value_at_risk": 249.0, "revenue": 249.0, "currency": "USD",
        "occurred_at": "2026-11-21T15:04:05+00:00", "recovered_at": "2026-11-23T09:30:00+00:00",
        "recovery_seconds": 152755, "flow": "sales", "phase": 1, "step": "1.reminder", "variant": "B",
        "channel": "email", "message_id": 301,
        "contact": {**samples.CONTACT, "phone": None, "properties": {}, "updated_at": "2026-11-23T09:30:00+00:00",
                    "last_event_at": "2026-11-23T09:30:00+00:00", "engagement": 3,
                    "engaged_at": "2026-11-22T10:00:00+00:00"},
    },
    query=query,
    render=render,
)
