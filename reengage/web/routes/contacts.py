"""Contacts: upsert, look up and search."""

from sqlalchemy import select

from reengage.intake import contacts
from reengage.intake.schemas import ContactInputSchema
from reengage.models import Contact
from reengage.platform import db
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.platform.errors import ApiError
from reengage.schemas.contact import ContactQuerySchema, ContactSchema
from searches import find_contact

blp = Blueprint("contacts", __name__, url_prefix="/v1", description="People, matched by their identifiers.")
blp.before_request(authenticate)


@blp.route("/contacts", methods=["POST"])
@blp.arguments(ContactInputSchema)
@blp.response(200, ContactSchema)
def upsert_contact(data):
    """Create or update a contact, matched by external_id, else email, else phone, else hubspot_id."""
    return contacts.upsert_one(account_id(), data)


@blp.route("/contacts")
@blp.arguments(ContactQuerySchema, location="query")
@blp.response(200, ContactSchema(many=True))
def list_contacts(filters):
    """Contacts matching every filter given, newest first (a search: no match is `[]`)."""
    return find_contact.search(account_id(), filters)


@blp.route("/contacts/<int:contact_id>")
@blp.response(200, ContactSchema)
def get_contact(contact_id):
    """One contact of this account."""
    return find(contact_id)


def find(contact_id: int) -> Contact:
    """This account's contact `contact_id`, or a 404 (another account's contact is not found)."""
    contact = db.session().scalar(
        select(Contact).where(Contact.id == contact_id, Contact.account_id == account_id())
    )
    if contact is None:
        raise ApiError(404, "not_found", f"No contact {contact_id} in this account.")
    return contact
