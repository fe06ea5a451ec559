"""Watches and the dropoffs they become: the operations every rule kind shares.

Events are judged by when they happened (`occurred_at`), not when they arrived: a goal that
arrives before its start still counts, and a goal that happened before a deadline recovers
the dropoff the clock raised while the goal was on its way.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select, text, update

from reengage import hooks
from reengage.detection import batch
from reengage.links.provider import of_kind
from reengage.models import Connection, Contact, Dropoff, Event, Rule, ServiceStatus, Watch
from reengage.outcomes.recovery import recover
from reengage.platform import db

INTENTS = ("low", "medium", "high")
# A contact this active in the 30 days before a dropoff is more likely to come back.
ENGAGEMENT_WINDOW = timedelta(days=30)
ENGAGED_EVENTS = 5
# Events that count as a purchase in a contact's history (a segmentation field of every dropoff).
PURCHASE_EVENTS = ("purchase_completed", "order_completed", "payment_succeeded", "deal.closed_won")
# Literal predicates, so PostgreSQL can use the partial indexes they match.
OPEN = text("watches.status = 'open'")
ACTIVE = text("dropoffs.status IN ('open', 'enrolled')")
watches_table, dropoffs_table = Watch.__table__, Dropoff.__table__
CLOSE = (update(watches_table).where(watches_table.c.id == bindparam("watch_id"))
         .values(status="closed", closed_at=bindparam("at")))
EXPIRE = update(watches_table).where(watches_table.c.id == bindparam("watch_id")).values(status="expired")
# The event a rule kind is reading, as (occurred_at, key): it sees only events up to that one, as if they
# had arrived in the order they happened, so what it makes of an event never depends on what arrived after.
_reading: ContextVar[tuple[datetime, str] | None] = ContextVar("reading", default=None)


@contextmanager
def reading(event: Row) -> Iterator[None]:
    """While a rule kind reads `event`, stored events that happened after it stay out of its sight."""
    token = _reading.set((event.occurred_at, event.key))
    try:
        yield
    finally:
        _reading.reset(token)


@dataclass
class Verdict:
    """What a rule kind says of an expired watch: why the contact dropped off, how keen they are."""

    category: str
    intent: str
    segment: dict[str, Any] = field(default_factory=dict)
    # The outside service behind a known error, when the event named one.
    service: str | None = None
    # A scenario more precise than the rule's (a lost deal's loss reason).
    scenario: str | None = None


def open_or_extend(rule: Rule, event: Row, deadline: datetime, match: str, category: str = "",
                   details: dict[str, Any] | None = None, grace: timedelta = timedelta(0)) -> Watch:
    """The open watch of this rule, contact and match, opened by `event` or moved on by it; the clock acts on it
    `grace` after its deadline."""
    db_session, preload = db.session(), batch.current()
    watch = _open_watch(rule, event.contact_id, match)
    if watch is None:
        # Every column given (status too, which a goal in the same batch may set to closed): a batch's watches then
        # share their columns and go in one multi-row INSERT on PostgreSQL.
        watch = Watch(account_id=rule.account_id, rule_id=rule.id, contact_id=event.contact_id, match_value=match,
                      start_event_id=event.id, started_at=event.occurred_at, deadline=deadline,
                      due_at=deadline + grace, status="open",
                      value=_value(event), currency=event.currency, category=category, details=details or {})
        db_session.add(watch)
        if preload is not None:
            preload.opened(watch)
    elif event.occurred_at >= watch.started_at:
        watch.deadline = max(watch.deadline, deadline)
        watch.due_at = watch.deadline + grace
        watch.category = category or watch.category
        watch.details = {**watch.details, **(details or {})}
    if preload is None:
        db_session.flush()  # a batch writes its watches together (see end and batch.preloaded)
    return watch


def _value(event: Row) -> Decimal | None:
    """The money at stake: the event's `value`, else a numeric `value` or `amount` property."""
    if event.value is not None:
        return event.value
    for key in ("value", "amount"):
        raw = event.properties.get(key)
        if isinstance(raw, int | float) and not isinstance(raw, bool) and raw >= 0:
            return Decimal(str(raw))
    return None


def has_open(rule: Rule, contact_id: int, match: str) -> bool:
    """Whether this rule already watches this contact and match."""
    return _open_watch(rule, contact_id, match) is not None


