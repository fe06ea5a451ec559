"""Find a contact by an identifier (a search: no match is an empty list)."""

from marshmallow import ValidationError, validates_schema
from sqlalchemy import select

from reengage import samples
from reengage.models import Contact
from reengage.platform import db
from reengage.schemas.contact import IDENTIFIERS, ContactQuerySchema, ContactSchema

KEY = "find-contact"
NOUN = "Contact"
LABEL = "Find Contact"
DESCRIPTION = "Find a contact by external id, email, phone or HubSpot id."


class FindContactQuery(ContactQuerySchema):
    @validates_schema
    def _names_one(self, data: dict, **_kwargs) -> None:
        if not any(name in data for name in IDENTIFIERS):
            raise ValidationError(f"Give one of {', '.join(IDENTIFIERS)}.")


Input, Output = FindContactQuery, ContactSchema
SAMPLE = [samples.UPDATED_CONTACT]


def perform(account_id: int, args: dict) -> list[dict]:
    """Contacts matching every identifier given, newest first."""
    return ContactSchema(many=True).dump(search(account_id, args))


def search(account_id: int, args: dict) -> list[Contact]:
    """The account's contacts matching every identifier in `args`, newest first, at most `limit`."""
    query = select(Contact).where(Contact.account_id == account_id)
    for name in IDENTIFIERS:
        if name in args:
            query = query.where(getattr(Contact, name) == args[name])
    return list(db.session().scalars(query.order_by(Contact.id.desc()).limit(args["limit"])))
