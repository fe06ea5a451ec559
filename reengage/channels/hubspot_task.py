"""HubSpot task: a to-do for the contact's owner in HubSpot (a call, a personal note)."""

from typing import Any

from connectors.errors import ConnectorError
from reengage import connections
from reengage.channels.base import Channel, Delivery, Outgoing, Step
from reengage.links.crm import CRM
from reengage.models import Contact
from reengage.platform import db, rendering


def incomplete(step: Step) -> tuple[str, str] | None:
    """A task needs its notes and its title."""
    if not step.get("body"):
        return "body", "Required for this channel."
    return None if step.get("subject") else ("subject", "Required for a HubSpot task (its title).")


def consent(step: Step) -> None:
    """A task for a colleague needs no consent of the contact."""
    return None


def unreachable(contact: Contact, step: Step) -> str | None:
    """Why no task can be made for this contact, or None."""
    return None if contact.identity("hubspot") or contact.email else "the contact has neither a HubSpot id nor an email"


def compose(step: Step, context: dict[str, Any]) -> dict[str, Any]:
    """The task's title and notes, and whom it is about."""
    contact = context.get("contact") or {}
    return {"subject": rendering.render(step["subject"], context, "subject"),
            "text": rendering.render(step["body"], context, "body"),
            "hubspot_id": contact.get("hubspot_id"), "email": contact.get("email"),
            "owner_id": (contact.get("properties") or {}).get("hubspot_owner_id")}


def provider(account_id: int) -> str | None:
    """HubSpot, when the account connected it."""
    return "hubspot" if connections.linked(account_id, "hubspot") else None


def deliver(outgoing: Outgoing) -> Delivery:
    """Create the task in the account's HubSpot portal, on the contact's record, due now."""
    link = connections.linked(outgoing.account_id, "hubspot")
    if link is None:
        raise ConnectorError("config", "HubSpot is not connected for this account (PUT /v1/connections/hubspot), "
                                       "so the task could not be created.")
    content = outgoing.content
    crm: CRM = connections.client(link)

    def create() -> str:
        contact_id = crm.find_contact(content.get("hubspot_id"), content["email"])
        if contact_id is None:
            raise ConnectorError("permanent", f"HubSpot has no contact with the email {content['email']}")
        owner = content.get("owner_id") or link.settings.get("task_owner_id")
        return crm.create_task(str(contact_id), content["subject"], content["text"], db.utcnow(), owner)

    return Delivery("hubspot", connections.call(link, create))


CHANNEL = Channel(key="hubspot_task", named="A HubSpot task", incomplete=incomplete, consent=consent,
                  unreachable=unreachable, compose=compose, deliver=deliver, subject=True, provider=provider)
