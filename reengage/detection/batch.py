"""What detection reads while it processes a batch of events, loaded for the whole batch in a few queries.

Rules read a contact's stored events, open watches and active dropoffs for every event; a batch
loads them once, for the rules that read its events and the contacts and match values they name,
and the operations in `watches` and `rejudge` read them from here. What a batch does itself (a watch
opened, ended, a dropoff raised, a contact judged again) is kept here too, or makes the pair read from
the database again. Outside a batch, or for what a batch did not load, reads go to the database.

What is loaded is what the batch's events can reach, not what its contacts have: the events from the
batch's earliest on (and further back only as far as a rule looks back, for the kinds it reads), and
the open watches of the match values the events carry. A contact with a long history, or many open
watches, costs a batch no more than a new one.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, inspect, or_, select, text

from reengage.models import Dropoff, Event, Rule, Watch
from reengage.platform import db
from reengage.platform.db import UTCDateTime
from reengage.platform.listed import one_of

RAISED = ("open", "enrolled", "recovered")
OPEN = text("watches.status = 'open'")
Pair = tuple[int, int]
events, watches_table, dropoffs = Event.__table__, Watch.__table__, Dropoff.__table__
# Built once: these run for every chunk of events, and building a statement costs more than running it.
# The contacts' events of the kinds the rules read, from `since` for the kinds a rule looks back over (`far`) and from
# `near` (the batch's earliest moment) for the others.
EVENTS = (select(events.c.contact_id, events.c.occurred_at, events.c.key, events.c.type, events.c.properties,
                 events.c.id, events.c.processed_at.is_not(None))
          .where(one_of(events.c.account_id, "accounts"), one_of(events.c.contact_id, "contacts"),
                 one_of(events.c.type, "types"),
                 events.c.occurred_at >= bindparam("since", type_=UTCDateTime),
                 or_(events.c.occurred_at >= bindparam("near", type_=UTCDateTime), one_of(events.c.type, "far")))
          .order_by(events.c.contact_id, events.c.occurred_at, events.c.key))
# The open watches of the match values the batch's events carry; and every open watch of the contacts one of whose
# events carries none (a goal without a match value reaches them all).
OPEN_WATCHES = (select(Watch).where(OPEN, one_of(Watch.rule_id, "rules"), one_of(Watch.contact_id, "contacts"),
                                    one_of(Watch.match_value, "matches"))
                .order_by(Watch.id).with_for_update())
EVERY_OPEN_WATCH = (select(Watch).where(OPEN, one_of(Watch.rule_id, "rules"), one_of(Watch.contact_id, "whole"))
                    .order_by(Watch.id).with_for_update())
RAISED_DROPOFFS = select(dropoffs.c.rule_id, dropoffs.c.contact_id, dropoffs.c.status, dropoffs.c.occurred_at).where(
    one_of(dropoffs.c.rule_id, "rules"), one_of(dropoffs.c.contact_id, "contacts"), dropoffs.c.status.in_(RAISED))
# When the rule acted on an ended watch: when its goal closed it, else when the clock ended it (its deadline plus the
# rule's grace).
ACTED = func.coalesce(watches_table.c.closed_at, watches_table.c.due_at)
ENDED = select(watches_table.c.rule_id, watches_table.c.contact_id, watches_table.c.started_at, ACTED).where(
    one_of(watches_table.c.rule_id, "rules"), one_of(watches_table.c.contact_id, "contacts"),
    watches_table.c.status != db.constant("open"),  # read through the index of ended watches
    ACTED >= bindparam("earliest", type_=UTCDateTime))


# Every column a watch is opened with (closed_at only when the batch's goal closed it), and when it was written.
OPENED_COLUMNS = [column.key for column in watches_table.c if column.key not in ("id", "created_at")]


class Preload:
    """One batch's view of its contacts: events by time, open watches, active dropoffs, what makes an event late.

    `touched` holds each (rule, contact) pair the batch's events reach and the match values they carry for it (None
    when one carries none); `reads` the event types each of those rules reads, `looks_back` how far before an event it
    reads them.
    """

    def __init__(self, touched: dict[Pair, set[str] | None], claimed: Sequence[Row], reads: dict[int, list[str]],
                 looks_back: dict[int, timedelta]) -> None:
        session = db.session()
        connection = session.connection()
        accounts = list({event.account_id for event in claimed})
        rule_ids = sorted({rule_id for rule_id, _ in touched})
        contacts = sorted({contact_id for _, contact_id in touched})
        earliest = min(event.occurred_at for event in claimed)
        self.pairs = set(touched)
        # Contacts whose every open watch (of these rules) is loaded, and the match values loaded for all of them.
        self.whole = {contact_id for (_, contact_id), matches in touched.items() if matches is None}
        self.matches = {match for matches in touched.values() if matches for match in matches}
        self.types = {name for rule_id in rule_ids for name in reads[rule_id]}
        far = sorted({name for rule_id in rule_ids if looks_back[rule_id] for name in reads[rule_id]})
        since = earliest - max((looks_back[rule_id] for rule_id in rule_ids), default=timedelta(0))
        # From when each type's events are loaded: a read from earlier goes to the database.
        self.since = {name: since if name in far else earliest for name in self.types}
        # (occurred_at, key, type, properties) of each contact's events of the kinds its rules read, in order.
        self.events: dict[int, list[tuple[datetime, str, str, Any]]] = {contact: [] for contact in contacts}
        # The newest processed event (outside this batch) of each contact and type: a later one makes an event late.
        self.processed: dict[tuple[int, str], datetime] = {}
        batch = {event.id for event in claimed}
        found = connection.execute(EVENTS, {"accounts": accounts, "contacts": contacts, "types": sorted(self.types),
                                            "since": since, "near": earliest, "far": far})
        for contact_id, occurred_at, key, type_, properties, event_id, processed in found:
            self.events[contact_id].append((occurred_at, key, type_, properties))
            if processed and event_id not in batch:
                newest = self.processed.get((contact_id, type_))
                if newest is None or newest < occurred_at:
                    self.processed[(contact_id, type_)] = occurred_at
        pairs = {"rules": rule_ids, "contacts": contacts}
        # Open watches, held (on PostgreSQL) so the clock leaves them to this batch until it commits.
        self.watches: dict[Pair, dict[str, Watch]] = {}
        held = list(session.scalars(OPEN_WATCHES, {**pairs, "matches": sorted(self.matches)}))
        if self.whole:
            held += session.scalars(EVERY_OPEN_WATCH, {"rules": rule_ids, "whole": sorted(self.whole)})
        for watch in held:
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

    def knows(self, pair: Pair, match: str | None) -> bool:
        """Whether the pair's open watches of `match` (of every match value, when None) are loaded here."""
        if pair not in self.pairs:  # not reached by the batch's events, or forgotten since
            return False
        return pair[1] in self.whole or (match is not None and match in self.matches)

    def open_watches(self, pair: Pair, match: str | None) -> list[Watch]:
        """The pair's loaded open watches of `match` (every one, when None); ask `knows` first."""
        held = self.watches.get(pair, {})
        if match is None:
            return list(held.values())
        return [held[match]] if match in held else []

    def opened(self, watch: Watch) -> None:
        """A watch this batch opened (not yet written)."""
        pair = (watch.rule_id, watch.contact_id)
        if self.knows(pair, watch.match_value):
            self.watches.setdefault(pair, {})[watch.match_value] = watch

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
        if contact_id not in self.events or not wanted <= self.types or any(since < self.since[name]
                                                                            for name in wanted):
            return None
        return [item for item in self.events[contact_id] if since <= item[0] <= until and item[2] in wanted]

    def ended_now(self, ended: list[Any], raised: list[Any]) -> None:
        """Watches this batch ended and those of them that raised a dropoff.

        What the batch did itself never makes its later events late: it takes them in the order a replay would
        (`occurred_at`, then key), so judging the contact again would only repeat what taking them in turn does (an
        event of a goal's instant after it, as in a batch sent without times, used to be judged again each time)."""
        for watch in ended:
            held = self.watches.get((watch.rule_id, watch.contact_id), {})
            kept = held.get(watch.match_value)
            # One not yet written (no id) is the watch itself or another.
            if kept is not None and (kept is watch or (watch.id is not None and kept.id == watch.id)):
                del held[watch.match_value]
        for watch in raised:
            self.no_active.discard((watch.rule_id, watch.contact_id))

    def forget(self, pair: Pair) -> None:
        """The batch changed the pair in ways not kept here (judged it again): read it from the database."""
        self.watches.pop(pair, None)
        self.no_active.discard(pair)
        self.pairs.discard(pair)


