"""Create or update a contact: identifiers, name, time zone, country, properties and consent."""

from typing import Any

from actions.action import Action
from reengage import samples
from reengage.intake import contacts
from reengage.intake.schemas import ContactInputSchema
from reengage.models import Contact
from reengage.schemas.contact import ContactSchema


def perform(account_id: int, data: dict[str, Any]) -> Contact:
    """Upsert the contact."""
    return contacts.upsert_one(account_id, data)


ACTION = Action(
    key="update-contact",
    noun="Contact",
    label="Create or Update Contact",
    description="Create a contact or update the one matched by external_id, else email, else phone, else HubSpot id. "
                "Properties are merged (null removes one); consent per channel is kept until changed.",
    input=ContactInputSchema,
    output=ContactSchema,
    sample={**samples.UPDATED_CONTACT, "consent": {"email": True, "sms": False}},
    perform=perform,
)
