"""Find a contact by an identifier (a search: no match is an empty list)."""

from typing import Any

from marshmallow import ValidationError, validates_schema
from sqlalchemy import select

from reengage import samples
from reengage.intake import contacts
from reengage.intake.schemas import IDENTIFIERS
from reengage.models import Contact
from reengage.platform import db
from reengage.schemas.contact import ContactQuerySchema, ContactSchema
from searches.search import Search


class FindContactQuery(ContactQuerySchema):
    @validates_schema
    def _names_one(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not any(name in data for name in IDENTIFIERS):
            raise ValidationError(f"Give one of {', '.join(IDENTIFIERS)}.")


def perform(account_id: int, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Contacts matching every identifier given, newest first."""
    found: list[dict[str, Any]] = ContactSchema(many=True).dump(search(account_id, args))
    return found


def search(account_id: int, args: dict[str, Any]) -> list[Contact]:
    """The account's contacts matching every identifier in `args`, newest first, at most `limit`."""
    query = select(Contact).where(Contact.account_id == account_id)
    for name in IDENTIFIERS:
        if name in args:
            query = query.where(contacts.matching(account_id, name, args[name]))
    return list(db.session().scalars(query.order_by(Contact.id.desc()).limit(args["limit"])))


SEARCH = Search(
    key="find-contact",
    noun="Contact",
    label="Find Contact",
    description="Find a contact by external id, email, phone or HubSpot id.",
    input=FindContactQuery,
    output=ContactSchema,
    sample=[samples.UPDATED_CONTACT],
    perform=perform,
    one_of=IDENTIFIERS,
)
