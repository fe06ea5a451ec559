"""Dropoff detection for inactivity rules: watches opened by start events, closed by goals.

Events are judged by when they happened (`occurred_at`), not when they arrived: a goal that
arrives before its start still counts, and a goal that happened before a deadline recovers
the dropoff the clock raised while the goal was on its way.
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select, text

from reengage import db, durations
from reengage.models import Dropoff, Event, Rule, Watch

log = logging.getLogger(__name__)

INTENTS = ("low", "medium", "high")
# A contact this active in the 30 days before a dropoff is more likely to come back.
ENGAGEMENT_WINDOW = timedelta(days=30)
ENGAGED_EVENTS = 5
# Literal predicates, so PostgreSQL can use the partial indexes they match.
OPEN = text("watches.status = 'open'")
ACTIVE = text("dropoffs.status IN ('open', 'enrolled')")


def on_events(claimed: Sequence[Row]) -> None:
    """Open and close watches for newly processed events (an event processor)."""
    db_session = db.session()
    accounts = {event.account_id for event in claimed}
    rules: dict[int, list[Rule]] = defaultdict(list)
    query = select(Rule).where(Rule.account_id.in_(accounts), Rule.enabled.is_(True), Rule.kind == "inactivity")
    for rule in db_session.scalars(query):
        rules[rule.account_id].append(rule)
    for event in sorted(claimed, key=lambda row: (row.occurred_at, row.id)):
        for rule in rules.get(event.account_id, ()):
            if event.type in rule.params["goal_events"]:
                _reach_goal(rule, event)
            if event.type in rule.params["start_events"]:
                _open_watch(rule, event)


def expire_due(now: datetime, limit: int) -> int:
    """Turn up to `limit` watches whose deadline has passed into dropoffs; answer how many."""
    with db.transaction() as db_session:
        due = db_session.scalars(
            select(Watch).where(OPEN, Watch.deadline <= now).order_by(Watch.deadline).limit(limit)
            .with_for_update(skip_locked=True)  # several clocks take different watches (PostgreSQL)
        ).all()
        wanted = select(Rule).where(Rule.id.in_({watch.rule_id for watch in due}))
        rules = {rule.id: rule for rule in db_session.scalars(wanted)}
        for watch in due:
            rule = rules[watch.rule_id]
            reached = _goal_between(rule, watch.contact_id, watch.match_value, watch.started_at, watch.deadline)
            if reached is not None:
                # A goal was stored but not yet processed: no dropoff, only a late close.
                watch.status, watch.closed_at = "closed", reached
            else:
                _raise(rule, watch, now)
    return len(due)


def _open_watch(rule: Rule, event: Row) -> None:
    params = rule.params
    start = event.occurred_at
    if params.get("wait_from"):
        start = _timestamp(event.properties.get(params["wait_from"]))
        if start is None:
            log.warning("event %s has no usable %r for rule %s: no watch opened",
                        event.id, params["wait_from"], rule.key)
            return
    deadline = start + durations.parse(params["wait"])
    match = _match(rule, event.properties) or ""
    if _goal_between(rule, event.contact_id, match, event.occurred_at, deadline) is not None:
        return  # its goal arrived first
    db_session = db.session()
    exists = select(Watch.id).where(OPEN, Watch.rule_id == rule.id, Watch.contact_id == event.contact_id,
                                    Watch.match_value == match)
    if db_session.scalar(exists) is None:
        db_session.add(Watch(account_id=rule.account_id, rule_id=rule.id, contact_id=event.contact_id,
                             match_value=match, start_event_id=event.id, started_at=event.occurred_at,
                             deadline=deadline, value=event.value, currency=event.currency))
        db_session.flush()


def _reach_goal(rule: Rule, event: Row) -> None:
    db_session = db.session()
    match = _match(rule, event.properties)
    watches = select(Watch).where(OPEN, Watch.rule_id == rule.id, Watch.contact_id == event.contact_id,
                                  Watch.started_at <= event.occurred_at)
    dropoffs = select(Dropoff).where(ACTIVE, Dropoff.rule_id == rule.id, Dropoff.contact_id == event.contact_id,
                                     Dropoff.started_at <= event.occurred_at)
    if match is not None:
        watches = watches.where(Watch.match_value == match)
        dropoffs = dropoffs.where(Dropoff.match_value == match)
    for watch in db_session.scalars(watches):
        if watch.deadline >= event.occurred_at:
            watch.status, watch.closed_at = "closed", event.occurred_at
        else:
            _raise(rule, watch, event.occurred_at)  # the clock had not come to it yet
    db_session.flush()
    for dropoff in db_session.scalars(dropoffs):
        dropoff.status, dropoff.recovered_at = "recovered", event.occurred_at
        dropoff.recovery_seconds = max(0, int((event.occurred_at - dropoff.occurred_at).total_seconds()))
        dropoff.revenue = event.value


def _raise(rule: Rule, watch: Watch, now: datetime) -> None:
    """Expire `watch` into a dropoff, unless its contact already has one active for the rule."""
    db_session = db.session()
    watch.status = "expired"
    active = select(Dropoff.id).where(ACTIVE, Dropoff.rule_id == rule.id, Dropoff.contact_id == watch.contact_id,
                                      Dropoff.match_value == watch.match_value)
    if db_session.scalar(active) is not None:
        return
    intent, segment = _assess(rule, watch)
    db_session.add(Dropoff(
        account_id=watch.account_id, rule_id=rule.id, rule_key=rule.key, contact_id=watch.contact_id,
        match_value=watch.match_value, scenario=rule.scenario, stage=rule.stage, kind=rule.kind,
        category="inactive", intent=intent, value_at_risk=watch.value, currency=watch.currency,
        started_at=watch.started_at, occurred_at=watch.deadline, detected_at=now, segment=segment,
    ))
    db_session.flush()


def _assess(rule: Rule, watch: Watch) -> tuple[str, dict[str, Any]]:
    """Intent (the rule's base, one level up for an engaged contact) and segmentation fields."""
    db_session = db.session()
    recent = db_session.scalar(
        select(func.count()).select_from(Event).where(
            Event.account_id == watch.account_id, Event.contact_id == watch.contact_id,
            Event.occurred_at > watch.deadline - ENGAGEMENT_WINDOW, Event.occurred_at <= watch.deadline,
        )
    )
    engagement = "high" if recent >= ENGAGED_EVENTS else "medium" if recent >= 2 else "low"
    base = INTENTS.index(rule.params.get("intent", "medium"))
    intent = INTENTS[min(base + (engagement == "high"), len(INTENTS) - 1)]
    start = db_session.get(Event, watch.start_event_id)
    segment = {"stage": rule.stage, "engagement": engagement, "events_30d": recent}
    if start is not None and start.properties.get("objection"):
        segment["objection"] = start.properties["objection"]
    return intent, segment


def _goal_between(rule: Rule, contact_id: int, match: str, since: datetime, until: datetime) -> datetime | None:
    """When a stored goal event of `rule` for this contact and match happened in [since, until]."""
    query = (
        select(Event.occurred_at, Event.properties)
        .where(Event.account_id == rule.account_id, Event.contact_id == contact_id,
               Event.type.in_(rule.params["goal_events"]), Event.occurred_at >= since, Event.occurred_at <= until)
        .order_by(Event.occurred_at)
    )
    for occurred_at, properties in db.session().execute(query):
        theirs = _match(rule, properties)
        if theirs is None or theirs == match:
            return occurred_at
    return None


def _match(rule: Rule, properties: dict[str, Any]) -> str | None:
    """The event's match value for `rule`: '' without a match key, None when the event has none."""
    key = rule.params.get("match_key")
    if not key:
        return ""
    value = properties.get(key)
    return None if value is None else str(value)[:255]


def _timestamp(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
