"""Conversions: a dropoff recovered, and the enrollments that end because of it; or, when its goal turns out to
have happened by its deadline, retracted as a false alarm."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Row, select, update

from reengage import hooks
from reengage.models import Dropoff, Enrollment, Flow
from reengage.outcomes import tally
from reengage.platform import db
from reengage.platform.listed import one_of
from reengage.sequencing import enrollments

# Built once: these run for every chunk of events processed, and building a statement costs more than running it.
GOALS = select(Flow.id, Flow.account_id, Flow.goal_events).where(
    one_of(Flow.account_id, "accounts"), Flow.deleted_at.is_(None))
ACTIVE = select(Enrollment.contact_id, Enrollment.flow_id).where(
    one_of(Enrollment.account_id, "accounts"), Enrollment.status == "active",
    one_of(Enrollment.contact_id, "contacts"),
    one_of(Enrollment.flow_id, "flows"))


def recover(dropoff: Dropoff, at: datetime, revenue: Decimal | None, currency: str | None) -> None:
    """Mark `dropoff` recovered at `at`, with the time it took and the revenue; its enrollments end converted.

    A goal at or before the dropoff's own time retracts it instead; one earlier than a recovery already
    recorded moves the recovery to it.
    """
    if at <= dropoff.occurred_at:
        retract(dropoff, at)
        return
    if dropoff.status == "recovered":
        if dropoff.recovered_at is not None and at < dropoff.recovered_at:
            dropoff.recovered_at, dropoff.revenue = at, revenue
            dropoff.recovery_seconds = int((at - dropoff.occurred_at).total_seconds())
        return
    if dropoff.status not in ("open", "enrolled"):
        return
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


def retract(dropoff: Dropoff, goal_at: datetime) -> None:
    """A false alarm: the goal happened at `goal_at`, by the deadline, and arrived late. The dropoff counts nowhere
    (no recovery, revenue or credit); its enrollments end `retracted`, their pending messages skipped."""
    if dropoff.status not in ("open", "enrolled", "recovered"):
        return
    dropoff.status, dropoff.retracted_at = "retracted", goal_at
    dropoff.recovered_at = dropoff.recovery_seconds = dropoff.revenue = dropoff.credited_message_id = None
    session = db.session()
    query = select(Enrollment.id).where(Enrollment.dropoff_id == dropoff.id, Enrollment.status == "active")
    enrollments.end(session.scalars(query), "retracted", goal_at)
    session.execute(update(Enrollment).where(Enrollment.dropoff_id == dropoff.id,
                                             Enrollment.exit_reason == "converted").values(exit_reason="retracted"))


def on_events(claimed: Sequence[Row]) -> None:
    """A flow's goal event converts the contact's enrollment in it and recovers its dropoff (an event processor)."""
    goals: dict[tuple[int, str], list[int]] = defaultdict(list)
    for flow_id, account_id, goal_events in db.session().execute(
            GOALS, {"accounts": list({event.account_id for event in claimed})}):
        for event_type in goal_events or ():
            goals[(account_id, event_type)].append(flow_id)
    if not goals:
        return
    reaching = [event for event in claimed if (event.account_id, event.type) in goals]
    if not reaching:
        return
    # One query for the enrollments these goals could end: an event whose contact has none costs no query.
    candidates = {(contact_id, flow_id) for contact_id, flow_id in db.session().execute(ACTIVE, {
        "accounts": list({event.account_id for event in reaching}),
        "contacts": list({event.contact_id for event in reaching}),
        "flows": list({flow for flows in goals.values() for flow in flows})})}
    for event in sorted(reaching, key=lambda row: (row.occurred_at, row.id)):
        flow_ids = goals[(event.account_id, event.type)]
        if not any((event.contact_id, flow_id) in candidates for flow_id in flow_ids):
            continue
        ids = enrollments.active_ids(event.account_id, [event.contact_id], flow_ids, started_by=event.occurred_at)
        if not ids:
            continue
        dropoffs = select(Dropoff).join(Enrollment, Enrollment.dropoff_id == Dropoff.id).where(
            Enrollment.id.in_(ids), Dropoff.status.in_(("open", "enrolled")))
        for dropoff in db.session().scalars(dropoffs):
            recover(dropoff, event.occurred_at, event.value, event.currency)
        enrollments.end(ids, "converted", event.occurred_at)
