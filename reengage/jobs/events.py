"""Processing stored events: each event is claimed once, then handed to every processor."""

from collections.abc import Callable, Sequence

from sqlalchemy import Row, bindparam, or_, update

from reengage import hooks
from reengage.detection import detect
from reengage.jobs import job
from reengage.models import Contact, Event
from reengage.outcomes import engagement, recovery
from reengage.platform import db
from reengage.winback import events as winback_events

events, contacts = Event.__table__, Contact.__table__
# Built once: these run for every batch of events, and building a statement costs more than running it.
CLAIM = (
    update(events)
    .where(events.c.id.in_(bindparam("ids", expanding=True)), events.c.processed_at.is_(None))
    .values(processed_at=bindparam("now"))
    .returning(
        events.c.id, events.c.account_id, events.c.contact_id, events.c.type, events.c.occurred_at,
        events.c.properties, events.c.value, events.c.currency,
    )
)
TOUCH = (
    update(contacts)
    .where(
        contacts.c.id == bindparam("contact_id"),
        or_(contacts.c.last_event_at.is_(None), contacts.c.last_event_at < bindparam("occurred_at")),
    )
    .values(last_event_at=bindparam("occurred_at"))
)


def touch_contacts(claimed: Sequence[Row]) -> None:
    """Move each contact's `last_event_at` forward to its newest event."""
    newest: dict[int, object] = {}
    for event in claimed:
        if event.contact_id not in newest or event.occurred_at > newest[event.contact_id]:
            newest[event.contact_id] = event.occurred_at
    params = [{"contact_id": contact_id, "occurred_at": occurred_at} for contact_id, occurred_at in newest.items()]
    db.session().connection().execute(TOUCH, params)


# Every processor sees each event once, in the transaction that claims it.
PROCESSORS: tuple[Callable[[Sequence[Row]], None], ...] = (
    touch_contacts, engagement.on_events, detect.on_events, recovery.on_events, winback_events.on_events,
    hooks.on_events)


@job(merge_lists=True)
def process_events(event_ids: list[int]) -> int:
    """Claim the given events that no one has processed yet and process them; safe to repeat."""
    with db.transaction() as db_session:
        claimed = db_session.connection().execute(CLAIM, {"ids": event_ids, "now": db.utcnow()}).all()
        if claimed:
            for processor in PROCESSORS:
                processor(claimed)
    return len(claimed)
