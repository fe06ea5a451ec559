"""Sending: the clock claims due messages; a job sends each one at most once.

A message moves scheduled -> queued (claimed by the clock) -> sending (claimed by one job, in
a committed transaction, before anything leaves) -> sent, or skipped / failed / back to
scheduled. A second run of the same job finds nothing `queued` and does nothing, and an exit
skips messages that are still scheduled or queued, so everything is checked again at send time.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update

from reengage import db, enrollments, personalise, schedule, unsubscribe
from reengage.channels import CHANNELS, ChannelError, Delivery
from reengage.models import Account, Contact, Dropoff, Enrollment, Flow, Message
from reengage.models.message import IN_FLIGHT

table = Message.__table__
DUE = (
    select(table.c.id).where(table.c.status == "scheduled", table.c.due_at <= bindparam("now"))
    .order_by(table.c.due_at).limit(bindparam("limit")).with_for_update(skip_locked=True)
)
QUEUE = (update(table).where(table.c.id.in_(bindparam("ids", expanding=True)))
         .values(status="queued", queued_at=bindparam("now"), updated_at=bindparam("now")))
CLAIM = (update(table).where(table.c.id == bindparam("message_id"), table.c.status == "queued")
         .values(status="sending", attempts=table.c.attempts + 1).returning(table.c.id))
SENT = ("sent", "delivered", "opened", "clicked")
# Ids a send job takes at once: small enough that several workers share a large tick.
CHUNK = 50


def claim_due(now: datetime, limit: int) -> list[int]:
    """Move up to `limit` due messages from scheduled to queued; answer their ids."""
    with db.transaction() as db_session:
        connection = db_session.connection()
        ids = list(connection.scalars(DUE, {"now": now, "limit": limit}))
        if ids:
            connection.execute(QUEUE, {"ids": ids, "now": now})
    return ids


def stalled(now: datetime, limit: int) -> tuple[list[int], int]:
    """Messages queued long ago whose job never ran (to hand on again), and how many were cut off mid-send."""
    requeue_before = now - timedelta(seconds=current_app.config["MESSAGE_REQUEUE_AFTER_SECONDS"])
    timeout_before = now - timedelta(seconds=current_app.config["MESSAGE_SENDING_TIMEOUT_SECONDS"])
    with db.transaction() as db_session:
        connection = db_session.connection()
        query = (select(table.c.id, table.c.status, table.c.queued_at)
                 .where(IN_FLIGHT, table.c.queued_at < requeue_before).order_by(table.c.queued_at).limit(limit))
        rows = connection.execute(query).all()
        queued = [row.id for row in rows if row.status == "queued"]
        cut_off = [row.id for row in rows if row.status == "sending" and row.queued_at < timeout_before]
        if cut_off:
            connection.execute(
                update(table).where(table.c.id.in_(cut_off), table.c.status == "sending")
                .values(status="failed", updated_at=now,
                        reason="interrupted while sending; not retried, since it may already have gone"))
    return queued, len(cut_off)


def send(message_id: int) -> str:
    """Send one queued message, at most once; answer the state it ends in."""
    prepared = _prepare(message_id)
    if isinstance(prepared, str):
        return prepared
    account_id, channel, content = prepared
    try:
        delivery = CHANNELS[channel].deliver(account_id, message_id, content)
    except ChannelError as error:
        return _failed(message_id, error)
    return _sent(message_id, delivery)


def _prepare(message_id: int) -> tuple[int, str, dict] | str:
    """Claim the message and check it may go now; (account, channel, content), or the state it was left in."""
    with db.transaction() as db_session:
        if db_session.connection().execute(CLAIM, {"message_id": message_id}).first() is None:
            return "not queued"
        message = db_session.get(Message, message_id)
        now = db.utcnow()
        enrollment = db_session.get(Enrollment, message.enrollment_id)
        flow = db_session.get(Flow, message.flow_id)
        contact = db_session.get(Contact, message.contact_id)
        account = db_session.get(Account, message.account_id)
        dropoff = db_session.get(Dropoff, enrollment.dropoff_id) if enrollment.dropoff_id else None
        step = _step(flow, message)
        channel = CHANNELS[message.channel]
        reason = _why_not(enrollment, flow, dropoff, contact, step, channel)
        if reason is not None:
            return _leave(message, enrollment, "skipped", reason, now)
        settings = schedule.effective(account.settings, flow)
        calendar = schedule.calendar(settings, contact)
        moment, why = calendar.next_open(now)
        later = schedule.cap(settings).next_allowed(moment, _sent_moments(contact.id, message.channel))
        if later is not None:
            moment, _ = calendar.next_open(later)
            why = why or "frequency cap"
        if moment > now:
            # Delayed into quiet hours, a holiday or a burst: it waits for the next allowed slot.
            message.status, message.due_at, message.moved_because = "scheduled", moment, why
            message.attempts -= 1
            return "scheduled"
        variant = variant_of(step, message.variant)
        consent = channel.consent(step)
        link = unsubscribe.url(account.id, contact.id, consent, message.id) if consent else ""
        deep_link = (dropoff.deep_link if dropoff else None) or settings["app_url"] or ""
        context = personalise.context(contact, dropoff, flow, account.name, deep_link, link)
        try:
            message.content = channel.compose(variant, context)
        except Exception as error:  # checked when saved; a template can still fail on odd data
            return _leave(message, enrollment, "failed", f"could not render: {error}", now)
        return account.id, message.channel, message.content


def _step(flow: Flow, message: Message) -> dict | None:
    phase, _, key = message.step.partition(".")
    if not 1 <= int(phase) <= len(flow.phases):
        return None
    return next((step for step in flow.phases[int(phase) - 1]["steps"] if step["key"] == key), None)


def variant_of(step: dict, variant: str | None) -> dict:
    """The step as this contact's variant has it."""
    for alternative in step.get("variants", ()):
        if alternative["key"] == variant:
            return {**step, **{name: value for name, value in alternative.items() if name != "key"}}
    return step


