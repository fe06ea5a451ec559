"""Record that a contact converted: their active dropoffs are recovered and their watches end."""

from datetime import UTC
from typing import Any, cast

from marshmallow import Schema, fields, validate
from sqlalchemy import CursorResult, select, text, update

from actions.action import Action
from reengage.intake import contacts
from reengage.models import Dropoff, Rule, Watch
from reengage.outcomes.recovery import recover
from reengage.platform import db
from reengage.platform.errors import ApiError
from reengage.platform.fields import Int64, Money
from reengage.schemas.contact import ContactRefSchema

ACTIVE = text("dropoffs.status IN ('open', 'enrolled')")


class RecordConversionInput(ContactRefSchema):
    dropoff_id = Int64(metadata={"description": "Only this dropoff (and its rule's watch)."})
    rule = fields.String(metadata={"description": "Only this rule's dropoffs and watches (its key)."})
    value = Money(allow_none=True, metadata={"description": "Revenue the conversion brought.", "example": 249.0})
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"), metadata={"example": "USD"})
    occurred_at = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "Defaults to now."})


class RecordConversionOutput(Schema):
    contact_id = fields.Integer(metadata={"example": 42})
    recovered = fields.List(fields.Integer(), metadata={"description": "Ids of the dropoffs recovered.",
                                                        "example": [7]})
    watches_closed = fields.Integer(metadata={"example": 1})


def perform(account_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Recover the contact's active dropoffs (only those asked for) and close the matching watches."""
    at = data.get("occurred_at") or db.utcnow()
    with db.transaction() as db_session:
        contact_id = contacts.find(db_session, account_id, data).id
        dropoffs = select(Dropoff).where(ACTIVE, Dropoff.account_id == account_id, Dropoff.contact_id == contact_id)
        watches = update(Watch).where(Watch.account_id == account_id, Watch.contact_id == contact_id,
                                      Watch.status == "open")
        if "rule" in data:
            rule_id = db_session.scalar(select(Rule.id).where(Rule.account_id == account_id, Rule.key == data["rule"]))
            keyed = select(Dropoff.id).where(Dropoff.account_id == account_id, Dropoff.rule_key == data["rule"])
            # A deleted rule's dropoffs keep its key, so the key may still name something to recover.
            if rule_id is None and db_session.scalar(keyed.limit(1)) is None:
                raise ApiError(404, "not_found", f"No rule {data['rule']!r} in this account.")
            dropoffs = dropoffs.where(Dropoff.rule_key == data["rule"])
            watches = watches.where(Watch.rule_id == rule_id)
        if "dropoff_id" in data:
            dropoff = db_session.scalar(dropoffs.where(Dropoff.id == data["dropoff_id"]))
            if dropoff is None:
                raise ApiError(404, "not_found", f"No active dropoff {data['dropoff_id']} for this contact.")
            dropoffs = dropoffs.where(Dropoff.id == dropoff.id)
            watches = watches.where(Watch.rule_id == dropoff.rule_id, Watch.match_value == dropoff.match_value)
        recovered = []
        for dropoff in db_session.scalars(dropoffs):
            recover(dropoff, at, data.get("value"), data.get("currency"))
            recovered.append(dropoff.id)
        # An UPDATE answers a CursorResult, which counts the rows it changed.
        closed = cast(CursorResult[Any], db_session.execute(
            watches.values(status="closed", closed_at=at).execution_options(synchronize_session=False)
        )).rowcount
    return {"contact_id": contact_id, "recovered": recovered, "watches_closed": closed}


ACTION = Action(
    key="record-conversion",
    noun="Conversion",
    label="Record Conversion",
    description="Mark a contact converted (a purchase, a completed application): their active dropoffs are "
                "recovered with the revenue, and the watches waiting on them end.",
    input=RecordConversionInput,
    output=RecordConversionOutput,
    sample={"contact_id": 42, "recovered": [7], "watches_closed": 1},
    perform=perform,
)
