"""Email: a rendered subject, text and HTML (or a SendGrid dynamic template), kept in the outbox when no
email provider is connected."""

from typing import Any

from markupsafe import escape

from reengage import connections
from reengage.channels.base import Channel, Delivery, Outgoing, Step, cta
from reengage.models import Contact
from reengage.platform import rendering


def incomplete(step: Step) -> tuple[str, str] | None:
    """An email needs its subject and body written, or a SendGrid template to write them."""
    if not step.get("sendgrid_template_id") and not (step.get("subject") and step.get("body")):
        return "body", "An email step needs subject and body, or sendgrid_template_id."
    return None


def consent(step: Step) -> str:
    """The consent (and suppression) channel this step needs."""
    return "email"


def unreachable(contact: Contact, step: Step) -> str | None:
    """Why the contact cannot get this step, or None."""
    return None if contact.email else "the contact has no email address"


def compose(step: Step, context: dict[str, Any]) -> dict[str, Any]:
    """What goes out: to, subject, text, html and call to action, or the dynamic template and its data."""
    def render(source: str | None, field: str) -> str:
        return rendering.render(source, context, field)

    label, url = cta(step, render)
    unsubscribe = context.get("unsubscribe_url", "")
    content: dict[str, Any] = {"to": context["contact"]["email"], "cta_label": label, "cta_url": url,
                               "unsubscribe_url": unsubscribe}
    if step.get("sendgrid_template_id"):
        content["sendgrid_template_id"] = step["sendgrid_template_id"]
        content["subject"] = render(step.get("subject"), "subject")
        contact, dropoff = context.get("contact") or {}, context.get("dropoff") or {}
        content["template_data"] = {
            "subject": content["subject"], "first_name": contact.get("first_name"), "name": contact.get("name"),
            "cta_label": label, "cta_url": url, "deep_link": context.get("deep_link", ""),
            "unsubscribe_url": unsubscribe, "account_name": (context.get("account") or {}).get("name"),
            "scenario": dropoff.get("scenario"), "service": dropoff.get("service")}
        return content
    body = render(step["body"], "body")
    footer = f"Don't want these emails? Unsubscribe: {unsubscribe}" if unsubscribe else ""
    content["subject"] = render(step["subject"], "subject")
    content["text"] = "\n\n".join(part for part in (body, f"{label}: {url}" if url else "", footer) if part)
    link = f'<a href="{escape(unsubscribe)}" style="color:#595959">Unsubscribe</a>' if unsubscribe else ""
    content["html"] = rendering.html(body, label, url, f"Don't want these emails? {link}" if link else "")
    return content


def local(account_id: int) -> bool:
    """Without an email provider connected, emails stay in the outbox."""
    return connections.linked_kind(account_id, "email") is None


def provider(account_id: int) -> str | None:
    """The email provider the account connected, if any."""
    link = connections.linked_kind(account_id, "email")
    return link.provider if link else None


def deliver(outgoing: Outgoing) -> Delivery:
    """Send the email through the account's email provider; with none connected it stays in the outbox."""
    link = connections.linked_kind(outgoing.account_id, "email")
    if link is None:
        return Delivery("outbox", f"outbox-{outgoing.id}")
    provider_id = connections.call(link, lambda: connections.client(link).send(outgoing))
    return Delivery(link.provider, provider_id)


CHANNEL = Channel(key="email", named="An email", incomplete=incomplete, consent=consent, unreachable=unreachable,
                  compose=compose, deliver=deliver, subject=True, templates=True, written=True,
                  interrupted="confirm", local=local, provider=provider)