def _why_not(enrollment: Enrollment, flow: Flow, dropoff: Dropoff | None, contact: Contact, step: dict | None,
             channel) -> str | None:
    """Why the message must not go now, or None."""
    if enrollment.status != "active":
        return f"enrollment {enrollment.status}" + (f": {enrollment.exit_reason}" if enrollment.exit_reason else "")
    if flow.deleted_at is not None:
        return "the flow was deleted"
    if dropoff is not None and dropoff.status in ("recovered", "dismissed"):
        return f"the dropoff was {dropoff.status}"
    if step is None:
        return "the step is no longer in the flow"
    consent = channel.consent(step)
    if consent is not None:
        if reason := enrollments.suppressed(contact.account_id, contact.id, consent):
            return f"suppressed on {consent}: {reason}"
        if (contact.consent or {}).get(consent) is False:
            return f"the contact withheld consent for {consent}"
    return channel.unreachable(contact, step)


def _sent_moments(contact_id: int, channel: str) -> list[datetime]:
    query = select(Message.sent_at).where(Message.contact_id == contact_id, Message.channel == channel,
                                          Message.status.in_(SENT), Message.sent_at.is_not(None))
    return sorted(db.session().scalars(query))


def _leave(message: Message, enrollment: Enrollment, status: str, reason: str, now: datetime) -> str:
    message.status, message.reason = status, reason[:500]
    db.session().flush()
    if enrollment.status == "active":
        enrollments.finish_if_done(enrollment, now)
    return status


def _sent(message_id: int, delivery: Delivery) -> str:
    with db.transaction() as db_session:
        message = db_session.get(Message, message_id)
        now = db.utcnow()
        message.status, message.sent_at, message.reason = "sent", now, None
        message.provider, message.provider_id = delivery.provider, delivery.provider_id
        db_session.flush()
        enrollments.finish_if_done(db_session.get(Enrollment, message.enrollment_id), now)
    return "sent"


def _failed(message_id: int, error: ChannelError) -> str:
    with db.transaction() as db_session:
        message = db_session.get(Message, message_id)
        now = db.utcnow()
        if error.retryable and message.attempts < current_app.config["MESSAGE_MAX_ATTEMPTS"]:
            pause = error.retry_after or 60 * 2 ** (message.attempts - 1)
            message.status, message.due_at = "scheduled", now + timedelta(seconds=pause)
            message.reason = f"retrying after: {error.message}"[:500]
            return "scheduled"
        return _leave(message, db_session.get(Enrollment, message.enrollment_id), "failed",
                      f"{error.kind}: {error.message}", now)
