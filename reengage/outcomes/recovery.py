"""Conversions: a dropoff recovered, and the enrollments that end because of it."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Row, select

from reengage import hooks
from reengage.models import Dropoff, Enrollment, Flow
from reengage.outcomes import tally
from reengage.platform import db
from reengage.sequencing import enrollments


def recover(dropoff: Dropoff, at: datetime, revenue: Decimal | None, currency: str | None) -> None:
    """Mark `dropoff` recovered at `at`, with the time it took and the revenue; its enrollments end converted."""
    # Only an enrolled dropoff has enrollments to end: recovering an open one (most of them) costs no query.
    enrolled = dropoff.status == "enrolled"
    dropoff.status, dropoff.recovered_at = "recovered", at
    dropoff.recovery_seconds = max(0, int((at - dropoff.occurred_at).total_seconds()))
    dropoff.revenue = revenue
    dropoff.currency = currency or dropoff.currency
    if enrolled:
        tally.credit(dropoff, at)
        query = select(Enrollment.id).where(Enrollment.dropoff_id == dropoff.id, Enrollment.status == "active")
        enrollments.end(db.session().scalars(query), "converted", at)
    hooks.publish("contact.recovered", {dropoff.account_id: [dropoff.id]})


def on_events(claimed: Sequence[Row]) -> None:
    """A flow's goal event converts the contact's enrollment in it and recovers its dropoff (an event processor)."""
    accounts = {event.account_id for event in claimed}
    goals: dict[tuple[int, str], list[int]] = defaultdict(list)
    query = select(Flow.id, Flow.account_id, Flow.goal_events).where(Flow.account_id.in_(accounts),
                                                                    Flow.deleted_at.is_(None))
    for flow_id, account_id, goal_events in db.session().execute(query):
        for event_type in goal_events or ():
            goals[(account_id, event_type)].append(flow_id)
    if not goals:
        return
    for event in sorted(claimed, key=lambda row: (row.occurred_at, row.id)):
        flow_ids = goals.get((event.account_id, event.type))
        if not flow_ids:
            continue
        ids = enrollments.active_ids(event.account_id, [event.contact_id], flow_ids, started_by=event.occurred_at)
        if not ids:
            continue
        dropoffs = select(Dropoff).join(Enrollment, Enrollment.dropoff_id == Dropoff.id).where(
            Enrollment.id.in_(ids), Dropoff.status.in_(("open", "enrolled")))
        for dropoff in db.session().scalars(dropoffs):
            recover(dropoff, event.occurred_at, event.value, event.currency)
        enrollments.end(ids, "converted", event.occurred_at)