_current: ContextVar[Preload | None] = ContextVar("preload", default=None)


@contextmanager
def preloaded(touched: dict[Pair, set[str] | None], claimed: Sequence[Row], reads: dict[int, list[str]],
              looks_back: dict[int, timedelta]) -> Iterator[Preload]:
    """While the batch's events are processed, reads of their contacts come from one load (see Preload)."""
    preload = Preload(touched, claimed, reads, looks_back)
    token = _current.set(preload)
    try:
        yield preload
        _write_opened()
        db.session().flush()  # the watches moved on, written together
    finally:
        _current.reset(token)


def _write_opened() -> None:
    """Insert the watches the batch opened that nothing has flushed yet in one statement of many rows.

    The session would write them one INSERT each on SQLite (it wants each one's id back), and spend more on its own
    bookkeeping than the database does on the rows; nothing reads their ids once the batch is done, so they leave the
    session and go in as rows, in the order they were opened."""
    session = db.session()
    opened = sorted((item for item in session.new if isinstance(item, Watch)),
                    key=lambda watch: inspect(watch).insert_order or 0)
    if not opened:
        return
    now = db.utcnow()
    rows = []
    for watch in opened:
        session.expunge(watch)
        rows.append({key: watch.__dict__.get(key) for key in OPENED_COLUMNS} | {"created_at": now})
    session.connection().execute(insert(watches_table), rows)


def current() -> Preload | None:
    """The batch being processed, if any."""
    return _current.get()
