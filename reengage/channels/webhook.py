"""Webhook: the message is published as `message.due` for Zapier, Make or the account's own code to
deliver (by SMS, Slack, direct mail, a call task)."""

from typing import Any

from reengage.channels.base import Channel, Delivery, Outgoing, Step, cta
from reengage.models import Contact
from reengage.platform import rendering

# The consent a delivery hint needs; Slack posts and direct mail need none of ours.
CONSENT = {"sms": "sms", "whatsapp": "whatsapp", "call": "voice", "push": "push"}


def incomplete(step: Step) -> tuple[str, str] | None:
    """A webhook message needs its body (the text a platform delivers)."""
    return None if step.get("body") else ("body", "Required for this channel.")


def consent(step: Step) -> str | None:
    """The consent (and suppression) channel this step needs, if any."""
    return CONSENT.get(step.get("hint", ""))


def unreachable(contact: Contact, step: Step) -> str | None:
    """Why the contact cannot get this step, or None."""
    if step.get("hint") in ("sms", "whatsapp", "call") and not contact.phone:
        return "the contact has no phone number"
    return None


def compose(step: Step, context: dict[str, Any]) -> dict[str, Any]:
    """The text and call to action a platform delivers, with how to reach the contact."""
    def render(source: str | None, field: str) -> str:
        return rendering.render(source, context, field)

    label, url = cta(step, render)
    contact = context["contact"]
    return {"hint": step.get("hint"), "subject": render(step.get("subject"), "subject"),
            "text": render(step["body"], "body"),
            "cta_label": label, "cta_url": url, "to": {"email": contact["email"], "phone": contact["phone"]},
            "unsubscribe_url": context.get("unsubscribe_url", "")}


def deliver(outgoing: Outgoing) -> Delivery:
    """Publish the message: it is now listed for the platforms that deliver it."""
    return Delivery("webhook", f"message-{outgoing.id}")


CHANNEL = Channel(key="webhook", named="A webhook message", incomplete=incomplete, consent=consent,
                  unreachable=unreachable, compose=compose, deliver=deliver, hints=True, written=True,
                  interrupted="resend", local=lambda account_id: True)
