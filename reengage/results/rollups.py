"""Metrics by a dropoff's own dimensions from the dropoff rollups (reengage.models.rollup), not from every dropoff.

The rollups hold whole UTC days of detection. A period's whole days are summed from them; the parts of a
day at either end of the period (at most two, when `from` or `to` is not a UTC midnight) are counted from
their dropoffs. Medians are exact and only each group's middle value or two come back: in all or by a dropoff's
own dimension, read at an offset into the index holding the account's times in order (reengage.models.dropoff
MEDIAN_ORDER); by day, the database sorts each day's values.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from reengage.models import Dropoff, DropoffRollup
from reengage.models.rollup import COST_SCALE, REVENUE_SCALE
from reengage.platform import db

ROLLED = DropoffRollup.__table__.c
KEYS = {"scenario": ROLLED.scenario, "stage": ROLLED.stage, "rule": ROLLED.rule_key, "day": ROLLED.day}
SUMS = ("dropoffs", "enrolled", "recovered", "revenue", "messages_sent", "delivered", "opened", "clicked",
        "machine_opened", "cost", "re_engaged")


def figures(account_id: int, filters: dict[str, Any], by: str | None, undated: list, scoped: list, dropoff_key,
            empty, medians: tuple[str, ...] = ("first_touch_seconds", "recovery_seconds")) -> dict[Any, dict[str, Any]]:
    """Each group's figures (as reengage.results.metrics builds them) for the dropoffs in `scoped` (`undated`: the
    same but for the period), the period's whole days from the rollups and its partial days from the dropoffs;
    `dropoff_key` groups the dropoffs. Each median figure holds the middle value or two of its group."""
    groups: dict[Any, dict[str, Any]] = defaultdict(empty)
    days, edges = split(filters.get("from"), filters.get("to"))
    if days is not None:
        _add_rolled(groups, account_id, filters, by, days)
    if edges:
        _add_counted(groups, dropoff_key, [*undated, detected_within(edges)])
    groups = defaultdict(empty, {group: fig for group, fig in groups.items() if fig["dropoffs"]})
    for name in medians:
        column = getattr(Dropoff, name)
        found = middles(dropoff_key, column, scoped) if by == "day" else in_order(dropoff_key, column, scoped)
        for group, middle in found.items():
            groups[plain(group)][name] = middle
    return groups


def in_order(key, column, where: list) -> dict[Any, list]:
    """The middle value or two of `column` in each group (by `key`), each read at an offset into the index of the
    dropoffs having `column` in its order, which holds every column of `key` and `where` beside it."""
    held = [*where, column.is_not(None)]
    sizes = db.session().execute(select(key, func.count()).where(*held).group_by(key)).all()
    return {group: middle_of(column, [*held, key == group], size) for group, size in sizes}


def revenue(account_id: int, filters: dict[str, Any], undated: list) -> dict[str | None, Decimal]:
    """Revenue recovered per currency (None: none given) of the dropoffs passing `undated` in the period."""
    totals: dict[str | None, Decimal] = defaultdict(Decimal)
    days, edges = split(filters.get("from"), filters.get("to"))
    if days is not None:
        for currency, total in db.session().execute(select(ROLLED.currency, func.sum(ROLLED.revenue))
                                                    .where(*_rolled(account_id, filters, days))
                                                    .group_by(ROLLED.currency)):
            totals[currency or None] += Decimal(str(total or 0)) / REVENUE_SCALE
    if edges:
        for currency, total in db.session().execute(
                select(Dropoff.currency, func.sum(Dropoff.revenue))
                .where(*undated, Dropoff.revenue.is_not(None), detected_within(edges)).group_by(Dropoff.currency)):
            totals[currency] += Decimal(str(total or 0))
    return totals


def split(start: datetime | None, end: datetime | None) -> tuple[tuple[date | None, date | None] | None,
                                                                    list[tuple[datetime, datetime]]]:
    """The whole UTC days in [start, end) (None when there are none; an open end stays None) and the partial
    stretches around them."""
    first = None if start is None else _midnight_on_or_after(start)
    last = None if end is None else datetime.combine(end.astimezone(UTC).date(), time(), UTC)
    if first is not None and last is not None and first >= last:
        return None, ([(start, end)] if start is not None and end is not None and start < end else [])
    edges = []
    if start is not None and first is not None and start < first:
        edges.append((start, first))
    if end is not None and last is not None and last < end:
        edges.append((last, end))
    return (None if first is None else first.date(), None if last is None else last.date()), edges


def _rolled(account_id: int, filters: dict[str, Any], days: tuple[date | None, date | None]) -> list:
    """The account's rollup rows passing the filters on a dropoff's own dimensions, in these whole days."""
    where = [ROLLED.account_id == account_id,
             *(KEYS[name] == filters[name] for name in ("scenario", "stage", "rule") if name in filters)]
    if days[0] is not None:
        where.append(ROLLED.day >= days[0])
    if days[1] is not None:
        where.append(ROLLED.day < days[1])
    return where


def detected_within(edges: list[tuple[datetime, datetime]]) -> Any:
    """Dropoffs detected in one of these stretches (the partial days at a period's ends)."""
    return or_(*(and_(Dropoff.detected_at >= low, Dropoff.detected_at < high) for low, high in edges))


def _midnight_on_or_after(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    midnight = datetime.combine(moment.date(), time(), UTC)
    return midnight if midnight == moment else midnight + timedelta(days=1)


def _add_rolled(groups: dict[Any, dict[str, Any]], account_id: int, filters: dict[str, Any], by: str | None,
                days: tuple[date | None, date | None]) -> None:
    key = KEYS[by] if by else ROLLED.account_id
    for group, *sums in db.session().execute(select(key, *(func.sum(ROLLED[name]) for name in SUMS))
                                             .where(*_rolled(account_id, filters, days)).group_by(key)):
        _add(groups[plain(group)], dict(zip(SUMS, sums, strict=True)), Decimal(REVENUE_SCALE), Decimal(COST_SCALE))


def _add_counted(groups: dict[Any, dict[str, Any]], key, where: list) -> None:
    counts = (func.count(), func.count(case((Dropoff.enrolled, 1))), func.count(Dropoff.recovered_at),
              func.sum(Dropoff.revenue), func.sum(Dropoff.messages_sent), func.sum(Dropoff.messages_delivered),
              func.sum(Dropoff.messages_opened), func.sum(Dropoff.messages_clicked),
              func.sum(Dropoff.messages_machine_opened), func.sum(Dropoff.message_cost),
              func.count(case((Dropoff.re_engaged, 1))))
    for group, *sums in db.session().execute(select(key, *counts).where(*where).group_by(key)):
        _add(groups[plain(group)], dict(zip(SUMS, sums, strict=True)), Decimal(1), Decimal(1))


def _add(figures: dict[str, Any], sums: dict[str, Any], revenue_scale: Decimal, cost_scale: Decimal) -> None:
    for name, value in sums.items():
        if name == "revenue":
            figures[name] += Decimal(str(value or 0)) / revenue_scale
        elif name == "cost":
            figures[name] += Decimal(str(value or 0)) / cost_scale
        else:
            figures[name] += int(value or 0)


def middles(key, column, where: list) -> dict[Any, list]:
    """The middle value (odd count) or two (even) of `column` in each group, whose median is the group's: the
    database orders each group, and only those come back."""
    return {group: middle for group, middle, *_ in middle_rows(key, column, where)}


def middle_rows(key, column, where: list, *totals) -> list[tuple]:
    """Per group: its middle value or two of `column`, its size and each of `totals` (aggregates over the group)."""
    ordered = select(key.label("grouped"), column.label("value"),
                     func.row_number().over(partition_by=key, order_by=column).label("position"),
                     func.count().over(partition_by=key).label("size"),
                     *(total.over(partition_by=key) for total in totals)).where(*where, column.is_not(None)).subquery()
    position, size = ordered.c.position, ordered.c.size
    rows: dict[Any, list] = {}
    for group, value, *more in db.session().execute(
            select(ordered.c.grouped, ordered.c.value, *list(ordered.c)[3:]).where(
                position * 2 >= size, position * 2 <= size + 2).order_by(ordered.c.grouped, position)):
        rows.setdefault(group, [group, [], *more])[1].append(value)
    return [tuple(row) for row in rows.values()]


def middle_of(column, where: list, size: int) -> list:
    """The middle value (odd `size`) or two (even) of `column` over the `size` rows passing `where`, read at an
    offset in the column's order (cheap where an index holds the rows in that order)."""
    return list(db.session().scalars(select(column).where(*where).order_by(column)
                                     .offset((size - 1) // 2).limit(2 - size % 2)))


def day(column):
    """The UTC date of a moment `column` (PostgreSQL would take the session's time zone)."""
    if db.session().get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def plain(group: Any) -> Any:
    """A day as the ISO text both backends agree on (SQLite's date() is text, the rollup's a date)."""
    return group.isoformat() if isinstance(group, date) else group
