"""New Dropoff: a contact was detected stopping short of a goal."""

from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Select, select

from reengage import samples
from reengage.models import Dropoff
from reengage.models.dropoff import INTENTS
from reengage.schemas.compiled import dumper
from reengage.schemas.contact import ContactSchema
from reengage.schemas.dropoff import DropoffSchema
from triggers.polling import Filter, Trigger, contacts, equal, rows


class DropoffItem(DropoffSchema):
    """A dropoff with its contact."""

    contact = fields.Nested(ContactSchema)


_ITEM = dumper(DropoffItem())


def query(account_id: int) -> Select[int]:
    """The account's dropoffs."""
    return select(Dropoff.id).where(Dropoff.account_id == account_id)


def render(ids: list[int]) -> list[dict[str, Any]]:
    """Each dropoff with its contact."""
    dropoffs = rows(Dropoff, ids)
    people = contacts({dropoff["contact_id"] for dropoff in dropoffs.values()})
    return [_ITEM({**dropoffs[id_], "contact": people[dropoffs[id_]["contact_id"]]}) for id_ in ids if id_ in dropoffs]


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
    render=render,
)
