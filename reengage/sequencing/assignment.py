"""Routing: each dropoff ready for outreach enrolls in the flow its account mapped it to.

A dropoff its flow refuses for now is looked at again: one whose contact is already in the flow waits
for that enrollment to end (then the flow's cooldown applies), one refused by the cooldown is ready
again when the cooldown passes. So a second lost deal of a contact gets its own win-back in turn.
"""

from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, ScalarSelect, bindparam, exists, or_, select, update

from reengage.models import Account, Contact, Dropoff, Enrollment, Flow, FlowRoute
from reengage.models.dropoff import TO_ROUTE, WAITING
from reengage.platform import db
from reengage.sequencing import enrollments

READY = (select(Dropoff).where(TO_ROUTE, Dropoff.ready_at <= bindparam("now")).order_by(Dropoff.ready_at)
         .limit(bindparam("limit")).with_for_update(skip_locked=True))


def selectors(dropoff: Dropoff) -> list[str]:
    """The selectors that match `dropoff`, most specific first."""
    return [f"rule:{dropoff.rule_key}", f"scenario:{dropoff.scenario}/{dropoff.category}",
            f"scenario:{dropoff.scenario}", f"family:{dropoff.scenario.split('.', 1)[0]}"]


def flows_for(account_ids: set[int]) -> dict[int, dict[str, Flow]]:
    """Account -> selector -> the enabled flow it enrolls into."""
    query = (select(FlowRoute.account_id, FlowRoute.selector, Flow).join(Flow, Flow.id == FlowRoute.flow_id)
             .where(FlowRoute.account_id.in_(account_ids), Flow.deleted_at.is_(None), Flow.enabled.is_(True)))
    routes: dict[int, dict[str, Flow]] = defaultdict(dict)
    for account_id, selector, flow in db.session().execute(query):
        routes[account_id][selector] = flow
    return routes


def enroll_ready(now: datetime, limit: int) -> int:
    """Enroll up to `limit` dropoffs that became ready for outreach; answer how many were looked at."""
    with db.transaction() as db_session:
        dropoffs = list(db_session.scalars(READY, {"now": now, "limit": limit}))
        if not dropoffs:
            return 0
        accounts = {dropoff.account_id for dropoff in dropoffs}
        routes = flows_for(accounts)
        settings: dict[int, dict[str, Any]] = dict(db_session.execute(
            select(Account.id, Account.settings).where(Account.id.in_(accounts))).all())
        contacts = {contact.id: contact for contact in db_session.scalars(
            select(Contact).where(Contact.id.in_({dropoff.contact_id for dropoff in dropoffs})))}
        routed: list[tuple[Dropoff, Flow]] = []
        for dropoff in dropoffs:
            dropoff.routed_at = now
            mapped = routes.get(dropoff.account_id, {})
            flow = next((mapped[s] for s in selectors(dropoff) if s in mapped), None)
            if flow is None:
                dropoff.route_note = "no enabled flow is mapped to this dropoff's rule, scenario or family"
            else:
                routed.append((dropoff, flow))
        outcomes = enrollments.enroll_all([
            enrollments.Entry(flow, contacts[dropoff.contact_id], dropoff, "dropoff",
                              settings.get(dropoff.account_id) or {}) for dropoff, flow in routed], now)
        for (dropoff, flow), outcome in zip(routed, outcomes, strict=True):
            if isinstance(outcome, enrollments.Refused):
                # Ready again when the cooldown passes.
                dropoff.routed_at, dropoff.ready_at = None, outcome.until
                dropoff.route_note = (f"flow {flow.key!r} cooling down until {outcome.until.isoformat()}; "
                                      "looked at again then")
                continue
            enrollment, created = outcome
            if created or enrollment.dropoff_id == dropoff.id:
                dropoff.route_note = f"enrolled in flow {flow.key!r} (enrollment {enrollment.id})"
                continue
            # Its contact is in the flow for another reason: this one waits for that run to end.
            dropoff.routed_at, dropoff.ready_at, dropoff.waits_for_id = None, None, enrollment.id
            dropoff.route_note = (f"already enrolled in flow {flow.key!r} (enrollment {enrollment.id}); looked at "
                                  "again when it ends")
    return len(dropoffs)


def _ended() -> ScalarSelect[Any]:
    """When the enrollment a waiting dropoff waits for ended (null while it runs)."""
    return (select(Enrollment.ended_at).where(Enrollment.id == Dropoff.waits_for_id, Enrollment.ended_at.is_not(None))
            .scalar_subquery())


# Whether `wake_waiting` or `enroll_ready` would find anything as of `now` (for the clock, which skips idle tasks).
ANY_READY: ColumnElement[bool] = or_(
    exists().where(TO_ROUTE, Dropoff.ready_at <= bindparam("now")),
    exists().where(WAITING, Dropoff.status == db.constant("open"), _ended().is_not(None)))


def wake_waiting(now: datetime) -> int:
    """Make dropoffs ready whose contact's enrollment they waited for has ended; answer how many."""
    with db.transaction() as db_session:
        ended = _ended()
        waking = (update(Dropoff).where(WAITING, Dropoff.status == "open", ended.is_not(None))
                  .values(ready_at=ended, waits_for_id=None).execution_options(synchronize_session=False))
        woken = cast(CursorResult[Any], db_session.execute(waking))
    return int(woken.rowcount or 0)
