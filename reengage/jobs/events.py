"""Processing stored events: each event is claimed once, then handed to every processor."""

from collections.abc import Callable, Sequence

from sqlalchemy import Row, and_, or_, update

from reengage import db
from reengage.jobs import job
from reengage.models import Contact, Event


def touch_contacts(events: Sequence[Row]) -> None:
    """Move each contact's `last_event_at` forward to its newest event."""
    newest: dict[int, object] = {}
    for event in events:
        if event.contact_id not in newest or event.occurred_at > newest[event.contact_id]:
            newest[event.contact_id] = event.occurred_at
    db_session = db.session()
    for contact_id, occurred_at in newest.items():
        db_session.execute(
            update(Contact)
            .where(
                Contact.id == contact_id,
                or_(Contact.last_event_at.is_(None), Contact.last_event_at < occurred_at),
            )
            .values(last_event_at=occurred_at)
            .execution_options(synchronize_session=False)
        )


# Every processor sees each event once, in the transaction that claims it.
PROCESSORS: tuple[Callable[[Sequence[Row]], None], ...] = (touch_contacts,)


@job
def process_events(event_ids: list[int]) -> int:
    """Claim the given events that no one has processed yet and process them; safe to repeat."""
    with db.transaction() as db_session:
        claimed = db_session.execute(
            update(Event)
            .where(and_(Event.id.in_(event_ids), Event.processed_at.is_(None)))
            .values(processed_at=db.utcnow())
            .returning(Event.id, Event.account_id, Event.contact_id, Event.type, Event.occurred_at)
            .execution_options(synchronize_session=False)
        ).all()
        if claimed:
            for processor in PROCESSORS:
                processor(claimed)
    return len(claimed)
