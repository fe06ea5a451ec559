"""Create or update a contact: identifiers, name, time zone, country, properties and consent."""

from reengage import samples
from reengage.intake import contacts
from reengage.schemas.contact import ContactInputSchema, ContactSchema

KEY = "update-contact"
NOUN = "Contact"
LABEL = "Create or Update Contact"
DESCRIPTION = ("Create a contact or update the one matched by external_id, else email, else phone, else HubSpot id. "
               "Properties are merged (null removes one); consent per channel is kept until changed.")
Input, Output = ContactInputSchema, ContactSchema
SAMPLE = {**samples.UPDATED_CONTACT, "consent": {"email": True, "sms": False}}


def perform(account_id: int, data: dict):
    """Upsert the contact."""
    return contacts.upsert_one(account_id, data)
