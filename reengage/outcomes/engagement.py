"""What happened to our emails: delivered, opened, clicked, bounced, dropped, reported, unsubscribed.

An event processor: email events (from SendGrid's webhook, reengage.providers.sendgrid.events) move their message
forward, put the contact on the email suppression list (which ends their enrollments), and raise the
contact's engagement. A flow or rule can also take `email.clicked` as its goal, like any event.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, select

from reengage.models import Contact, Message, Suppression
from reengage.models.event import MACHINE_OPENED
from reengage.outcomes import tally
from reengage.platform import db
from reengage.sequencing import enrollments

# States of a message whose send is not recorded as done although it may have gone (cut off midway, being
# retried): any event of the provider about it says it went.
UNSETTLED = ("sending", "queued", "scheduled", "failed")
# How far along a sent message is; an event never moves it back.
PROGRESS = {"sent": 0, "delivered": 1, "opened": 2, "clicked": 3}
REACHED = {"email.delivered": ("delivered", "delivered_at"), "email.opened": ("opened", "opened_at"),
           "email.clicked": ("clicked", "clicked_at")}
ENGAGEMENT = {"email.opened": 1, "email.clicked": 3}
# Events that put the contact on the email suppression list, and why.
SUPPRESSING = {"email.spam_reported": "spam_report", "email.unsubscribed": "unsubscribed"}
# SendGrid drops mail to addresses on its own suppression lists: ours follow.
DROPPED_BECAUSE = {"Bounced Address": "bounced", "Unsubscribed Address": "unsubscribed",
                   "Spam Reporting Address": "spam_report"}


def on_events(claimed: Sequence[Row]) -> None:
    """Apply the email events among `claimed` to their messages, suppressions and contacts, oldest first."""
    mine = sorted((e for e in claimed if e.type.startswith("email.") and isinstance(e.properties, dict)
                   and isinstance(e.properties.get("message_id"), int)), key=lambda e: (e.occurred_at, e.id))
    if not mine:
        return
    db_session = db.session()
    messages = {m.id: m for m in db_session.scalars(select(Message).where(
        Message.id.in_({e.properties["message_id"] for e in mine})))}
    contacts = {c.id: c for c in db_session.scalars(
        select(Contact).where(Contact.id.in_({e.contact_id for e in mine})))}
    for event in mine:
        message = messages.get(event.properties["message_id"])
        if message is not None and message.account_id == event.account_id:
            _apply(event, message, contacts[event.contact_id])


def _apply(event: Row, message: Message, contact: Contact) -> None:
    at, properties = event.occurred_at, event.properties
    if message.status in UNSETTLED and message.attempts > 0:
        went(message, at, properties)
    if event.type in REACHED:
        status, column = REACHED[event.type]
        newly = []
        if getattr(message, column) is None:
            setattr(message, column, at)
            newly.append(column)
        if event.type == "email.clicked" and message.opened_at is None:
            message.opened_at = at  # a click is also an open, even when the open pixel was blocked
            newly.append("opened_at")
        tally.reached(message, newly)
        if PROGRESS.get(message.status, len(PROGRESS)) < PROGRESS[status]:
            message.status = status
    elif event.type == MACHINE_OPENED:  # counted apart: it moves no status and engages no one
        if message.machine_opened_at is None:
            message.machine_opened_at = at
            tally.reached(message, ["machine_opened_at"])
    elif event.type in ("email.bounced", "email.dropped"):
        if message.status in PROGRESS:
            message.status = "bounced" if event.type == "email.bounced" else "dropped"
            message.reason = str(properties.get("reason") or properties.get("type") or "")[:500] or None
        # A block is the receiving server refusing for now, not an address that does not exist.
        if event.type == "email.bounced" and properties.get("type") != "blocked":
            enrollments.suppress(event.account_id, contact.id, "email", "bounced", at)
        elif event.type == "email.dropped" and properties.get("reason") in DROPPED_BECAUSE:
            enrollments.suppress(event.account_id, contact.id, "email", DROPPED_BECAUSE[properties["reason"]], at)
    elif event.type in SUPPRESSING:
        enrollments.suppress(event.account_id, contact.id, "email", SUPPRESSING[event.type], at)
    elif event.type == "email.resubscribed":
        db.session().execute(delete(Suppression).where(
            Suppression.account_id == event.account_id, Suppression.contact_id == contact.id,
            Suppression.channel == "email", Suppression.reason == "unsubscribed"))
    if event.type in ENGAGEMENT:
        contact.engagement = (contact.engagement or 0) + ENGAGEMENT[event.type]
        contact.engaged_at = max(contact.engaged_at or at, at)


def went(message: Message, at: datetime, properties: dict) -> None:
    """Record as sent a message whose provider reports it took it, though its send was never recorded as done."""
    message.status, message.sent_at, message.provider = "sent", message.sent_at or at, "sendgrid"
    # SendGrid's event id of a message is its X-Message-ID followed by a dot and routing details.
    message.provider_id = str(properties.get("sg_message_id") or "").split(".")[0][:200] or message.provider_id
    message.reason = "recorded from the provider's events: its send was cut off before its result was stored"
    tally.sent([message], at)
    db.session().flush()
    enrollments.finish_done({message.enrollment_id}, at)
