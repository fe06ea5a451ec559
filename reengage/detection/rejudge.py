"""Judging a contact again, for one rule, when an event arrives late: verdicts depend on `occurred_at` alone.

An event is late when the rule already acted on a later moment of the contact: an event of the kinds it
reads that happened later was processed before it, or the clock raised a dropoff (or ended a watch)
at or after its time. The contact's watches for the rule are then rebuilt by replaying every stored
event it reads in the order they happened, with the clock's expiries in between, and the dropoffs
that replay finds are reconciled with those already raised: the same dropoff keeps its id (and its
enrollment), one the replay does not find is retracted, and one it finds anew is raised.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, delete, select

from reengage import hooks
from reengage.detection import batch, watches
from reengage.detection.detectors import DETECTORS
from reengage.models import Dropoff, Event, Rule, Watch
from reengage.outcomes.recovery import recover, retract
from reengage.platform import db

RAISED = batch.RAISED


@dataclass
class Found:
    """A dropoff the replay finds: its expired watch, the kind's verdict, and the goal that recovered it."""

    watch: Watch
    verdict: watches.Verdict
    goal: Row | None = None


def late(rule: Rule, event: Row, ids: Collection[int]) -> bool:
    """Whether `rule` already acted on a moment of the contact at or after the one `event` happened at."""
    types = DETECTORS[rule.kind].reads(rule.params)
    if event.type not in types:
        return False
    preload = batch.current()
    if preload is not None and (rule.id, event.contact_id) in preload.pairs:
        return preload.late(rule, event, types)
    session, at = db.session(), event.occurred_at
    later = select(Event.id).where(
        Event.account_id == rule.account_id, Event.contact_id == event.contact_id, Event.type.in_(types),
        Event.occurred_at >= at, Event.processed_at.is_not(None), Event.id.not_in(list(ids))).limit(1)
    raised = select(Dropoff.id).where(Dropoff.rule_id == rule.id, Dropoff.contact_id == event.contact_id,
                                      Dropoff.status.in_(RAISED), Dropoff.occurred_at >= at).limit(1)
    # A watch ended by the clock acted when it was due (its deadline plus the rule's grace); one a goal closed, when
    # the goal happened.
    ended = select(Watch.id).where(Watch.rule_id == rule.id, Watch.contact_id == event.contact_id,
                                   Watch.status != "open", batch.ACTED >= at, Watch.started_at <= at).limit(1)
    return any(session.scalar(query) is not None for query in (later, raised, ended))


def rejudge(rule: Rule, contact_id: int, now: datetime) -> None:
    """Replay the contact's events for `rule` in the order they happened and bring its dropoffs in line."""
    session = db.session()
    session.flush()
    session.execute(delete(Watch).where(Watch.rule_id == rule.id, Watch.contact_id == contact_id))
    session.expire_all()
    detector = DETECTORS[rule.kind]
    goals = detector.goals(rule.params)
    found: list[Found] = []
    # Events that arrived before the rule existed were never its to judge, and are not now.
    stored = list(session.execute(select(Event.__table__).where(
        Event.account_id == rule.account_id, Event.contact_id == contact_id, Event.received_at >= rule.created_at,
        Event.type.in_(detector.reads(rule.params))).order_by(Event.occurred_at, Event.key)))
    for event in stored:
        # The clock raises a watch when it is due, so an event by then still finds it open, as one arriving in order.
        _expire(rule, contact_id, found, lambda watch, at=event.occurred_at: watch.due_at < at)
        if event.type in goals:
            _reach(rule, contact_id, found, event)
        with watches.reading(event):
            detector.on_event(rule, event)
    # A watch still open at the end is the clock's to raise, unless the clock already raised it.
    raised = {(match, at) for match, at in session.execute(select(Dropoff.match_value, Dropoff.occurred_at).where(
        Dropoff.rule_id == rule.id, Dropoff.contact_id == contact_id))}
    _expire(rule, contact_id, found,
            lambda watch: watch.due_at <= now and (watch.match_value, watch.deadline) in raised)
    _reconcile(rule, contact_id, found, stored, goals, now)


def _open(rule: Rule, contact_id: int) -> list[Watch]:
    db.session().flush()
    return list(db.session().scalars(select(Watch).where(
        watches.OPEN, Watch.rule_id == rule.id, Watch.contact_id == contact_id).order_by(Watch.deadline)))


def _expire(rule: Rule, contact_id: int, found: list[Found], due) -> None:
    """What the clock would have done by then: open watches past due become dropoffs (or end without one)."""
    for watch in _open(rule, contact_id):
        if due(watch):
            _end(rule, watch, found)


