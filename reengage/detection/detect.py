"""Dropoff detection: events reach each rule's kind; the clock expires watches into dropoffs."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select

from reengage.detection import batch, rejudge, watches
from reengage.detection.detectors import DETECTORS
from reengage.models import Rule, Watch
from reengage.platform import db, turns
from reengage.platform.listed import one_of

table = Watch.__table__
OPEN_DUE: list[turns.Condition] = [watches.OPEN, table.c.due_at <= bindparam("now")]
# The clock's queries: due watches (deadline plus the rule's grace) through the partial index on `due_at`, in
# turns between accounts (each account's earliest first), then each taken by one clock only (FOR UPDATE SKIP LOCKED on
# PostgreSQL; SQLite has one writer at a time).
DUE = turns.due_in_turns(table, OPEN_DUE, [table.c.due_at], bindparam("limit"))
STILL_DUE = turns.lock_still(table, OPEN_DUE, "ids", tuple(table.c))


# The enabled rules of some accounts, of the kinds that detect; built once, as it runs for every chunk of events.
RULES = (select(Rule).where(one_of(Rule.account_id, "accounts"), Rule.enabled.is_(True),
                            Rule.kind.in_(DETECTORS)).order_by(Rule.id))


def on_events(claimed: Sequence[Row]) -> None:
    """Let every enabled rule of the events' accounts read them, oldest first (an event processor)."""
    rules: dict[int, list[Rule]] = defaultdict(list)
    for rule in db.session().scalars(RULES, {"accounts": list({event.account_id for event in claimed})}):
        rules[rule.account_id].append(rule)
    if not rules:
        return
    reads = {rule.id: DETECTORS[rule.kind].reads(rule.params) for account in rules.values() for rule in account}
    # A rule acts only on the event types it reads (its goals among them): the others pass it by at no cost.
    readers: dict[tuple[int, str], list[Rule]] = defaultdict(list)
    for account_id, held in rules.items():
        for rule in held:  # in id order, as each event meets them
            for name in dict.fromkeys(reads[rule.id]):
                readers[(account_id, name)].append(rule)
    # The (rule, contact) pairs the events reach, with the match values they carry (None: one carries none).
    touched: dict[tuple[int, int], set[str] | None] = {}
    for event in claimed:
        for rule in readers.get((event.account_id, event.type), ()):
            pair, match = (rule.id, event.contact_id), watches.match_value(rule, event.properties)
            matches = touched.setdefault(pair, set())
            if match is None:
                touched[pair] = None
            elif matches is not None:
                matches.add(match)
    if not touched:
        return
    reached = {rule_id for rule_id, _ in touched}
    looks_back = {rule.id: DETECTORS[rule.kind].looks_back(rule.params)
                  for account in rules.values() for rule in account if rule.id in reached}
    ids, rejudged, now = {event.id for event in claimed}, set(), db.utcnow()
    with batch.preloaded(touched, claimed, reads, looks_back) as preload:
        # Events of one instant in the sender's key order, as a replay takes them.
        for event in sorted(claimed, key=lambda row: (row.occurred_at, row.key)):
            for rule in readers.get((event.account_id, event.type), ()):
                # A late event: the contact is judged again for the rule, from every event it reads, in order.
                if (rule.id, event.contact_id) in rejudged:
                    continue
                if rejudge.late(rule, event, ids):
                    preload.forget((rule.id, event.contact_id))
                    rejudge.rejudge(rule, event.contact_id, now)
                    rejudged.add((rule.id, event.contact_id))
                    continue
                detector = DETECTORS[rule.kind]
                watches.overdue(rule, event, verdict)
                if event.type in detector.goals(rule.params):
                    watches.reach_goal(rule, event, verdict)
                with watches.reading(event):
                    detector.on_event(rule, event)


def expire_due(now: datetime, limit: int) -> int:
    """End up to `limit` watches whose deadline has passed; answer how many."""
    with db.transaction() as db_session:
        connection = db_session.connection()
        candidates = list(connection.scalars(DUE, {"now": now, "limit": limit}))
        if not candidates:
            return 0
        due = connection.execute(STILL_DUE, {"now": now, "ids": candidates}).all()
        if not due:
            return 0
        wanted = select(Rule).where(Rule.id.in_({watch.rule_id for watch in due}))
        rules = {rule.id: rule for rule in db_session.scalars(wanted)}
        goals = {rule_id: DETECTORS[rule.kind].goals(rule.params) for rule_id, rule in rules.items()}
        # A goal that is stored but not yet processed: a late close, not a dropoff.
        reached = watches.goals_reached(rules, goals, due)
        closing = [(watch, reached[watch.id]) for watch in due if watch.id in reached]
        expiring = [(watch, verdict(rules[watch.rule_id], watch)) for watch in due if watch.id not in reached]
        watches.end(rules, closing, expiring, now)
    return len(due)


def verdict(rule: Rule, watch: Row[Any]) -> watches.Verdict | None:
    """What the rule's kind makes of a watch that reached its deadline."""
    return DETECTORS[rule.kind].on_expire(rule, watch)
