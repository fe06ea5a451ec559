"""What detection reads while it processes a batch of events, loaded for the whole batch in a few queries.

Rules read a contact's stored events, open watches and active dropoffs for every event; a batch
loads them once, per rule and contact of its events, and the operations in `watches` and
`rejudge` read them from here. What a batch does itself (a watch opened, ended, a dropoff raised,
a contact judged again) is kept here too, or makes the pair read from the database again.
Outside a batch, every read goes to the database as before.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, func, select, text

from reengage.models import Dropoff, Event, Rule, Watch
from reengage.platform import db
from reengage.platform.db import UTCDateTime
from reengage.platform.listed import one_of

# How far before a batch's events their contacts' events are loaded; a rule reading further back (a long window)
# reads the database for that event. Events happen at most a day ahead of intake, so none is left out after.
SPAN = timedelta(days=31)
RAISED = ("open", "enrolled", "recovered")
OPEN = text("watches.status = 'open'")
Pair = tuple[int, int]
events, watches_table, dropoffs = Event.__table__, Watch.__table__, Dropoff.__table__
# Built once: these run for every chunk of events, and building a statement costs more than running it.
EVENTS = (select(events.c.contact_id, events.c.occurred_at, events.c.key, events.c.type, events.c.properties,
                 events.c.id, events.c.processed_at)
          .where(one_of(events.c.account_id, "accounts"), one_of(events.c.contact_id, "contacts"),
                 one_of(events.c.type, "types"),
                 events.c.occurred_at >= bindparam("since", type_=UTCDateTime))
          .order_by(events.c.contact_id, events.c.occurred_at, events.c.key))
OPEN_WATCHES = (select(Watch).where(OPEN, one_of(Watch.rule_id, "rules"), one_of(Watch.contact_id, "contacts"))
                .order_by(Watch.id).with_for_update())
RAISED_DROPOFFS = select(dropoffs.c.rule_id, dropoffs.c.contact_id, dropoffs.c.status, dropoffs.c.occurred_at).where(
    one_of(dropoffs.c.rule_id, "rules"), one_of(dropoffs.c.contact_id, "contacts"), dropoffs.c.status.in_(RAISED))
ACTED = func.coalesce(watches_table.c.closed_at, watches_table.c.deadline)
ENDED = select(watches_table.c.rule_id, watches_table.c.contact_id, watches_table.c.started_at, ACTED).where(
    one_of(watches_table.c.rule_id, "rules"), one_of(watches_table.c.contact_id, "contacts"),
    watches_table.c.status != "open",
    ACTED >= bindparam("earliest", type_=UTCDateTime))


class Preload:
    """One batch's view of its contacts: events by time, open watches, active dropoffs, what makes an event late."""

    def __init__(self, rules: dict[int, list[Rule]], claimed: Sequence[Row], reads: dict[int, list[str]]) -> None:
        session = db.session()
        connection = session.connection()
        accounts = list({event.account_id for event in claimed})
        contacts = list({event.contact_id for event in claimed})
        ids = {account: [rule.id for rule in held] for account, held in rules.items()}
        rule_ids = [rule_id for account in accounts for rule_id in ids.get(account, ())]
        earliest = min(event.occurred_at for event in claimed)
        self.since = earliest - SPAN
        self.types = {name for rule_id in rule_ids for name in reads[rule_id]}
        self.pairs = {(rule_id, event.contact_id) for event in claimed for rule_id in ids.get(event.account_id, ())}
        # (occurred_at, key, type, properties) of each contact's events of the kinds its rules read, in order.
        self.events: dict[int, list[tuple[datetime, str, str, Any]]] = {contact: [] for contact in contacts}
        # The newest processed event (outside this batch) of each contact and type: a later one makes an event late.
        self.processed: dict[tuple[int, str], datetime] = {}
        batch = {event.id for event in claimed}
        found = connection.execute(EVENTS, {"accounts": accounts, "contacts": contacts, "types": list(self.types),
                                            "since": self.since})
        for contact_id, occurred_at, key, type_, properties, event_id, processed_at in found:
            self.events[contact_id].append((occurred_at, key, type_, properties))
            if processed_at is not None and event_id not in batch:
                newest = self.processed.get((contact_id, type_))
                if newest is None or newest < occurred_at:
                    self.processed[(contact_id, type_)] = occurred_at
        pairs = {"rules": rule_ids, "contacts": contacts}
        # Open watches, held (on PostgreSQL) so the clock leaves them to this batch until it commits.
        self.watches: dict[Pair, dict[str, Watch]] = {pair: {} for pair in self.pairs}
        for watch in session.scalars(OPEN_WATCHES, pairs):
            self.watches.setdefault((watch.rule_id, watch.contact_id), {})[watch.match_value] = watch
        # Pairs known to have no active dropoff: a goal recovers nothing there.
        self.no_active = set(self.pairs)
        # The newest raised dropoff and the ended watches of each pair: the moments the rule already acted on.
        self.raised: dict[Pair, datetime] = {}
        self.ended: dict[Pair, list[tuple[datetime, datetime]]] = defaultdict(list)
        for rule_id, contact_id, status, occurred_at in connection.execute(RAISED_DROPOFFS, pairs):
            pair = (rule_id, contact_id)
            if status in ("open", "enrolled"):
                self.no_active.discard(pair)
            if pair not in self.raised or self.raised[pair] < occurred_at:
                self.raised[pair] = occurred_at
        for rule_id, contact_id, started_at, at in connection.execute(ENDED, {**pairs, "earliest": earliest}):
            self.ended[(rule_id, contact_id)].append((started_at, at))

    def late(self, rule: Rule, event: Row, types: Iterable[str]) -> bool:
        """Whether the rule already acted, before this batch, on a moment of the contact at or after the event's."""
        at, pair = event.occurred_at, (rule.id, event.contact_id)
        for name in types:
            newest = self.processed.get((event.contact_id, name))
            if newest is not None and newest >= at:
                return True
        if pair in self.raised and self.raised[pair] >= at:
            return True
        return any(started_at <= at <= acted for started_at, acted in self.ended.get(pair, ()))

    def between(self, contact_id: int, types: Iterable[str], since: datetime,
                until: datetime) -> list[tuple[datetime, str, str, Any]] | None:
        """The contact's loaded events of `types` in [since, until], in order; None when not loaded here."""
        wanted = set(types)
        if contact_id not in self.events or since < self.since or not wanted <= self.types:
            return None
        return [item for item in self.events[contact_id] if since <= item[0] <= until and item[2] in wanted]

    def ended_now(self, ended: list[tuple[Any, datetime]], raised: list[Any]) -> None:
        """Watches this batch ended (each with the moment it acted on) and those of them that raised a dropoff."""
        for watch, at in ended:
            pair = (watch.rule_id, watch.contact_id)
            held = self.watches.get(pair, {})
            kept = held.get(watch.match_value)
            # One not yet written (no id) is the watch itself or another.
            if kept is not None and (kept is watch or (watch.id is not None and kept.id == watch.id)):
                del held[watch.match_value]
            self.ended[pair].append((watch.started_at, at))
        for watch in raised:
            pair = (watch.rule_id, watch.contact_id)
            self.no_active.discard(pair)
            self.raised[pair] = max(self.raised.get(pair, watch.deadline), watch.deadline)

    def forget(self, pair: Pair) -> None:
        """The batch changed the pair in ways not kept here (judged it again): read it from the database."""
        self.watches.pop(pair, None)
        self.no_active.discard(pair)
        self.pairs.discard(pair)


_current: ContextVar[Preload | None] = ContextVar("preload", default=None)


@contextmanager
def preloaded(rules: dict[int, list[Rule]], claimed: Sequence[Row], reads: dict[int, list[str]]) -> Iterator[Preload]:
    """While the batch's events are processed, reads of their contacts come from one load."""
    preload = Preload(rules, claimed, reads)
    token = _current.set(preload)
    try:
        yield preload
        db.session().flush()  # the watches opened or moved on, written together
    finally:
        _current.reset(token)


def current() -> Preload | None:
    """The batch being processed, if any."""
    return _current.get()
