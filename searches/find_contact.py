"""Find a contact by an identifier (a search: no match is an empty list)."""

from marshmallow import ValidationError, validates_schema
from sqlalchemy import select

from reengage.intake import contacts
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
SAMPLE = [{"id": 42, "external_id": "user-8812", "email": "dana@example.com", "phone": "+14155552671",
           "hubspot_id": None, "first_name": "Dana", "last_name": "Reyes", "name": "Dana Reyes",
           "timezone": "America/Chicago", "country": "US", "properties": {"plan": "growth"},
           "consent": {"email": True}, "created_at": "2026-11-20T15:04:05+00:00",
           "updated_at": "2026-11-21T09:00:00+00:00", "last_event_at": "2026-11-20T15:04:05+00:00",
           "engagement": 0, "engaged_at": None}]


def perform(account_id: int, args: dict) -> list[dict]:
    """Contacts matching every identifier given, newest first."""
    return ContactSchema(many=True).dump(search(account_id, args))


def search(account_id: int, args: dict) -> list[Contact]:
    """The account's contacts matching every identifier in `args`, newest first, at most `limit`."""
    query = select(Contact).where(Contact.account_id == account_id)
    for name in IDENTIFIERS:
        if name in args:
            query = query.where(contacts.matching(account_id, name, args[name]))
    return list(db.session().scalars(query.order_by(Contact.id.desc()).limit(args["limit"])))
