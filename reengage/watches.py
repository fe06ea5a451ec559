"""Watches and the dropoffs they become: the operations every rule kind shares.

Events are judged by when they happened (`occurred_at`), not when they arrived: a goal that
arrives before its start still counts, and a goal that happened before a deadline recovers
the dropoff the clock raised while the goal was on its way.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select, text

from reengage import db
from reengage.models import Dropoff, Event, Rule, Watch

INTENTS = ("low", "medium", "high")
# A contact this active in the 30 days before a dropoff is more likely to come back.
ENGAGEMENT_WINDOW = timedelta(days=30)
ENGAGED_EVENTS = 5
# Literal predicates, so PostgreSQL can use the partial indexes they match.
OPEN = text("watches.status = 'open'")
ACTIVE = text("dropoffs.status IN ('open', 'enrolled')")


@dataclass
class Verdict:
    """What a rule kind says of an expired watch: why the contact dropped off, how keen they are."""

    category: str
    intent: str
    segment: dict[str, Any] = field(default_factory=dict)


def open_or_extend(rule: Rule, event: Row, deadline: datetime, match: str, category: str = "",
                   details: dict[str, Any] | None = None) -> Watch:
    """The open watch of this rule, contact and match, opened by `event` or moved on by it."""
    db_session = db.session()
    watch = db_session.scalar(select(Watch).where(
        OPEN, Watch.rule_id == rule.id, Watch.contact_id == event.contact_id, Watch.match_value == match))
    if watch is None:
        watch = Watch(account_id=rule.account_id, rule_id=rule.id, contact_id=event.contact_id, match_value=match,
                      start_event_id=event.id, started_at=event.occurred_at, deadline=deadline,
                      value=event.value, currency=event.currency, category=category, details=details or {})
        db_session.add(watch)
    elif event.occurred_at >= watch.started_at:
        watch.deadline = max(watch.deadline, deadline)
        watch.category = category or watch.category
        watch.details = {**watch.details, **(details or {})}
    db_session.flush()
    return watch


def has_open(rule: Rule, contact_id: int, match: str) -> bool:
    """Whether this rule already watches this contact and match."""
    query = select(Watch.id).where(OPEN, Watch.rule_id == rule.id, Watch.contact_id == contact_id,
                                   Watch.match_value == match)
    return db.session().scalar(query) is not None


def reach_goal(rule: Rule, event: Row, decide) -> None:
    """Close the watches `event` reached in time; raise and recover the ones it reached late."""
    db_session = db.session()
    match = match_value(rule, event.properties)
    watches = select(Watch).where(OPEN, Watch.rule_id == rule.id, Watch.contact_id == event.contact_id,
                                  Watch.started_at <= event.occurred_at)
    dropoffs = select(Dropoff).where(ACTIVE, Dropoff.rule_id == rule.id, Dropoff.contact_id == event.contact_id,
                                     Dropoff.started_at <= event.occurred_at)
    if match is not None:
        watches = watches.where(Watch.match_value == match)
        dropoffs = dropoffs.where(Dropoff.match_value == match)
    for watch in db_session.scalars(watches):
        if watch.deadline >= event.occurred_at:
            close(watch, event.occurred_at)
        else:
            expire(rule, watch, event.occurred_at, decide(rule, watch))  # the clock had not come to it yet
    db_session.flush()
    for dropoff in db_session.scalars(dropoffs):
        dropoff.status, dropoff.recovered_at = "recovered", event.occurred_at
        dropoff.recovery_seconds = max(0, int((event.occurred_at - dropoff.occurred_at).total_seconds()))
        dropoff.revenue = event.value


def close(watch: Watch, at: datetime) -> None:
    """Close `watch`: its contact did what the rule waited for."""
    watch.status, watch.closed_at = "closed", at


def expire(rule: Rule, watch: Watch, now: datetime, verdict: Verdict | None) -> None:
    """End `watch` at its deadline: a dropoff, unless the verdict is none or one is already active."""
    db_session = db.session()
    if verdict is None:
        close(watch, watch.deadline)
        return
    watch.status = "expired"
    active = select(Dropoff.id).where(ACTIVE, Dropoff.rule_id == rule.id, Dropoff.contact_id == watch.contact_id,
                                      Dropoff.match_value == watch.match_value)
    if db_session.scalar(active) is not None:
        return
    engagement, recent = _engagement(watch)
    intent = verdict.intent
    if engagement == "high":
        intent = INTENTS[min(INTENTS.index(intent) + 1, len(INTENTS) - 1)]
    segment = {"stage": rule.stage, "engagement": engagement, "events_30d": recent, **verdict.segment}
    start = db_session.get(Event, watch.start_event_id)
    if start is not None and start.properties.get("objection"):
        segment["objection"] = start.properties["objection"]
    db_session.add(Dropoff(
        account_id=watch.account_id, rule_id=rule.id, rule_key=rule.key, contact_id=watch.contact_id,
        match_value=watch.match_value, scenario=rule.scenario, stage=rule.stage, kind=rule.kind,
        category=verdict.category, intent=intent, value_at_risk=watch.value, currency=watch.currency,
        started_at=watch.started_at, occurred_at=watch.deadline, detected_at=now, segment=segment,
    ))
    db_session.flush()


def first_between(rule: Rule, contact_id: int, match: str, types: list[str], since: datetime,
                  until: datetime) -> datetime | None:
    """When the first stored event of `types` for this contact and match happened in [since, until]."""
    moments = events_between(rule, contact_id, match, types, since, until)
    return moments[0][0] if moments else None


def events_between(rule: Rule, contact_id: int, match: str, types: list[str], since: datetime,
                   until: datetime) -> list[tuple[datetime, str]]:
    """(occurred_at, type) of the stored events of `types` for this contact and match, in order."""
    query = (
        select(Event.occurred_at, Event.type, Event.properties)
        .where(Event.account_id == rule.account_id, Event.contact_id == contact_id, Event.type.in_(types),
               Event.occurred_at >= since, Event.occurred_at <= until)
        .order_by(Event.occurred_at, Event.id)
    )
    found = []
    for occurred_at, type_, properties in db.session().execute(query):
        theirs = match_value(rule, properties)
        if theirs is None or theirs == match:
            found.append((occurred_at, type_))
    return found


def match_value(rule: Rule, properties: dict[str, Any]) -> str | None:
    """The event's match value for `rule`: '' without a match key, None when the event has none."""
    key = rule.params.get("match_key")
    if not key:
        return ""
    value = properties.get(key)
    return None if value is None else str(value)[:255]


def timestamp(raw: Any) -> datetime | None:
    """An ISO 8601 time from an event property, as aware UTC (naive is read as UTC)."""
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _engagement(watch: Watch) -> tuple[str, int]:
    recent = db.session().scalar(
        select(func.count()).select_from(Event).where(
            Event.account_id == watch.account_id, Event.contact_id == watch.contact_id,
            Event.occurred_at > watch.deadline - ENGAGEMENT_WINDOW, Event.occurred_at <= watch.deadline,
        )
    )
    return ("high" if recent >= ENGAGED_EVENTS else "medium" if recent >= 2 else "low"), recent
