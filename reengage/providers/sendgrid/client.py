"""SendGrid as an account's email provider: the connection's client, and our messages as SendGrid mail."""

from typing import Any

from flask import current_app
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

from connectors.sendgrid import SendGrid
from reengage.connections import Linked
from reengage.links.email import Email


class SendGridSender:
    """An account's SendGrid (reengage.links.email.EmailSender): its settings and its client."""

    def __init__(self, link: Linked):
        self.settings = link.settings
        self.client = SendGrid(link.secrets["api_key"], link.settings.get("data_residency", "global"),
                               current_app.config["SENDGRID_API_HOST"], current_app.config["CONNECTOR_TIMEOUT_SECONDS"])

    def check(self) -> None:
        """Try the API key once."""
        self.client.check()

    def send(self, email: Email) -> str | None:
        """Send the email; answer SendGrid's message id."""
        return self.client.send(mail(email, self.settings))


def mail(email: Email, settings: dict[str, Any]) -> Mail:
    """The SendGrid mail of a message: our ids ride along as custom args (events come back with them)."""
    content = email.content
    sender, to = From(settings["from_email"], settings.get("from_name")), To(content["to"])
    if content.get("sendgrid_template_id"):
        message = Mail(from_email=sender, to_emails=to)
        message.template_id = content["sendgrid_template_id"]
        message.dynamic_template_data = content.get("template_data") or {}
    else:
        message = Mail(from_email=sender, to_emails=to, subject=content["subject"],
                       plain_text_content=content["text"], html_content=content["html"])
    message.custom_arg = [CustomArg(name, str(value)) for name, value in custom_args(email).items()]
    message.category = [Category(email.flow_key[:255]), Category(f"phase-{email.phase}")]
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


def custom_args(email: Email) -> dict[str, int]:
    """What SendGrid echoes in every event of the message: ids only, no personal data."""
    return {"reengage_message_id": email.id, "reengage_enrollment_id": email.enrollment_id,
            "reengage_account_id": email.account_id}
