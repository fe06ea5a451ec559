"""Dropoff detection: events reach each rule's kind; the clock expires watches into dropoffs."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, select

from reengage import db, watches
from reengage.detectors import DETECTORS
from reengage.models import Rule, Watch


def on_events(claimed: Sequence[Row]) -> None:
    """Let every enabled rule of the events' accounts read them, oldest first (an event processor)."""
    accounts = {event.account_id for event in claimed}
    rules: dict[int, list[Rule]] = defaultdict(list)
    query = select(Rule).where(Rule.account_id.in_(accounts), Rule.enabled.is_(True), Rule.kind.in_(DETECTORS))
    for rule in db.session().scalars(query.order_by(Rule.id)):
        rules[rule.account_id].append(rule)
    for event in sorted(claimed, key=lambda row: (row.occurred_at, row.id)):
        for rule in rules.get(event.account_id, ()):
            detector = DETECTORS[rule.kind]
            if event.type in detector.goals(rule.params):
                watches.reach_goal(rule, event, verdict)
            detector.on_event(rule, event)


def expire_due(now: datetime, limit: int) -> int:
    """End up to `limit` watches whose deadline has passed; answer how many."""
    with db.transaction() as db_session:
        due = db_session.scalars(
            select(Watch).where(watches.OPEN, Watch.deadline <= now).order_by(Watch.deadline).limit(limit)
            .with_for_update(skip_locked=True)  # several clocks take different watches (PostgreSQL)
        ).all()
        wanted = select(Rule).where(Rule.id.in_({watch.rule_id for watch in due}))
        rules = {rule.id: rule for rule in db_session.scalars(wanted)}
        for watch in due:
            rule = rules[watch.rule_id]
            goals = DETECTORS[rule.kind].goals(rule.params)
            reached = goals and watches.first_between(rule, watch.contact_id, watch.match_value, goals,
                                                      watch.started_at, watch.deadline)
            if reached:
                watches.close(watch, reached)  # a goal stored but not yet processed
            else:
                watches.expire(rule, watch, now, verdict(rule, watch))
    return len(due)


def verdict(rule: Rule, watch: Watch) -> watches.Verdict | None:
    """What the rule's kind makes of a watch that reached its deadline."""
    return DETECTORS[rule.kind].on_expire(rule, watch)
