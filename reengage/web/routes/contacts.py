"""Contacts: upsert, look up and search."""

from reengage.intake import contacts
from reengage.intake.schemas import ContactInputSchema
from reengage.models import Contact
from reengage.platform.auth import account_id, authenticate
from reengage.platform.blueprint import Blueprint
from reengage.schemas.contact import ContactQuerySchema, ContactSchema
from reengage.web.routes.common import owned_or_404
from searches import find_contact

blp = Blueprint("contacts", __name__, url_prefix="/v1", description="People, matched by their identifiers.")
blp.before_request(authenticate)


@blp.route("/contacts", methods=["POST"])
@blp.arguments(ContactInputSchema)
@blp.response(200, ContactSchema)
def upsert_contact(data):
    """Create or update a contact, matched by external_id, else email, phone, hubspot_id or salesforce_id."""
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
    return owned_or_404(Contact, contact_id)