def _end(rule: Rule, watch: Watch, found: list[Found]) -> None:
    """A watch past its deadline becomes a dropoff, or ends without one (when the clock would have ended it)."""
    verdict = DETECTORS[rule.kind].on_expire(rule, cast(Any, watch))
    watch.status = "closed" if verdict is None else "expired"
    if verdict is None:
        watch.closed_at = watch.due_at
        return
    # At most one active dropoff per match value: one not yet recovered by then absorbs this one.
    if not any(f.watch.match_value == watch.match_value and (f.goal is None or f.goal.occurred_at > watch.deadline)
               for f in found):
        found.append(Found(watch, verdict))


def _reach(rule: Rule, contact_id: int, found: list[Found], goal: Row) -> None:
    """A goal closes the open watches it reached in time, raises those past their deadline (within the rule's grace)
    as it does arriving in order, and recovers the dropoffs found before it."""
    match = watches.match_value(rule, goal.properties)
    for watch in _open(rule, contact_id):
        if watch.started_at <= goal.occurred_at and match in (None, watch.match_value):
            if watch.deadline >= goal.occurred_at:
                watch.status, watch.closed_at = "closed", goal.occurred_at
            else:
                _end(rule, watch, found)
    for item in found:
        if item.goal is None and item.watch.started_at <= goal.occurred_at and match in (None, item.watch.match_value):
            item.goal = goal


def _reconcile(rule: Rule, contact_id: int, found: list[Found], stored: list[Row], goals: list[str],
               now: datetime) -> None:
    """Keep the dropoffs the replay found again, retract the others, raise the new ones."""
    session = db.session()
    session.flush()
    # A retracted dropoff stays retracted: one the replay finds again is raised anew.
    existing = list(session.scalars(select(Dropoff).where(
        Dropoff.rule_id == rule.id, Dropoff.contact_id == contact_id, Dropoff.status != "retracted")
        .order_by(Dropoff.occurred_at, Dropoff.id)))
    kept: dict[int, Dropoff] = {}
    for index, item in enumerate(found):
        for dropoff in existing:
            if (dropoff not in kept.values() and dropoff.match_value == item.watch.match_value
                    and dropoff.occurred_at == item.watch.deadline):
                kept[index] = dropoff
                break
    kept_ids = {dropoff.id for dropoff in kept.values()}
    for dropoff in existing:
        if dropoff.id not in kept_ids and dropoff.status in RAISED:
            retract(dropoff, _goal_within(dropoff, stored, goals) or dropoff.occurred_at)
    for index, item in enumerate(found):
        if index not in kept:
            _raise(rule, item, now)
            continue
        dropoff = kept[index]
        if dropoff.status in RAISED:
            # What a late event changed: an earlier start, a later error as the end state, a deeper step.
            verdict = item.verdict
            dropoff.started_at, dropoff.category = item.watch.started_at, verdict.category
            dropoff.scenario = verdict.scenario or rule.scenario
            dropoff.segment = {**dropoff.segment, **verdict.segment}
        if item.goal is not None:
            recover(dropoff, item.goal.occurred_at, item.goal.value, item.goal.currency)
        session.flush()


def _raise(rule: Rule, item: Found, now: datetime) -> None:
    """A dropoff the replay found anew, already recovered when its goal came (so it never holds the active slot)."""
    session = db.session()
    [row] = watches.dropoff_rows({rule.id: rule}, [(item.watch, item.verdict)], now)
    dropoff = Dropoff(**row)
    goal = item.goal
    if goal is not None:
        dropoff.status, dropoff.recovered_at, dropoff.revenue = "recovered", goal.occurred_at, goal.value
        dropoff.recovery_seconds = int((goal.occurred_at - dropoff.occurred_at).total_seconds())
        dropoff.currency = goal.currency or dropoff.currency
    session.add(dropoff)
    session.flush()
    hooks.publish("dropoff.detected", {rule.account_id: [dropoff.id]})
    if goal is not None:
        hooks.publish("contact.recovered", {rule.account_id: [dropoff.id]})


def _goal_within(dropoff: Dropoff, stored: list[Row], goals: list[str]) -> datetime | None:
    """When the first goal between the dropoff's start and its deadline happened: what shows it a false alarm."""
    for event in stored:
        if event.type in goals and dropoff.started_at <= event.occurred_at <= dropoff.occurred_at:
            return event.occurred_at
    return None
