"""Whether a claimed message may go now: every check made at send time, on rows read once per batch."""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select

from reengage.channels import CHANNELS, Channel
from reengage.models import Account, Contact, Dropoff, Enrollment, Flow, Message, Suppression
from reengage.platform import db, sandbox, timing
from reengage.sending import personalise
from reengage.sequencing import schedule
from reengage.settings import effective

SENT = ("sent", "delivered", "opened", "clicked")


class Batch:
    """Every row the checks of a batch of messages read, fetched once for the whole batch."""

    def __init__(self, messages: list[Message], now: datetime):
        db_session = db.session()

        def rows(model, ids):
            return {row.id: row for row in db_session.scalars(select(model).where(model.id.in_(set(ids) - {None})))}

        self.enrollments = rows(Enrollment, (m.enrollment_id for m in messages))
        self.flows = rows(Flow, (m.flow_id for m in messages))
        self.contacts = rows(Contact, (m.contact_id for m in messages))
        self.accounts = rows(Account, (m.account_id for m in messages))
        self.dropoffs = rows(Dropoff, (e.dropoff_id for e in self.enrollments.values()))
        contact_ids = set(self.contacts)
        # Looked up by the consent a step needs, which may be none: such a lookup finds nothing.
        self.suppressed: dict[tuple[int, str | None], str] = {
            (s.contact_id, s.channel): s.reason
            for s in db_session.scalars(select(Suppression).where(Suppression.contact_id.in_(contact_ids)))}
        # The sends a frequency cap can still count: those of the longest span any of these messages is capped over
        # (a message goes now or later, and a span holding it ends no earlier), not the contacts' whole history.
        spans = [schedule.cap(effective(self.accounts[m.account_id].settings, self.flows.get(m.flow_id))).span
                 for m in messages]
        self.sent: dict[tuple[int, str], list[datetime]] = defaultdict(list)
        query = select(Message.contact_id, Message.channel, Message.sent_at).where(
            Message.contact_id.in_(contact_ids), Message.status.in_(SENT), Message.sent_at.is_not(None),
            Message.sent_at > now - max(spans, default=timedelta(0)))
        for contact_id, channel, sent_at in db_session.execute(query):
            self.sent[(contact_id, channel)].append(cast(datetime, sent_at))  # the query reads sent messages only
        for moments in self.sent.values():
            moments.sort()


def check(message: Message, batch: Batch, now: datetime) -> str | None:
    """None when the message may go now (its content composed), else the state it was left in."""
    enrollment = batch.enrollments[message.enrollment_id]
    flow, contact = batch.flows[message.flow_id], batch.contacts[message.contact_id]
    account = batch.accounts[message.account_id]
    dropoff = batch.dropoffs.get(enrollment.dropoff_id)
    step = _step(flow, message)
    channel = CHANNELS[message.channel]
    consent = channel.consent(step) if step else None
    reason = _why_not(enrollment, flow, dropoff, contact, step, channel, batch.suppressed.get((contact.id, consent)))
    if reason is not None:
        message.status, message.reason = "skipped", reason[:500]
        return "skipped"
    assert step is not None  # _why_not skips a message whose step is gone
    settings = effective(account.settings, flow)
    sent = batch.sent[(contact.id, message.channel)]
    moment, why = timing.place(now, schedule.calendar(settings, contact), schedule.cap(settings), sent)
    if moment > now:
        # Delayed into quiet hours, a holiday or a burst: it waits for the next allowed slot.
        message.status, message.due_at, message.moved_because = "scheduled", moment, why
        return "scheduled"
    context = personalise.for_step(account.id, account.name, contact, dropoff, flow, settings, consent, message.id)
    try:
        with sandbox.unguarded():  # a send is never held back for its account's refused templates: it fails alone
            message.content = channel.compose(variant_of(step, message.variant), context)
    except Exception as error:  # checked when saved; a template can still fail on odd data
        message.status, message.reason = "failed", f"could not render: {error}"[:500]
        return "failed"
    schedule.book(sent, now)  # a second message of this batch to the same contact meets the cap too
    return None


def _step(flow: Flow, message: Message) -> dict | None:
    if isinstance((message.content or {}).get("written"), dict):
        return message.content["written"]  # sent by the send-phase-message action with its own definition
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
             channel: Channel, suppressed: str | None) -> str | None:
    """Why the message must not go now, or None."""
    if enrollment.status != "active":
        return f"enrollment {enrollment.status}" + (f": {enrollment.exit_reason}" if enrollment.exit_reason else "")
    if flow.deleted_at is not None:
        return "the flow was deleted"
    if dropoff is not None and dropoff.status in ("recovered", "dismissed", "retracted"):
        return f"the dropoff was {dropoff.status}"
    if step is None:
        return "the step is no longer in the flow"
    consent = channel.consent(step)
    if consent is not None:
        if suppressed:
            return f"suppressed on {consent}: {suppressed}"
        if (contact.consent or {}).get(consent) is False:
            return f"the contact withheld consent for {consent}"
    return channel.unreachable(contact, step)
