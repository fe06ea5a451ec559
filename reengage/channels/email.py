"""Email: a rendered subject, text and HTML (or a SendGrid dynamic template), kept in the outbox when no
SendGrid account is connected."""

from typing import Any

from markupsafe import escape
from sendgrid.helpers.mail import (
    Asm,
    Category,
    CustomArg,
    From,
    GroupId,
    Header,
    Mail,
    MailSettings,
    ReplyTo,
    SandBoxMode,
    To,
)

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
    def render(source: str | None) -> str:
        return rendering.render(source, context)

    label, url = cta(step, render)
    unsubscribe = context.get("unsubscribe_url", "")
    content: dict[str, Any] = {"to": context["contact"]["email"], "cta_label": label, "cta_url": url,
                               "unsubscribe_url": unsubscribe}
    if step.get("sendgrid_template_id"):
        content["sendgrid_template_id"] = step["sendgrid_template_id"]
        content["subject"] = render(step.get("subject"))
        contact, dropoff = context.get("contact") or {}, context.get("dropoff") or {}
        content["template_data"] = {
            "subject": content["subject"], "first_name": contact.get("first_name"), "name": contact.get("name"),
            "cta_label": label, "cta_url": url, "deep_link": context.get("deep_link", ""),
            "unsubscribe_url": unsubscribe, "account_name": (context.get("account") or {}).get("name"),
            "scenario": dropoff.get("scenario"), "service": dropoff.get("service")}
        return content
    body = render(step["body"])
    footer = f"Don't want these emails? Unsubscribe: {unsubscribe}" if unsubscribe else ""
    content["subject"] = render(step["subject"])
    content["text"] = "\n\n".join(part for part in (body, f"{label}: {url}" if url else "", footer) if part)
    link = f'<a href="{escape(unsubscribe)}" style="color:#777">Unsubscribe</a>' if unsubscribe else ""
    content["html"] = rendering.html(body, label, url, f"Don't want these emails? {link}" if link else "")
    return content


def deliver(outgoing: Outgoing) -> Delivery:
    """Send the email through the account's SendGrid; with no SendGrid connection it stays in the outbox."""
    link = connections.linked(outgoing.account_id, "sendgrid")
    if link is None:
        return Delivery("outbox", f"outbox-{outgoing.id}")
    provider_id = connections.call(link, lambda: connections.sendgrid_client(link).send(mail(outgoing, link.settings)))
    return Delivery("sendgrid", provider_id)


def mail(outgoing: Outgoing, settings: dict[str, Any]) -> Mail:
    """The SendGrid mail of a message: our ids ride along as custom args (events come back with them)."""
    content = outgoing.content
    sender, to = From(settings["from_email"], settings.get("from_name")), To(content["to"])
    if content.get("sendgrid_template_id"):
        message = Mail(from_email=sender, to_emails=to)
        message.template_id = content["sendgrid_template_id"]
        message.dynamic_template_data = content.get("template_data") or {}
    else:
        message = Mail(from_email=sender, to_emails=to, subject=content["subject"],
                       plain_text_content=content["text"], html_content=content["html"])
    message.custom_arg = [CustomArg(name, str(value)) for name, value in custom_args(outgoing).items()]
    message.category = [Category(outgoing.flow_key[:255]), Category(f"phase-{outgoing.phase}")]
    if settings.get("reply_to"):
        message.reply_to = ReplyTo(settings["reply_to"])
    if settings.get("unsubscribe_group_id"):
        message.asm = Asm(GroupId(settings["unsubscribe_group_id"]))
    if content.get("unsubscribe_url"):
        # RFC 8058: mail clients show an unsubscribe button that POSTs to our one-click link.
        message.header = [Header("List-Unsubscribe", f"<{content['unsubscribe_url']}>"),
                          Header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
    if settings.get("sandbox_mode"):
        message.mail_settings = MailSettings(sandbox_mode=SandBoxMode(True))
    return message


def custom_args(outgoing: Outgoing) -> dict[str, int]:
    """What SendGrid echoes in every event of the message: ids only, no personal data."""
    return {"reengage_message_id": outgoing.id, "reengage_enrollment_id": outgoing.enrollment_id,
            "reengage_account_id": outgoing.account_id}


CHANNEL = Channel(key="email", named="An email", incomplete=incomplete, consent=consent, unreachable=unreachable,
                  compose=compose, deliver=deliver, subject=True, templates=True, written=True)