def _open_watch(rule: Rule, contact_id: int, match: str) -> Watch | None:
    preload = batch.current()
    if preload is not None and preload.knows((rule.id, contact_id), match):
        return preload.watches.get((rule.id, contact_id), {}).get(match)
    return db.session().scalar(select(Watch).where(
        OPEN, Watch.rule_id == rule.id, Watch.contact_id == contact_id, Watch.match_value == match))


def reach_goal(rule: Rule, event: Row, decide: Callable[[Rule, Row], Verdict | None]) -> None:
    """Close the watches `event` reached in time; raise and recover the ones it reached late."""
    db_session = db.session()
    match = match_value(rule, event.properties)
    pair, preload = (rule.id, event.contact_id), batch.current()
    rows = [watch for watch in _open_of(rule, event.contact_id, match) if watch.started_at <= event.occurred_at]
    in_time = [(watch, event.occurred_at) for watch in rows if watch.deadline >= event.occurred_at]
    # Past their deadline, but the clock had not come to them yet: raise, then recover below.
    late = [(watch, decide(rule, watch)) for watch in rows if watch.deadline < event.occurred_at]
    end({rule.id: rule}, in_time, late, event.occurred_at)
    if preload is not None and pair in preload.no_active:
        return  # no active dropoff to recover, known without asking
    dropoffs = select(Dropoff).where(ACTIVE, Dropoff.rule_id == rule.id, Dropoff.contact_id == event.contact_id,
                                     Dropoff.started_at <= event.occurred_at)
    if match is not None:
        dropoffs = dropoffs.where(Dropoff.match_value == match)
    for dropoff in db_session.scalars(dropoffs):
        recover(dropoff, event.occurred_at, event.value, event.currency)


def overdue(rule: Rule, event: Row, decide: Callable[[Rule, Row], Verdict | None]) -> None:
    """End the open watches of the event's contact (and match value) that were due before it happened, as the clock
    would have by then: a start after its watch was due opens a watch of its own instead of moving that one on, so a
    batch that spans a deadline gets the verdicts of its events arriving as they happened."""
    rows = [watch for watch in _open_of(rule, event.contact_id, match_value(rule, event.properties))
            if watch.due_at < event.occurred_at]
    if rows:
        end({rule.id: rule}, [], [(watch, decide(rule, watch)) for watch in rows], db.utcnow())


def _open_of(rule: Rule, contact_id: int, match: str | None) -> Sequence[Any]:
    """The rule's open watches of the contact and match value (of every one, when None): from the batch's own view
    where it holds them, else from the database."""
    pair, preload = (rule.id, contact_id), batch.current()
    if preload is not None and preload.knows(pair, match):
        return preload.open_watches(pair, match)
    query = select(watches_table).where(OPEN, watches_table.c.rule_id == rule.id,
                                        watches_table.c.contact_id == contact_id)
    if match is not None:
        query = query.where(watches_table.c.match_value == match)
    return db.session().connection().execute(query).all()


def goals_reached(rules: dict[int, Rule], goals: dict[int, list[str]], due: Sequence[Row]) -> dict[int, datetime]:
    """For due watches whose goal is stored but not yet processed: watch id -> when it was reached.

    A processed goal already closed every watch it reached; one still open beside it was opened after it, by an
    event of the same instant that the goal preceded (a later moment would have made that event late)."""
    reached: dict[int, datetime] = {}
    by_rule: dict[int, list[Row]] = defaultdict(list)
    for watch in due:
        if goals[watch.rule_id]:
            by_rule[watch.rule_id].append(watch)
    for rule_id, watches in by_rule.items():
        rule = rules[rule_id]
        query = select(Event.contact_id, Event.occurred_at, Event.properties).where(
            Event.account_id == rule.account_id, Event.contact_id.in_({w.contact_id for w in watches}),
            Event.type.in_(goals[rule_id]), Event.occurred_at >= min(w.started_at for w in watches),
            Event.occurred_at <= max(w.deadline for w in watches), Event.processed_at.is_(None),
        ).order_by(Event.occurred_at)
        found: dict[int, list[tuple[datetime, str | None]]] = defaultdict(list)
        for contact_id, occurred_at, properties in db.session().execute(query):
            found[contact_id].append((occurred_at, match_value(rule, properties)))
        for watch in watches:
            for occurred_at, theirs in found.get(watch.contact_id, ()):
                if watch.started_at <= occurred_at <= watch.deadline and theirs in (None, watch.match_value):
                    reached[watch.id] = occurred_at
                    break
    return reached


