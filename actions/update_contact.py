"""Create or update a contact: identifiers, name, time zone, country, properties and consent."""

from typing import Any

from actions.action import Action
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
    sample={"id": 42, "external_id": "user-8812", "email": "dana@example.com", "phone": "+14155552671",
            "hubspot_id": None, "first_name": "Dana", "last_name": "Reyes", "name": "Dana Reyes",
            "timezone": "America/Chicago", "country": "US", "properties": {"plan": "growth"},
            "consent": {"email": True, "sms": False}, "created_at": "2026-11-20T15:04:05+00:00",
            "updated_at": "2026-11-21T09:00:00+00:00", "last_event_at": "2026-11-20T15:04:05+00:00",
            "engagement": 0, "engaged_at": None},
    perform=perform,
)
