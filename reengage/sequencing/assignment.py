"""Routing: each dropoff ready for outreach enrolls in the flow its account mapped it to."""

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from reengage.models import Account, Contact, Dropoff, Flow, FlowRoute
from reengage.models.dropoff import TO_ROUTE
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
        for dropoff in dropoffs:
            dropoff.routed_at = now
            mapped = routes.get(dropoff.account_id, {})
            flow = next((mapped[s] for s in selectors(dropoff) if s in mapped), None)
            if flow is None:
                dropoff.route_note = "no enabled flow is mapped to this dropoff's rule, scenario or family"
                continue
            try:
                enrollment, created = enrollments.enroll(flow, contacts[dropoff.contact_id], dropoff, now, "dropoff",
                                                         settings.get(dropoff.account_id) or {})
            except enrollments.Refused as refused:
                dropoff.route_note = f"flow {flow.key!r} cooling down until {refused.until.isoformat()}"
                continue
            dropoff.route_note = (f"enrolled in flow {flow.key!r} (enrollment {enrollment.id})" if created else
                                  f"already enrolled in flow {flow.key!r} (enrollment {enrollment.id})")
    return len(dropoffs)
