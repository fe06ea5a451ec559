"""HubSpot task: a task for the contact's owner in HubSpot (a call, a personal note)."""

from typing import Any

from reengage import rendering
from reengage.channels.base import ChannelError, Delivery
from reengage.models import Contact

KEY = "hubspot_task"


def consent(step: dict) -> None:
    """A task for a colleague needs no consent of the contact."""
    return None


def unreachable(contact: Contact, step: dict) -> str | None:
    """Why no task can be made for this contact, or None."""
    return None if contact.hubspot_id or contact.email else "the contact has neither a HubSpot id nor an email"


def compose(step: dict, context: dict[str, Any]) -> dict[str, Any]:
    """The task's title and notes."""
    return {"subject": rendering.render(step["subject"], context), "text": rendering.render(step["body"], context),
            "hubspot_id": context["contact"].get("hubspot_id"), "email": context["contact"]["email"]}


def deliver(account_id: int, message_id: int, content: dict[str, Any]) -> Delivery:
    """Create the task in the account's HubSpot portal."""
    raise ChannelError("config", "HubSpot is not connected for this account, so the task could not be created.")