def end(rules: dict[int, Rule], closing: list[tuple[Row, datetime]],
        expiring: list[tuple[Row, Verdict | None]], now: datetime) -> None:
    """End watches in bulk: close those that reached their goal; expire the rest into dropoffs.

    A watch whose verdict is None ends without a dropoff, as does one whose contact already
    has an active dropoff for the rule and match value.
    """
    raising = [(watch, verdict) for watch, verdict in expiring if verdict is not None]
    connection = db.session().connection()
    # A watch this batch opened and has not written yet is written as it ends; the others are updated.
    closes, expires = [], []
    for watch, at in [*closing, *((watch, watch.due_at) for watch, verdict in expiring if verdict is None)]:
        if watch.id is None:
            watch.status, watch.closed_at = "closed", at
        else:
            closes.append({"watch_id": watch.id, "at": at})
    for watch, _ in raising:
        if watch.id is None:
            watch.status = "expired"
        else:
            expires.append({"watch_id": watch.id})
    preload = batch.current()
    if preload is not None:
        preload.ended_now([watch for watch, _ in (*closing, *expiring)], [watch for watch, _ in raising])
    if closes:
        connection.execute(CLOSE, closes)
    if expires:
        connection.execute(EXPIRE, expires)
    if not raising:
        return
    contacts = {watch.contact_id for watch, _ in raising}
    held = select(Dropoff.rule_id, Dropoff.contact_id, Dropoff.match_value).where(ACTIVE,
                                                                                 Dropoff.contact_id.in_(contacts))
    active = {(rule_id, contact_id, match) for rule_id, contact_id, match in connection.execute(held)}
    fresh = []
    for watch, verdict in raising:
        key = (watch.rule_id, watch.contact_id, watch.match_value)
        if key not in active:
            active.add(key)
            fresh.append((watch, verdict))
    rows = dropoff_rows(rules, fresh, now)
    if rows:
        connection.execute(insert(dropoffs_table), rows)
        _publish(rows, now)


def dropoff_rows(rules: dict[int, Rule], raising: Sequence[tuple[Any, Verdict]], now: datetime) -> list[dict[str, Any]]:
    """The dropoff each expired watch becomes, with its segment, intent and readiness, as rows to insert."""
    if not raising:
        return []
    connection = db.session().connection()
    contacts = {watch.contact_id for watch, _ in raising}
    accounts = {watch.account_id for watch, _ in raising}
    activity = _activity(accounts, contacts, min(w.deadline for w, _ in raising), max(w.deadline for w, _ in raising))
    purchases = _purchases(accounts, contacts)
    tests = set(connection.scalars(select(Contact.id).where(Contact.id.in_(contacts), Contact.test)))
    waiting = _under_maintenance({(watch.account_id, verdict.service) for watch, verdict in raising if verdict.service})
    start_ids = {watch.start_event_id for watch, _ in raising}
    starts = {event_id: properties for event_id, properties in
              connection.execute(select(Event.id, Event.properties).where(Event.id.in_(start_ids)))}
    rows = []
    for watch, verdict in raising:
        rule = rules[watch.rule_id]
        moments = activity.get(watch.contact_id, [])
        recent = bisect_right(moments, watch.deadline) - bisect_right(moments, watch.deadline - ENGAGEMENT_WINDOW)
        engagement = "high" if recent >= ENGAGED_EVENTS else "medium" if recent >= 2 else "low"
        intent = verdict.intent
        if engagement == "high":
            intent = INTENTS[min(INTENTS.index(intent) + 1, len(INTENTS) - 1)]
        segment = {"stage": rule.stage, "engagement": engagement, "events_30d": recent,
                   "purchases": purchases.get(watch.contact_id, 0), **verdict.segment}
        start = starts.get(watch.start_event_id) or {}
        objection = start.get("objection")
        if objection:
            segment["objection"] = objection
        rows.append({
            "account_id": watch.account_id, "rule_id": rule.id, "rule_key": rule.key, "contact_id": watch.contact_id,
            "match_value": watch.match_value, "scenario": verdict.scenario or rule.scenario, "stage": rule.stage,
            "kind": rule.kind,
            "category": verdict.category, "intent": intent, "value_at_risk": watch.value, "currency": watch.currency,
            "started_at": watch.started_at, "occurred_at": watch.deadline, "detected_at": now, "status": "open",
            "segment": segment, "service": verdict.service, "deep_link": _link(start),
            "test": watch.contact_id in tests,
            # Outreach about a maintenance error waits until the service is back.
            "ready_at": None if (watch.account_id, verdict.service) in waiting and verdict.category == "maintenance"
            else now,
        })
    return rows


