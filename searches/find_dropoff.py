"""Find a contact's dropoffs (a search: no match is an empty list)."""

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from reengage.models import Contact, Dropoff
from reengage.models.dropoff import STATUSES
from reengage.platform import db
from reengage.platform.fields import Email, Int64, Phone
from searches.search import Search
from triggers import dropoff_detected

# Ways to name the contact, and the column each matches.
CONTACT = {"contact_id": Contact.id, "external_id": Contact.external_id, "email": Contact.email,
           "phone": Contact.phone}


class FindDropoffQuery(Schema):
    class Meta:
        unknown = RAISE

    contact_id = Int64()
    external_id = fields.String(validate=validate.Length(1, 255))
    email = Email()
    phone = Phone()
    scenario = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 100))

    @validates_schema
    def _names_a_contact(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not any(name in data for name in CONTACT):
            raise ValidationError(f"Give one of {', '.join(CONTACT)}.")


def perform(account_id: int, args: dict[str, Any]) -> list[dict[str, Any]]:
    """The contact's dropoffs matching the filters, newest first, with the contact (as New Dropoff has them)."""
    query = dropoff_detected.query(account_id).join(Contact, Contact.id == Dropoff.contact_id)
    for name, column in CONTACT.items():
        if name in args:
            query = query.where(column == args[name])
    if "scenario" in args:
        query = query.where(Dropoff.scenario == args["scenario"])
    if "status" in args:
        query = query.where(Dropoff.status == args["status"])
    query = query.order_by(Dropoff.detected_at.desc(), Dropoff.id.desc()).limit(args["limit"])
    # As they are now (a search), not as published.
    return dropoff_detected.render(list(db.session().scalars(query)))


SEARCH = Search(
    key="find-dropoff",
    noun="Dropoff",
    label="Find Dropoff",
    description="Find a contact's dropoffs, newest first, optionally of one scenario or status (open ones, say).",
    input=FindDropoffQuery,
    output=dropoff_detected.DropoffItem,
    sample=[dropoff_detected.TRIGGER.sample],
    perform=perform,
    one_of=tuple(CONTACT),
)
