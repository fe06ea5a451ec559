"""New Dropoff: a contact was detected stopping short of a goal."""

from marshmallow import fields, validate
from sqlalchemy import Select, select

from reengage import samples
from reengage.models import Contact, Dropoff
from reengage.models.dropoff import INTENTS
from reengage.schemas.contact import ContactSchema
from reengage.schemas.dropoff import DropoffSchema
from triggers.polling import Filter, equal

KEY = "dropoff.detected"
NOUN = "Dropoff"
LABEL = "New Dropoff"
DESCRIPTION = ("Triggers when someone drops off a funnel: an abandoned application, a no-show, a stalled "
               "onboarding, a failed sign-in.")
FILTERS = (
    Filter("scenario", fields.String(), equal(Dropoff.scenario), description="Only this scenario."),
    Filter("stage", fields.String(), equal(Dropoff.stage), description="Only this funnel stage."),
    Filter("intent", fields.String(validate=validate.OneOf(INTENTS)), equal(Dropoff.intent),
           description="Only dropoffs of this intent."),
    Filter("rule", fields.String(), equal(Dropoff.rule_key), description="Only dropoffs of this rule (its key)."),
)
ORDER = (Dropoff.detected_at, Dropoff.id)


class DropoffItem(DropoffSchema):
    """A dropoff with its contact."""

    contact = fields.Nested(ContactSchema)


Item = DropoffItem
SAMPLE = {**samples.DROPOFF, "contact": samples.CONTACT}
_DROPOFF, _CONTACT = DropoffSchema(), ContactSchema()


def query(account_id: int) -> Select:
    """The account's dropoffs with their contacts."""
    return (select(Dropoff, Contact).join(Contact, Contact.id == Dropoff.contact_id)
            .where(Dropoff.account_id == account_id))


def items(rows) -> list[dict]:
    """Each dropoff with its contact."""
    return [{**_DROPOFF.dump(dropoff), "contact": _CONTACT.dump(contact)} for dropoff, contact in rows]
