"""Metrics by a message's dimension (flow, phase, channel, variant) or filtered by one, from the message rollups.

The sums (messages sent, delivered, opened, clicked, machine-opened, their cost, and the recoveries credited
to them) come from the message rollups (reengage.models.rollup) for a period's whole UTC days and from the
messages for its partial days, as the dropoff rollups do (reengage.results.rollups). What is counted once
per dropoff a group's messages reached, and the median times, come from reengage.results.reach.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, Interval, cast, func, literal, select

from reengage.models import Dropoff, Enrollment, Flow, Message, MessageRollup
from reengage.models.rollup import COST_SCALE, REVENUE_SCALE
from reengage.platform import db
from reengage.results import rollups

DIMENSIONS = {"flow": Flow.key, "phase": Message.phase, "channel": Message.channel, "variant": Message.variant}
ROLLED = MessageRollup.__table__.c
ROLLED_KEYS = {"flow": Flow.key, "phase": ROLLED.phase, "channel": ROLLED.channel, "variant": ROLLED.variant,
               "scenario": ROLLED.scenario, "stage": ROLLED.stage, "rule": ROLLED.rule_key, "day": ROLLED.day}
SUMS = ("messages_sent", "delivered", "opened", "clicked", "machine_opened", "cost", "recovered", "revenue")


def figures(groups: dict[Any, dict[str, Any]], account_id: int, filters: dict[str, Any], key, undated: list,
            scoped: list, rolled: bool) -> None:
    """Add each group's message figures (`key` groups the messages) for the dropoffs passing `scoped` (`undated`:
    the same but for the period); grouped by a message's dimension, also the recoveries credited to them.
    `rolled`: whole days from the rollups (else every day from the messages)."""
    by_message = filters.get("group_by") in DIMENSIONS
    chosen = choose(filters)
    days, edges = rollups.split(filters.get("from"), filters.get("to")) if rolled else (None, None)
    if days is not None:
        _add_rolled(groups, account_id, filters, days)
    if not rolled:
        _add_sent(groups, key, [*scoped, *chosen], by_message)
    elif edges:
        _add_sent(groups, key, [*undated, rollups.detected_within(edges), *chosen], by_message)


def choose(filters: dict[str, Any]) -> list:
    """The messages passing the filters on a message's dimensions."""
    return [column == filters[name] for name, column in DIMENSIONS.items() if name in filters]


def sent(*columns):
    """The sent messages with their dropoff, enrollment and flow, selecting `columns`."""
    return (select(*columns).select_from(Message).join(Enrollment, Enrollment.id == Message.enrollment_id)
            .join(Dropoff, Dropoff.id == Enrollment.dropoff_id).join(Flow, Flow.id == Message.flow_id)
            .where(Message.sent_at.is_not(None)))


def rolled(account_id: int, filters: dict[str, Any], days: tuple) -> list:
    """The account's message rollup rows in these whole days passing the filters on both kinds of dimension."""
    where = [ROLLED.account_id == account_id,
             *(ROLLED_KEYS[name] == filters[name] for name in ("scenario", "stage", "rule", "phase", "channel",
                                                                "variant", "flow") if name in filters)]
    if days[0] is not None:
        where.append(ROLLED.day >= days[0])
    if days[1] is not None:
        where.append(ROLLED.day < days[1])
    return where


def exact_sum(column, scale: int):
    """The sum of a decimal column, exact on SQLite too (which would add its values as floats)."""
    if db.session().get_bind().dialect.name == "postgresql":
        return func.sum(column)
    return cast(func.sum(cast(func.round(column * scale), Integer)), BigInteger) / scale


def microseconds(later, earlier):
    """Whole microseconds from `earlier` to `later`, exact on both backends."""
    if db.session().get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier) * 1_000_000, BigInteger)

    def stamp(moment):
        # SQLite reads a time to the millisecond, rounded: its seconds are taken without the fraction.
        whole = cast(func.strftime("%s", func.substr(moment, 1, 19)), BigInteger) * 1_000_000
        return whole + cast(func.substr(moment, 21, 6), Integer)
    return stamp(later) - stamp(earlier)