def _publish(rows: list[dict[str, Any]], now: datetime) -> None:
    """Publish the new dropoffs (inserted without RETURNING): kept for polls, handed to dropoff.detected hooks."""
    hooked = hooks.subscribed("dropoff.detected", {row["account_id"] for row in rows})
    query = select(Dropoff.account_id, Dropoff.id).where(
        Dropoff.account_id.in_({row["account_id"] for row in rows}), Dropoff.detected_at == now,
        Dropoff.contact_id.in_({row["contact_id"] for row in rows}))
    ids: dict[int, list[int]] = {}
    for account_id, dropoff_id in db.session().execute(query):
        ids.setdefault(account_id, []).append(dropoff_id)
    hooks.publish("dropoff.detected", ids, hooked)


def _link(properties: dict[str, Any]) -> str | None:
    """Where the start event says the contact can pick up again (`deep_link`, else `resume_url`)."""
    for key in ("deep_link", "resume_url"):
        link = properties.get(key)
        if isinstance(link, str) and link.startswith(("https://", "http://")) and len(link) <= 2048:
            return link
    return None


def first_between(rule: Rule, contact_id: int, match: str, types: list[str], since: datetime,
                  until: datetime) -> datetime | None:
    """When the first stored event of `types` for this contact and match happened in [since, until]."""
    moments = events_between(rule, contact_id, match, types, since, until)
    return moments[0][0] if moments else None


def events_between(rule: Rule, contact_id: int, match: str, types: list[str], since: datetime,
                   until: datetime) -> list[tuple[datetime, str]]:
    """(occurred_at, type) of the stored events of `types` for this contact and match, in order."""
    preload = batch.current()
    loaded: Sequence[Any] | None = preload.between(contact_id, types, since, until) if preload is not None else None
    if loaded is None:
        query = (
            select(Event.occurred_at, Event.key, Event.type, Event.properties)
            .where(Event.account_id == rule.account_id, Event.contact_id == contact_id, Event.type.in_(types),
                   Event.occurred_at >= since, Event.occurred_at <= until)
            # Events of one instant in the sender's key order: the same whatever order they arrived in.
            .order_by(Event.occurred_at, Event.key)
        )
        loaded = db.session().execute(query).all()
    found, horizon = [], _reading.get()
    for occurred_at, key, type_, properties in loaded:
        if horizon is not None and (occurred_at, key) > horizon:
            break
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


def _under_maintenance(services: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (account, service) pairs are reported under maintenance now.

    An account with a status source connected (Atomic) waits on every maintenance error: the source is polled
    until the service is operational.
    """
    if not services:
        return set()
    accounts = {account for account, _ in services}
    query = select(ServiceStatus.account_id, ServiceStatus.service).where(
        ServiceStatus.status == "maintenance", ServiceStatus.service.in_({service for _, service in services}),
        ServiceStatus.account_id.in_(accounts),
    )
    sources = of_kind("status")
    polled = set(db.session().scalars(select(Connection.account_id).where(
        Connection.account_id.in_(accounts), Connection.provider.in_(sources)))) if sources else set()
    reported = {(account, service) for account, service in db.session().execute(query)}
    return (reported | {pair for pair in services if pair[0] in polled}) & services


def _purchases(accounts: set[int], contacts: set[int]) -> dict[int, int]:
    """How many purchase events each contact has ever had."""
    # account_id leads the events index on (account_id, contact_id, occurred_at).
    query = (select(Event.contact_id, func.count())
             .where(Event.account_id.in_(accounts), Event.contact_id.in_(contacts), Event.type.in_(PURCHASE_EVENTS))
             .group_by(Event.contact_id))
    return {contact_id: count for contact_id, count in db.session().execute(query)}


def _activity(accounts: set[int], contacts: set[int], earliest: datetime,
              latest: datetime) -> dict[int, list[datetime]]:
    """Each contact's event times in the engagement window before the deadlines, sorted."""
    query = select(Event.contact_id, Event.occurred_at).where(
        Event.account_id.in_(accounts), Event.contact_id.in_(contacts),
        Event.occurred_at > earliest - ENGAGEMENT_WINDOW, Event.occurred_at <= latest,
    ).order_by(Event.contact_id, Event.occurred_at)  # this order makes planners seek the contact index
    moments: dict[int, list[datetime]] = defaultdict(list)
    for contact_id, occurred_at in db.session().execute(query):
        moments[contact_id].append(occurred_at)
    return moments
