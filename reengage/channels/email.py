"""Email: a rendered subject, text and HTML (or a SendGrid dynamic template), kept in the outbox when no
SendGrid account is connected."""

from typing import Any

from markupsafe import escape

from reengage import rendering
from reengage.channels.base import Delivery, cta
from reengage.models import Contact

KEY = "email"


def consent(step: dict) -> str:
    """The consent (and suppression) channel this step needs."""
    return "email"


def unreachable(contact: Contact, step: dict) -> str | None:
    """Why the contact cannot get this step, or None."""
    return None if contact.email else "the contact has no email address"


def compose(step: dict, context: dict[str, Any]) -> dict[str, Any]:
    """What goes out: to, subject, text, html and call to action, or the dynamic template and its data."""
    render = lambda source: rendering.render(source, context)  # noqa: E731
    label, url = cta(step, render)
    unsubscribe = context.get("unsubscribe_url", "")
    content: dict[str, Any] = {"to": context["contact"]["email"], "cta_label": label, "cta_url": url,
                               "unsubscribe_url": unsubscribe}
    if step.get("sendgrid_template_id"):
        content["sendgrid_template_id"] = step["sendgrid_template_id"]
        content["subject"] = render(step.get("subject"))
        return content
    body = render(step["body"])
    footer = f"Don't want these emails? Unsubscribe: {unsubscribe}" if unsubscribe else ""
    content["subject"] = render(step["subject"])
    content["text"] = "\n\n".join(part for part in (body, f"{label}: {url}" if url else "", footer) if part)
    link = f'<a href="{escape(unsubscribe)}" style="color:#777">Unsubscribe</a>' if unsubscribe else ""
    content["html"] = rendering.html(body, label, url, f"Don't want these emails? {link}" if link else "")
    return content


def deliver(account_id: int, message_id: int, content: dict[str, Any]) -> Delivery:
    """Send the email; with no SendGrid connection it stays in the outbox (GET /v1/outbox)."""
    return Delivery("outbox", f"outbox-{message_id}")