def at_most_before(earlier, later, window: timedelta):
    """Whether `earlier` is at most `window` before `later`, exact on both backends, as a bound on `earlier`: an index
    holding `earlier` after the columns a join looks it up by answers it within the lookup."""
    if db.session().get_bind().dialect.name == "postgresql":
        return earlier >= later - literal(window, Interval())
    seconds, rest = divmod(window // timedelta(microseconds=1), 1_000_000)
    if rest:
        return microseconds(later, earlier) <= window // timedelta(microseconds=1)
    # SQLite keeps a moment as text to the microsecond ('2026-06-01 09:00:00.000001'): whole seconds are taken off
    # its first 19 characters, and its fraction is kept as it was.
    whole = func.strftime("%Y-%m-%d %H:%M:%S", func.substr(later, 1, 19), f"-{seconds} seconds")
    return earlier >= whole.op("||")(func.substr(later, 20))


def _add_rolled(groups, account_id: int, filters: dict[str, Any], days: tuple) -> None:
    """The message sums in these whole days; grouped by a message's dimension, the credited recoveries too (by a
    dropoff's own, a group's recoveries are all its dropoffs', counted from the dropoffs)."""
    by = filters.get("group_by")
    key = ROLLED_KEYS[by] if by else ROLLED.account_id
    names = SUMS if by in DIMENSIONS else SUMS[:-2]
    query = select(key, *(func.sum(ROLLED[name]) for name in names)).where(*rolled(account_id, filters, days))
    if by == "flow" or "flow" in filters:
        query = query.join_from(MessageRollup, Flow, Flow.id == ROLLED.flow_id)
    for group, *sums in db.session().execute(query.group_by(key)):
        if not any(sums):  # rows whose messages all stopped counting (their dropoff was retracted, say)
            continue
        figures = groups[plain(group, by)]
        for name, value in zip(names, sums, strict=True):
            scale = {"cost": COST_SCALE, "revenue": REVENUE_SCALE}.get(name)
            figures[name] += Decimal(str(value or 0)) / scale if scale else int(value or 0)


def _add_sent(groups, key, where: list, by_message: bool) -> None:
    """The sums of the sent messages passing `where`; grouped by a message's dimension, their credits too."""
    session = db.session()
    for group, count, delivered, opened, clicked, cost, machine_opened in session.execute(sent(
            key, func.count(), func.count(Message.delivered_at), func.count(Message.opened_at),
            func.count(Message.clicked_at), exact_sum(Message.cost, COST_SCALE),
            func.count(Message.machine_opened_at)).where(*where).group_by(key)):
        figures = groups[plain(group)]
        for name, value in (("messages_sent", count), ("delivered", delivered), ("opened", opened),
                            ("clicked", clicked), ("machine_opened", machine_opened)):
            figures[name] += value
        figures["cost"] += Decimal(str(cost or 0))
    if by_message:
        for group, count, revenue in session.execute(_credited(key, func.count(),
                                                               exact_sum(Dropoff.revenue, REVENUE_SCALE), where)):
            groups[plain(group)]["recovered"] += count
            groups[plain(group)]["revenue"] += Decimal(str(revenue or 0))


def _credited(key, *columns_and_where):
    *columns, where = columns_and_where
    return (select(key, *columns).select_from(Dropoff).join(Message, Message.id == Dropoff.credited_message_id)
            .join(Flow, Flow.id == Message.flow_id).where(*where).group_by(key))


def plain(group: Any, by: str | None = None) -> Any:
    """A group as the scan of the messages names it: the day as ISO text, no variant as None."""
    if by == "variant" and group == "":
        return None
    return rollups.plain(group)
