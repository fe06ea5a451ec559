"""New Dropoff: a contact was detected stopping short of a goal."""

from collections.abc import Sequence
from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Row, Select, select

from reengage import samples
from reengage.models import Contact, Dropoff
from reengage.models.dropoff import INTENTS
from reengage.schemas.contact import ContactSchema
from reengage.schemas.dropoff import DropoffSchema
from triggers.polling import Filter, Trigger, equal


class DropoffItem(DropoffSchema):
    """A dropoff with its contact."""

    contact = fields.Nested(ContactSchema)


_DROPOFF, _CONTACT = DropoffSchema(), ContactSchema()


def query(account_id: int) -> Select[Dropoff, Contact]:
    """The account's dropoffs with their contacts."""
    return (select(Dropoff, Contact).join(Contact, Contact.id == Dropoff.contact_id)
            .where(Dropoff.account_id == account_id))


def items(rows: Sequence[Row[Dropoff, Contact]]) -> list[dict[str, Any]]:
    """Each dropoff with its contact."""
    return [{**_DROPOFF.dump(dropoff), "contact": _CONTACT.dump(contact)} for dropoff, contact in rows]


TRIGGER = Trigger(
    key="dropoff.detected",
    noun="Dropoff",
    label="New Dropoff",
    description="Triggers when someone drops off a funnel: an abandoned application, a no-show, a stalled "
                "onboarding, a failed sign-in.",
    filters=(
        Filter("scenario", fields.String(), equal(Dropoff.scenario), description="Only this scenario."),
        Filter("stage", fields.String(), equal(Dropoff.stage), description="Only this funnel stage."),
        Filter("intent", fields.String(validate=validate.OneOf(INTENTS)), equal(Dropoff.intent),
               description="Only dropoffs of this intent."),
        Filter("rule", fields.String(), equal(Dropoff.rule_key), description="Only dropoffs of this rule (its key)."),
    ),
    order=(Dropoff.detected_at, Dropoff.id),
    item=DropoffItem,
    sample={**samples.DROPOFF, "contact": samples.CONTACT},
    query=query,
    items=items,
)
